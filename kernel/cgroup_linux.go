package kernel

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// cgroupRoot is where cgroup v2 is mounted on a unified host; on a hybrid host it is a
// sub-mount.
var cgroupRoots = []string{"/sys/fs/cgroup", "/sys/fs/cgroup/unified"}

// joinCgroup moves the kernel into a cgroup v2 of its own with memory.max and pids.max, when the
// machine delegates the memory and pids controllers to the cgroup the kernel starts in. It
// returns a note saying why not, otherwise "". The client removes the cgroup when the kernel has
// exited (see removeCgroup).
func joinCgroup(l Limits) string {
	if l.CgroupMemory <= 0 && l.CgroupPids <= 0 {
		return ""
	}
	own, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return "cgroup: " + err.Error()
	}
	var rel string
	for _, line := range strings.Split(string(own), "\n") {
		if p, ok := strings.CutPrefix(line, "0::"); ok {
			rel = p
		}
	}
	if rel == "" {
		return "cgroup v2 limits not applied: this machine has no cgroup v2 hierarchy"
	}
	for _, root := range cgroupRoots {
		parent := filepath.Join(root, rel)
		ctrl, err := os.ReadFile(filepath.Join(parent, "cgroup.controllers"))
		if err != nil {
			continue
		}
		fields := strings.Fields(string(ctrl))
		if !contains(fields, "memory") || !contains(fields, "pids") {
			return "cgroup v2 limits not applied: the memory and pids controllers are not delegated to " + parent
		}
		sub, _ := os.ReadFile(filepath.Join(parent, "cgroup.subtree_control"))
		if !bytes.Contains(sub, []byte("memory")) || !bytes.Contains(sub, []byte("pids")) {
			return "cgroup v2 limits not applied: memory and pids are not enabled in " + filepath.Join(parent, "cgroup.subtree_control")
		}
		dir := filepath.Join(parent, "loopbook-kernel-"+strconv.Itoa(os.Getpid()))
		if err := os.Mkdir(dir, 0o755); err != nil {
			return "cgroup v2 limits not applied: " + err.Error()
		}
		write := func(file string, v int64) error {
			if v <= 0 {
				return nil
			}
			return os.WriteFile(filepath.Join(dir, file), []byte(strconv.FormatInt(v, 10)), 0o644)
		}
		if err := write("memory.max", l.CgroupMemory); err != nil {
			os.Remove(dir)
			return "cgroup v2 limits not applied: " + err.Error()
		}
		if err := write("pids.max", l.CgroupPids); err != nil {
			os.Remove(dir)
			return "cgroup v2 limits not applied: " + err.Error()
		}
		if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte("0"), 0o644); err != nil {
			os.Remove(dir)
			return "cgroup v2 limits not applied: " + err.Error()
		}
		return ""
	}
	return fmt.Sprintf("cgroup v2 limits not applied: no cgroup v2 mount holds %s", rel)
}

// removeCgroup removes the cgroup a kernel with this pid made for itself, once it has exited.
func removeCgroup(pid int) {
	own, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(own), "\n") {
		if rel, ok := strings.CutPrefix(line, "0::"); ok {
			for _, root := range cgroupRoots {
				os.Remove(filepath.Join(root, rel, "loopbook-kernel-"+strconv.Itoa(pid)))
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

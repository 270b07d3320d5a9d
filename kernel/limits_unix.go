//go:build linux || darwin

package kernel

import (
	"fmt"
	"runtime/debug"

	"golang.org/x/sys/unix"
)

// applyLimits limits the kernel process itself, before any user code runs, and returns notes
// on what could not be applied (shown in the kernel's starting status).
func applyLimits(l Limits) []string {
	var notes []string
	if l.MaxStack > 0 {
		debug.SetMaxStack(l.MaxStack)
	}
	if l.MemoryLimit > 0 {
		debug.SetMemoryLimit(l.MemoryLimit)
	}
	if l.GCPercent > 0 {
		debug.SetGCPercent(l.GCPercent)
	}
	set := func(res int, v uint64, name string) {
		if v == 0 {
			return
		}
		var cur unix.Rlimit
		if err := unix.Getrlimit(res, &cur); err == nil && cur.Max != unix.RLIM_INFINITY && cur.Max < v {
			v = cur.Max
		}
		if err := unix.Setrlimit(res, &unix.Rlimit{Cur: v, Max: v}); err != nil {
			notes = append(notes, fmt.Sprintf("%s not set: %v", name, err))
		}
	}
	set(unix.RLIMIT_AS, l.AddressSpace, "RLIMIT_AS")
	set(unix.RLIMIT_NOFILE, l.NoFile, "RLIMIT_NOFILE")
	if note := joinCgroup(l); note != "" {
		notes = append(notes, note)
	}
	return notes
}

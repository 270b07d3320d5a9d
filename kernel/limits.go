package kernel

import (
	"flag"
	"strconv"
)

// Limits are what a kernel process allows itself (DESIGN §3, reference security.md): user code
// that recurses for ever, allocates without end or opens every fd must kill its own kernel
// quickly and visibly, never the server or the machine.
type Limits struct {
	MaxStack    int   // bytes a goroutine stack may grow to (debug.SetMaxStack): runaway recursion dies fast
	MemoryLimit int64 // soft limit of the Go heap (debug.SetMemoryLimit): the GC works harder near it
	// GCPercent is the kernel's GOGC (debug.SetGCPercent). Interpreted code allocates on every
	// call (yaegi frames, reflect arguments) while the kernel's live heap is small, so at Go's
	// default of 100 the collector runs every few megabytes and took a sixth of an interpreted
	// callback chain. A higher value trades a few megabytes of heap while cells run for that time;
	// MemoryLimit still bounds the heap, and an idle kernel gives the memory back (trim.go).
	GCPercent    int
	AddressSpace uint64 // RLIMIT_AS backstop: a huge allocation fails at once (a Go process maps ~1.6 GiB at start)
	NoFile       uint64 // RLIMIT_NOFILE
	CgroupMemory int64  // memory.max of the kernel's own cgroup v2, where the machine delegates one
	CgroupPids   int64  // pids.max of that cgroup
	// VirtualTime starts the shared loop in virtual time: when nothing is ready and no I/O is
	// pending, time jumps to the next timer (golden runs of notebooks whose lesson is not timing).
	VirtualTime bool
}

// DefaultLimits are the limits of a notebook kernel.
func DefaultLimits() Limits {
	return Limits{
		MaxStack:     32 << 20,
		MemoryLimit:  1 << 30,
		GCPercent:    400,
		AddressSpace: 6 << 30,
		NoFile:       1024,
		CgroupMemory: 2 << 30,
		CgroupPids:   512,
	}
}

func (l *Limits) flags(fs *flag.FlagSet) {
	fs.IntVar(&l.MaxStack, "max-stack", l.MaxStack, "goroutine stack limit in bytes")
	fs.Int64Var(&l.MemoryLimit, "memory-limit", l.MemoryLimit, "soft Go heap limit in bytes")
	fs.IntVar(&l.GCPercent, "gc-percent", l.GCPercent, "the kernel's GOGC (0: Go's default)")
	fs.Uint64Var(&l.AddressSpace, "address-space", l.AddressSpace, "RLIMIT_AS in bytes (0: unchanged)")
	fs.Uint64Var(&l.NoFile, "nofile", l.NoFile, "RLIMIT_NOFILE (0: unchanged)")
	fs.Int64Var(&l.CgroupMemory, "cgroup-memory", l.CgroupMemory, "cgroup v2 memory.max in bytes (0: none)")
	fs.Int64Var(&l.CgroupPids, "cgroup-pids", l.CgroupPids, "cgroup v2 pids.max (0: none)")
	fs.BoolVar(&l.VirtualTime, "virtual-time", l.VirtualTime, "run the loop in virtual time")
}

// args renders the limits as the kernel's command-line flags.
func (l Limits) args() []string {
	return []string{
		"-max-stack=" + strconv.Itoa(l.MaxStack),
		"-memory-limit=" + strconv.FormatInt(l.MemoryLimit, 10),
		"-gc-percent=" + strconv.Itoa(l.GCPercent),
		"-address-space=" + strconv.FormatUint(l.AddressSpace, 10),
		"-nofile=" + strconv.FormatUint(l.NoFile, 10),
		"-cgroup-memory=" + strconv.FormatInt(l.CgroupMemory, 10),
		"-cgroup-pids=" + strconv.FormatInt(l.CgroupPids, 10),
		"-virtual-time=" + strconv.FormatBool(l.VirtualTime),
	}
}

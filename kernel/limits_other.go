//go:build unix && !linux && !darwin

package kernel

import "runtime/debug"

// applyLimits applies the Go runtime's limits; rlimits are set on Linux and macOS only.
func applyLimits(l Limits) []string {
	if l.MaxStack > 0 {
		debug.SetMaxStack(l.MaxStack)
	}
	if l.MemoryLimit > 0 {
		debug.SetMemoryLimit(l.MemoryLimit)
	}
	if l.GCPercent > 0 {
		debug.SetGCPercent(l.GCPercent)
	}
	return []string{"rlimits are applied on Linux and macOS only"}
}

//go:build !(linux && amd64)

package loop

// Elsewhere the timeline's stamps read the runtime's clock (see stamp.go).

func tscUsable() bool { return false }

func rdtsc() uint64 { return 0 }

package loop

import (
	"os"
	"strings"
	"sync"
)

// rdtsc reads the processor's time-stamp counter (tsc_linux_amd64.s).
//
//go:noescape
func rdtsc() uint64

var (
	tscOnce sync.Once
	tscOK   bool
)

// tscUsable reports whether stamps may be interpolated from the TSC: when the kernel itself
// keeps time with it. Linux picks the "tsc" clocksource only for a counter that runs at a
// constant rate, does not stop in idle states and is synchronised across CPUs (it falls back to
// another source when its checks fail), which is what a clock read on whichever CPU the loop's
// goroutine runs needs.
func tscUsable() bool {
	tscOnce.Do(func() {
		b, err := os.ReadFile("/sys/devices/system/clocksource/clocksource0/current_clocksource")
		tscOK = err == nil && strings.TrimSpace(string(b)) == "tsc"
		if tscOK {
			tscOrigin = tscPair{ticks: rdtsc(), ns: nanotime()}
		}
	})
	return tscOK
}

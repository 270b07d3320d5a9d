package loop

import (
	"math/bits"
	"time"
)

// The loop stamps the end of every callback on the event stream's timeline, so a clock reading is
// part of every hop of every chain and every await. The runtime's clock (nanotime, a vDSO call
// that switches to the system stack) costs about 25 ns on the machines Loopbook is measured on;
// the processor's time-stamp counter, which that clock itself reads, costs about 10. So where
// the kernel keeps time with the TSC (its clocksource is "tsc": the counter is invariant and
// synchronised across CPUs, see tsc_linux_amd64.go), a stamp is the counter's ticks since an
// anchor, converted to nanoseconds with a rate the loop measures against the runtime's clock.
//
// Only the timeline's stamps are interpolated. Everything that is loop time (Time, the timers
// step, the poll timeout) reads the runtime's clock exactly, and each such reading re-anchors the
// stamps. An anchor serves at most stampsPerAnchor stamps and stampSpan of time, so the rate's
// error (parts per million once calibrated) moves a stamp by nanoseconds, and the tracer keeps
// the timeline monotonic across anchors (tracer.stamp).
const (
	stampsPerAnchor = 256
	stampSpan       = time.Millisecond
	// calibrateAfter: the rate is first measured over this much time since the process's first
	// loop, then again each time that span has doubled; before that, stamps read the clock.
	calibrateAfter = 2 * time.Millisecond
)

// tscPair is a reading of the counter and of the runtime's clock taken together.
type tscPair struct {
	ticks uint64
	ns    int64
}

// tscOrigin is the pair taken when the first loop of the process was made (by tscUsable); every
// loop measures the rate from it. Written once, before any loop reads it.
var tscOrigin tscPair

// stamper is the interpolation state of one loop's clock; loop goroutine only.
type stamper struct {
	on    bool          // the TSC is usable and no clock was injected
	ns0   time.Duration // trace time at the anchor
	tsc0  uint64        // the counter at the anchor
	mult  uint64        // nanoseconds per tick, 32.32 fixed point; 0 until calibrated
	span  uint64        // stampSpan in ticks
	left  int32         // stamps the anchor still serves
	recal time.Duration // time since the origin at which to measure the rate again
}

// stamp returns the trace time for the timeline: interpolated from the anchor when it can be,
// else read (and re-anchored) exactly.
func (c *clock) stamp() time.Duration {
	s := &c.st
	if s.left > 0 {
		// A counter that went backwards wraps to a huge d and fails the span check.
		if d := rdtsc() - s.tsc0; d < s.span {
			s.left--
			hi, lo := bits.Mul64(d, s.mult)
			return s.ns0 + time.Duration(hi<<32|lo>>32)
		}
	}
	return c.anchor()
}

// anchor reads the clock exactly and, when stamps are interpolated, makes the reading their new
// anchor. Loop goroutine only; other goroutines use trace.
func (c *clock) anchor() time.Duration {
	s := &c.st
	if !s.on {
		return c.trace()
	}
	ticks := rdtsc()
	now := c.trace()
	s.ns0, s.tsc0 = now, ticks
	if since := time.Duration(c.start+int64(now)) - time.Duration(tscOrigin.ns); since >= s.recal {
		s.calibrate(since, ticks-tscOrigin.ticks)
	}
	if s.mult != 0 {
		s.left = stampsPerAnchor
	}
	return now
}

// calibrate measures the rate from the process's origin pair to this anchor: the longer the
// baseline, the smaller the error of the pairs' own readings in it.
func (s *stamper) calibrate(since time.Duration, ticks uint64) {
	s.recal = 2 * since
	ns := uint64(since)
	if ticks == 0 || ns>>32 >= ticks {
		return // a counter that does not advance faster than a tick per 2^32 ns is not usable
	}
	s.mult, _ = bits.Div64(ns>>32, ns<<32, ticks)
	if s.mult == 0 {
		return
	}
	hi, lo := uint64(stampSpan)>>32, uint64(stampSpan)<<32
	if hi >= s.mult {
		s.mult = 0
		return
	}
	s.span, _ = bits.Div64(hi, lo, s.mult)
}

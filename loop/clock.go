package loop

import (
	"time"
	_ "unsafe" // for go:linkname
)

// clock is the loop's time source. Trace time is real monotonic time since the loop was created;
// it stamps events and measures callbacks. Loop time (Time, CallAt) equals trace time plus an
// offset, or, in virtual time, stands still until the loop jumps it to the next timer. Switching
// between the two keeps loop time monotonic. One reading of the real clock serves both.
type clock struct {
	start   int64                // trace time zero, a nanotime reading; never changes
	source  func() time.Duration // Options.Clock, if one was injected
	base    time.Duration        // source's reading at New: trace time zero for it
	virtual bool
	offset  time.Duration // loop time minus trace time, in real mode
	vnow    time.Duration // loop time, in virtual mode
	st      stamper       // the timeline's cheaper readings (stamp.go)
}

func (c *clock) init(virtual bool, source func() time.Duration) {
	c.start = nanotime()
	c.virtual = virtual
	if source != nil {
		c.source, c.base = source, source()
	}
	c.st.on = source == nil && tscUsable()
	c.st.recal = calibrateAfter // a shorter baseline would give the rate too large an error
}

// trace reads the real (or injected) clock. Goroutine-safe: Current uses it.
func (c *clock) trace() time.Duration {
	if c.source != nil {
		return c.source() - c.base
	}
	return time.Duration(nanotime() - c.start)
}

// nanotime is the Go runtime's monotonic clock in nanoseconds, the reading inside time.Now and
// time.Since. The loop reads the clock after every callback (for the event stream's timeline), so
// the reading's cost is part of every hop: called directly, it skips time.Since's wrapping (the
// wall clock fields and the testing/synctest check), a few nanoseconds of a 25 ns read. The
// runtime keeps this name for code outside the standard library ("go:linkname"-able by design).
//
//go:linkname nanotime runtime.nanotime
func nanotime() int64

// at converts a trace-time reading to loop time.
func (c *clock) at(tr time.Duration) time.Duration {
	if c.virtual {
		return c.vnow
	}
	return c.offset + tr
}

func (c *clock) now() time.Duration {
	if c.virtual {
		return c.vnow
	}
	return c.offset + c.trace()
}

func (c *clock) advanceTo(t time.Duration) {
	if t > c.vnow {
		c.vnow = t
	}
}

func (c *clock) setVirtual(on bool) {
	if on == c.virtual {
		return
	}
	if on {
		c.vnow = c.now()
	} else {
		c.offset = c.vnow - c.trace()
	}
	c.virtual = on
}

// SetVirtualTime switches virtual time on or off. In virtual time, when nothing is ready and no
// I/O or executor work is pending, the clock jumps to the next timer, so timers fire at once and
// in order and a run is deterministic. Loop time stays monotonic across the switch.
func (l *Loop) SetVirtualTime(on bool) { l.clock.setVirtual(on) }

// VirtualTime reports whether the loop runs on virtual time.
func (l *Loop) VirtualTime() bool { return l.clock.virtual }

package loop_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/loopbook/loopbook/loop"
)

// TestOptionsClock drives the loop from an injected clock: timers become due exactly when the
// injected time passes them, and per-iteration summaries report the injected durations.
func TestOptionsClock(t *testing.T) {
	var now atomic.Int64 // ns of the injected clock
	now.Store(int64(5 * time.Hour))
	l, err := loop.New(loop.Options{Clock: func() time.Duration { return time.Duration(now.Load()) }})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if got := l.Time(); got != 0 {
		t.Fatalf("Time() at start = %v; want 0 (loop time counts from New)", got)
	}
	var fired []time.Duration
	l.CallLater(time.Second, func() { fired = append(fired, l.Time()); l.Stop() })
	// Each callback advances the injected clock by 100ms, so the timer is due after 10 of them.
	var tick func()
	tick = func() {
		now.Add(int64(100 * time.Millisecond))
		if len(fired) == 0 {
			l.CallSoon(tick)
		}
	}
	l.CallSoon(tick)
	if err := l.RunForever(); err != nil {
		t.Fatal(err)
	}
	if len(fired) != 1 || fired[0] < time.Second || fired[0] > 1100*time.Millisecond {
		t.Fatalf("timer fired at %v; want once, between 1s and 1.1s of injected time", fired)
	}
	evs, _, _ := l.Events(0, nil)
	its := loop.Summarize(evs)
	if len(its) < 10 {
		t.Fatalf("got %d iteration summaries; want at least 10", len(its))
	}
	var ran int
	for i, it := range its {
		ran += it.Ran
		if i > 0 && it.N != its[i-1].N+1 {
			t.Fatalf("summary %d has N=%d after N=%d: iterations missing", i, it.N, its[i-1].N)
		}
		if it.Ran > 0 && it.End-it.Start < 100*time.Millisecond {
			t.Errorf("iteration %d ran %d callbacks in %v of injected time; each advances it 100ms", it.N, it.Ran, it.End-it.Start)
		}
	}
	if ran < 11 {
		t.Errorf("summaries count %d callbacks run; want the 10+ ticks and the timer", ran)
	}
}

// A poll that cannot wait (timeout 0) and precedes no timers step is not timed: its EvPoll has
// B = 0 and carries the latest reading, so its cost counts as busy time. A poll that may wait, or
// one before a timers step, is timed. The injected clock advances a millisecond per reading.
func TestZeroTimeoutPollUntimed(t *testing.T) {
	var now atomic.Int64
	l, err := loop.New(loop.Options{Clock: func() time.Duration { return time.Duration(now.Add(int64(time.Millisecond))) }})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c, _ := skPair(t)
	if _, err := l.AddReader(c.Fileno(), func() {}); err != nil { // watched, never readable
		t.Fatal(err)
	}
	defer l.RemoveReader(c.Fileno())
	hops := 0
	var far *loop.TimerHandle
	var hop func()
	hop = func() {
		hops++
		switch hops {
		case 3: // from now on a timer is pending: zero-timeout polls are timed
			far, _ = l.CallLater(time.Hour, func() {})
		case 6: // a poll that waits, until this timer
			far.Cancel()
			l.CallLater(5*time.Millisecond, l.Stop)
			return
		}
		l.CallSoon(hop)
	}
	l.CallSoon(hop)
	if err := l.RunForever(); err != nil {
		t.Fatal(err)
	}
	evs, _, _ := l.Events(0, nil)
	var untimed, timed, waited int
	var last time.Duration // the latest stamp before each event
	timerPending := false
	for _, e := range evs {
		switch {
		case e.Kind == loop.EvSchedule && e.A != 0:
			timerPending = true
		case e.Kind == loop.EvPoll && e.A == 0 && !timerPending:
			untimed++
			if e.B != 0 || e.T != last {
				t.Errorf("zero-timeout poll without timers %+v: want B = 0 and T = %v, the reading before it", e, last)
			}
		case e.Kind == loop.EvPoll && e.A == 0:
			timed++
			if e.B < time.Millisecond.Nanoseconds() || e.T <= last {
				t.Errorf("zero-timeout poll before a timers step %+v: want it timed (after %v)", e, last)
			}
		case e.Kind == loop.EvPoll:
			waited++
			if e.B < time.Millisecond.Nanoseconds() {
				t.Errorf("waiting poll %+v: want it timed", e)
			}
		}
		if e.T != 0 {
			last = e.T
		}
	}
	if untimed < 2 || timed < 2 || waited < 1 {
		t.Errorf("polls: %d untimed, %d timed with timeout 0, %d waiting; want at least 2, 2, 1", untimed, timed, waited)
	}
}

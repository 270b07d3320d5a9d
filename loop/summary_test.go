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

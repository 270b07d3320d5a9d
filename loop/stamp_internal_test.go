package loop

import (
	"math/bits"
	"testing"
	"time"
)

// TestStamperConversion: the rate measured over a baseline converts ticks back to nanoseconds,
// and a counter that cannot be used leaves the stamps on the exact clock.
func TestStamperConversion(t *testing.T) {
	tests := []struct {
		name    string
		since   time.Duration
		ticks   uint64
		convert uint64        // ticks to convert with the measured rate
		want    time.Duration // what they are worth
		usable  bool
	}{
		{"2.6 GHz", 10 * time.Millisecond, 26_000_000, 2_600_000, time.Millisecond, true},
		{"1 GHz, long baseline", time.Hour, uint64(time.Hour), 12345, 12345, true},
		{"3.1 GHz", 7 * time.Millisecond, 21_700_000, 31_000, 10 * time.Microsecond, true},
		{"counter stood still", 10 * time.Millisecond, 0, 1, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s stamper
			s.calibrate(tt.since, tt.ticks)
			if s.recal != 2*tt.since {
				t.Errorf("next calibration at %v, want %v", s.recal, 2*tt.since)
			}
			if got := s.mult != 0; got != tt.usable {
				t.Fatalf("usable = %v, want %v", got, tt.usable)
			}
			if !tt.usable {
				return
			}
			hi, lo := bits.Mul64(tt.convert, s.mult)
			got := time.Duration(hi<<32 | lo>>32)
			if d := got - tt.want; d < -1 || d > 1 {
				t.Errorf("%d ticks = %v, want %v", tt.convert, got, tt.want)
			}
			// The span is stampSpan in ticks, within a tick.
			hi, lo = bits.Mul64(s.span, s.mult)
			if d := time.Duration(hi<<32|lo>>32) - stampSpan; d < -2 || d > 2 {
				t.Errorf("span of %d ticks is %v, want %v", s.span, time.Duration(hi<<32|lo>>32), stampSpan)
			}
		})
	}
}

// TestStampsFollowTheClock runs callbacks, some of which sleep past an anchor's span, and checks
// the EvRun stamp of each against exact readings taken inside the callbacks: a callback's end is
// stamped after its last reading and before the next callback's first, and the timeline never
// goes back. Where the TSC is usable the stamps are interpolated (checked: the rate was measured).
func TestStampsFollowTheClock(t *testing.T) {
	l, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	const n = 3000
	begin, end := make([]time.Duration, n), make([]time.Duration, n)
	ids := make(map[uint64]int, n)
	var step func(i int) func()
	step = func(i int) func() {
		return func() {
			begin[i] = l.clock.trace()
			switch {
			case i%500 == 0:
				time.Sleep(3 * time.Millisecond) // longer than an anchor's span and the first calibration
			case i%10 == 5:
				// Busy for 100 µs: an anchor's stamps then span up to its full millisecond, over
				// which a wrong rate would show.
				for l.clock.trace()-begin[i] < 100*time.Microsecond {
				}
			}
			if i+1 < n {
				h, err := l.CallSoon(step(i + 1))
				if err != nil {
					t.Error(err)
				}
				ids[h.ID] = i + 1
			} else {
				l.Stop()
			}
			end[i] = l.clock.trace()
		}
	}
	h, err := l.CallSoon(step(0))
	if err != nil {
		t.Fatal(err)
	}
	ids[h.ID] = 0
	if err := l.RunForever(); err != nil {
		t.Fatal(err)
	}
	if tscUsable() && l.clock.st.mult == 0 {
		t.Error("the TSC is usable but the stamps were never interpolated")
	}

	// An interpolated stamp is off by the rate's error over at most a millisecond: nanoseconds.
	// The slack is a thousand times that, and preemption can only widen the windows.
	const slack = 20 * time.Microsecond
	evs, _, lost := l.Events(0, nil)
	if lost > 0 {
		t.Fatalf("lost %d chunks", lost)
	}
	var last time.Duration
	seen := 0
	for _, e := range evs {
		if e.T != 0 {
			if e.T < last {
				t.Fatalf("event %d (%s) at %v, before the previous stamp %v", e.Seq, e.Kind, e.T, last)
			}
			last = e.T
		}
		i, ok := ids[e.ID]
		if e.Kind != EvRun || !ok {
			continue
		}
		seen++
		lo, hi := end[i]-slack, time.Duration(1<<62)
		if i+1 < n {
			hi = begin[i+1] + slack
		}
		if e.T < lo || e.T > hi {
			t.Errorf("callback %d ended at %v by the clock, the next began at %v; stamped %v", i, end[i], begin[min(i+1, n-1)], e.T)
		}
	}
	if seen != n {
		t.Errorf("saw %d runs, want %d", seen, n)
	}
}

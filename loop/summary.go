package loop

import "time"

// Iteration summarises one pass of the loop, as libuv's metrics and Node's event-loop
// utilisation do: how long it polled and for how long it was allowed to, what woke it, and how
// much work it did.
type Iteration struct {
	N            uint64
	Start, End   time.Duration // trace time
	PollTimeout  time.Duration // -1: infinite; 0: the poll only looked
	PollDuration time.Duration // time spent in the poll (the loop's idle time)
	Polled       bool          // false when no syscall was needed
	FdEvents     int
	TimersFired  int
	Ready        int // callbacks in the ready batch
	Ran          int // callbacks that ran (cancelled ones are skipped)
}

// Busy returns the time the iteration spent outside the poll.
func (it Iteration) Busy() time.Duration { return it.End - it.Start - it.PollDuration }

// Summarize folds events (as returned by Events) into per-iteration summaries. Iterations cut
// by the start or end of events are left out.
func Summarize(events []Event) []Iteration {
	var out []Iteration
	var cur *Iteration
	for _, e := range events {
		switch e.Kind {
		case EvIterStart:
			cur = &Iteration{N: uint64(e.A), Start: e.T}
		case EvPoll:
			if cur != nil {
				cur.Polled = true
				cur.PollTimeout = time.Duration(e.A)
				cur.PollDuration = time.Duration(e.B)
				cur.FdEvents = int(e.Fd)
			}
		case EvReadyStart:
			if cur != nil {
				cur.Ready = int(e.A)
				cur.TimersFired = int(e.B)
			}
		case EvIterEnd:
			if cur != nil && cur.N == uint64(e.A) {
				cur.Ran = int(e.B)
				cur.End = e.T
				out = append(out, *cur)
			}
			cur = nil
		}
	}
	return out
}

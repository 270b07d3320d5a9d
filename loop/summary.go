package loop

import "time"

// Iteration summarises one pass of the loop, as libuv's metrics and Node's event-loop
// utilisation do: how long it polled and for how long it was allowed to, what woke it, and how
// much work it did.
type Iteration struct {
	N            uint64
	Start, End   time.Duration // trace time
	PollTimeout  time.Duration // -1: infinite; 0: the poll only looked
	PollDuration time.Duration // time spent in the poll (the loop's idle time); 0 for an untimed zero-timeout poll (see EvPoll)
	Polled       bool          // false when no syscall was needed
	FdEvents     int
	TimersFired  int
	Ready        int // callbacks in the ready batch
	Ran          int // callbacks that ran (cancelled ones are skipped)
}

// Busy returns the time the iteration spent outside the poll.
func (it Iteration) Busy() time.Duration { return it.End - it.Start - it.PollDuration }

// Summarize folds events (as returned by Events) into per-iteration summaries. An iteration
// whose start was cut off by the beginning of events is left out.
func Summarize(events []Event) []Iteration {
	var out []Iteration
	var cur Iteration
	complete := false // cur has seen everything since the previous iteration's end
	for _, e := range events {
		switch e.Kind {
		case EvPoll:
			cur.Polled = true
			cur.PollTimeout = time.Duration(e.A)
			cur.PollDuration = time.Duration(e.B)
			cur.FdEvents = int(e.Fd)
		case EvTimerDue:
			cur.TimersFired++
		case EvIterEnd:
			cur.N, cur.Start, cur.End = uint64(e.A), time.Duration(e.B), e.T
			cur.Ready, cur.Ran = int(e.ID), int(e.Fd)
			if complete {
				out = append(out, cur)
			}
			cur, complete = Iteration{}, true
		}
	}
	return out
}

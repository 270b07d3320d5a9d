package kernel

import (
	"bytes"
	"encoding/json"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/loopbook/loopbook/loop"
)

// The monitor is the loop panel's source: a goroutine of the kernel that reads the shared loop's
// event stream and state without ever blocking it, and sends a frame (the changes since the last
// one) frameEvery while anything happens. It reads from its own goroutine, so the picture stays
// live while a callback blocks the loop — which is when the watchdog line matters.

const (
	frameEvery = 50 * time.Millisecond
	maxRuns    = 400 // callbacks per frame kept for the timeline (the rest are counted)
	maxItems   = 200 // entries per list of a state
)

// Frame is one update of the loop panel.
type Frame struct {
	Seq     uint64       `json:"seq"`
	Time    float64      `json:"time"` // loop time, seconds
	Trace   float64      `json:"trace"`
	Iter    uint64       `json:"iter"`
	Paused  bool         `json:"paused"`
	Virtual bool         `json:"virtual"`
	Iters   []FrameIter  `json:"iters,omitempty"` // iterations that ended since the last frame
	Runs    []FrameRun   `json:"runs,omitempty"`  // callbacks that ran since the last frame
	Dropped int          `json:"dropped,omitempty"`
	Marks   []FrameMark  `json:"marks,omitempty"`
	Lost    uint64       `json:"lost,omitempty"` // events the monitor could not read in time
	Current *FrameRun    `json:"current,omitempty"`
	State   *FrameState  `json:"state,omitempty"` // only when it changed
	Health  *FrameHealth `json:"health,omitempty"`
}

// FrameIter is one iteration, in asyncio's steps.
type FrameIter struct {
	N           uint64  `json:"n"`
	Start       float64 `json:"start"` // trace time, ms
	End         float64 `json:"end"`
	PollTimeout float64 `json:"poll_timeout"` // ms; -1 infinite
	Poll        float64 `json:"poll"`         // ms spent polling
	Polled      bool    `json:"polled"`
	Fds         int     `json:"fds"`
	Timers      int     `json:"timers"`
	Ready       int     `json:"ready"`
	Ran         int     `json:"ran"`
}

// FrameRun is a callback that ran (or runs now): its label, owner (the cell run) and where it
// was created.
type FrameRun struct {
	ID    uint64  `json:"id"`
	Name  string  `json:"name"`
	Owner int64   `json:"owner"`
	Site  string  `json:"site,omitempty"`
	Start float64 `json:"start"` // trace ms
	End   float64 `json:"end,omitempty"`
	For   float64 `json:"for,omitempty"` // for the current callback: ms it has been running
}

// FrameMark is an fd becoming ready or a timer falling due.
type FrameMark struct {
	Kind string  `json:"kind"` // fd, timer
	T    float64 `json:"t"`
	ID   uint64  `json:"id"`
	Fd   int32   `json:"fd,omitempty"`
	Dir  uint8   `json:"dir,omitempty"`
}

// FrameState is what the loop holds.
type FrameState struct {
	Ready    []FrameItem    `json:"ready"`
	Timers   []FrameItem    `json:"timers"`
	Watchers []FrameWatcher `json:"watchers"`
	Tasks    []FrameTask    `json:"tasks"`
	More     map[string]int `json:"more,omitempty"` // entries left out of a list
}

// FrameItem is a handle, timer, future or task.
type FrameItem struct {
	ID    uint64  `json:"id"`
	Kind  string  `json:"kind"`
	Name  string  `json:"name"`
	Owner int64   `json:"owner"`
	Site  string  `json:"site,omitempty"`
	When  float64 `json:"when,omitempty"` // timers: due, loop seconds
}

// FrameWatcher is a watched fd.
type FrameWatcher struct {
	Fd     int        `json:"fd"`
	Reader *FrameItem `json:"reader,omitempty"`
	Writer *FrameItem `json:"writer,omitempty"`
	Reads  uint64     `json:"reads"`
	Writes uint64     `json:"writes"`
}

// FrameTask is a task and what it awaits.
type FrameTask struct {
	FrameItem
	State     string     `json:"state"`
	Awaiting  *FrameItem `json:"awaiting,omitempty"`
	AwaitSite string     `json:"await_site,omitempty"`
	Steps     uint64     `json:"steps"`
}

// FrameHealth is how the loop has been doing since the last frame.
type FrameHealth struct {
	Busy      float64 `json:"busy"` // fraction of the time outside the poll
	Lag       float64 `json:"lag"`  // ms: the longest iteration's busy time
	IterPerS  float64 `json:"iter_per_s"`
	CallsPerS float64 `json:"calls_per_s"`
}

type monitor struct {
	l      *loop.Loop
	send   func(Message)
	cursor uint64
	seq    uint64
	buf    []loop.Event
	last   []byte // last state sent
	snap   atomic.Pointer[loop.Snapshot]
	asked  atomic.Bool
	prevT  time.Duration
	quiet  int                               // frames with nothing new
	line   func() (count, line int, ok bool) // the cell statement running now (interp.Session.Line)
}

func newMonitor(l *loop.Loop, send func(Message)) *monitor {
	return &monitor{l: l, send: send, buf: make([]loop.Event, 0, 4096)}
}

func (m *monitor) run() {
	t := time.NewTicker(frameEvery)
	defer t.Stop()
	for range t.C {
		if m.l.IsClosed() {
			return
		}
		m.frame()
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func site(s *loop.Site) string {
	if s == nil {
		return ""
	}
	return s.String()
}

func itemOf(in loop.Item) FrameItem {
	it := FrameItem{ID: in.ID, Kind: in.Kind.String(), Name: in.Name, Owner: int64(in.Owner), Site: site(in.Site)}
	if in.When != 0 {
		it.When = in.When.Seconds()
	}
	return it
}

// frame reads what happened since the last frame and sends it, if anything did.
func (m *monitor) frame() {
	events, next, lost := m.l.Events(m.cursor, m.buf[:0])
	m.cursor = next
	f := Frame{Iter: m.l.Iterations(), Paused: m.l.Paused(), Virtual: m.l.VirtualTime(), Lost: lost}
	var lastT time.Duration
	activity := 0 // callbacks, fd readiness, timers: what can change the state
	start := map[uint64]time.Duration{}
	prevEnd := time.Duration(-1)
	for _, e := range events {
		lastT = max(lastT, e.T)
		switch e.Kind {
		case loop.EvRun:
			activity++
			begin := prevEnd
			if begin < 0 {
				begin = e.T
			}
			if len(f.Runs) < maxRuns {
				r := FrameRun{ID: e.ID, Start: ms(begin), End: ms(e.T)}
				if e.Info != nil {
					r.Name, r.Owner, r.Site = e.Info.Label(), int64(e.Info.Owner), site(e.Info.Site)
				}
				f.Runs = append(f.Runs, r)
			} else {
				f.Dropped++
			}
			prevEnd = e.T
		case loop.EvPoll:
			prevEnd = e.T
		case loop.EvIterEnd:
			start[uint64(e.A)] = time.Duration(e.B)
			prevEnd = e.T
		case loop.EvFdReady:
			activity++
			f.Marks = append(f.Marks, FrameMark{Kind: "fd", T: ms(e.T), ID: e.ID, Fd: e.Fd, Dir: e.Dir})
		case loop.EvTimerDue:
			activity++
			f.Marks = append(f.Marks, FrameMark{Kind: "timer", T: ms(e.T), ID: e.ID})
		}
	}
	iters := loop.Summarize(events)
	var busy, span, lag time.Duration
	calls := 0
	for _, it := range iters {
		f.Iters = append(f.Iters, FrameIter{N: it.N, Start: ms(it.Start), End: ms(it.End), PollTimeout: pollMS(it.PollTimeout),
			Poll: ms(it.PollDuration), Polled: it.Polled, Fds: it.FdEvents, Timers: it.TimersFired, Ready: it.Ready, Ran: it.Ran})
		busy += it.Busy()
		span += it.End - it.Start
		lag = max(lag, it.Busy())
		calls += it.Ran
	}
	if len(f.Iters) > 64 {
		f.Iters = f.Iters[len(f.Iters)-64:]
	}
	if cb, ok := m.l.Current(); ok {
		r := FrameRun{ID: cb.Info.ID, Name: cb.Info.Label(), Owner: int64(cb.Info.Owner), Site: site(cb.Info.Site), Start: ms(cb.Since), For: ms(cb.For)}
		// A cell's own code: name the statement it is running ("In[4]:3").
		if m.line != nil {
			if count, line, ok := m.line(); ok && int64(count) == r.Owner {
				r.Site = "In[" + strconv.Itoa(count) + "]:" + strconv.Itoa(line)
			}
		}
		f.Current = &r
	}
	elapsed := lastT - m.prevT
	if len(events) > 0 && elapsed > 0 {
		f.Health = &FrameHealth{Lag: ms(lag), IterPerS: float64(len(iters)) / elapsed.Seconds(), CallsPerS: float64(calls) / elapsed.Seconds()}
		if span > 0 {
			f.Health.Busy = float64(busy) / float64(span)
		}
		m.prevT = lastT
	}
	// The state comes from a snapshot the loop takes at its next boundary; while a callback
	// blocks the loop, the last one stands. Only something that ran can change the state, so an
	// idle loop is not asked (asking wakes it: an idle loop would never look idle).
	if (activity > 0 || m.snap.Load() == nil) && !m.asked.Swap(true) {
		m.l.Inspect(func(l *loop.Loop) {
			s := l.Snapshot()
			m.snap.Store(&s)
			m.asked.Store(false)
		})
	}
	if s := m.snap.Load(); s != nil {
		f.Time = s.Time.Seconds()
		st := stateOf(s)
		b, _ := json.Marshal(st)
		if !bytes.Equal(b, m.last) {
			m.last = b
			f.State = st
		}
	}
	if activity == 0 && f.State == nil && f.Current == nil {
		m.quiet++
		if m.quiet > 1 {
			return // nothing new: no frame
		}
	} else {
		m.quiet = 0
	}
	m.seq++
	f.Seq = m.seq
	b, err := json.Marshal(f)
	if err != nil {
		return
	}
	m.send(Message{Type: MsgLoop, Loop: b})
}

func pollMS(d time.Duration) float64 {
	if d < 0 {
		return -1
	}
	return ms(d)
}

func stateOf(s *loop.Snapshot) *FrameState {
	st := &FrameState{Ready: []FrameItem{}, Timers: []FrameItem{}, Watchers: []FrameWatcher{}, Tasks: []FrameTask{}}
	more := func(name string, n int) {
		if n > maxItems {
			if st.More == nil {
				st.More = map[string]int{}
			}
			st.More[name] = n - maxItems
		}
	}
	for i, it := range s.Ready {
		if i == maxItems {
			break
		}
		st.Ready = append(st.Ready, itemOf(it))
	}
	more("ready", len(s.Ready))
	for i, it := range s.Timers {
		if i == maxItems {
			break
		}
		st.Timers = append(st.Timers, itemOf(it))
	}
	more("timers", len(s.Timers))
	for _, w := range s.Watchers {
		fw := FrameWatcher{Fd: w.Fd, Reads: w.ReadFires, Writes: w.WriteFires}
		if w.Reader != nil {
			r := itemOf(*w.Reader)
			fw.Reader = &r
		}
		if w.Writer != nil {
			r := itemOf(*w.Writer)
			fw.Writer = &r
		}
		st.Watchers = append(st.Watchers, fw)
	}
	for i, t := range s.Tasks {
		if i == maxItems {
			break
		}
		ft := FrameTask{FrameItem: itemOf(t.Item), State: t.State, AwaitSite: site(t.AwaitSite), Steps: t.Steps}
		if t.Awaiting != nil {
			a := itemOf(*t.Awaiting)
			ft.Awaiting = &a
		}
		st.Tasks = append(st.Tasks, ft)
	}
	more("tasks", len(s.Tasks))
	return st
}

// loopControl applies a panel control to the shared loop.
func (k *kernel) loopControl(req Request) string {
	l := k.l
	switch req.Action {
	case "pause":
		l.Pause()
	case "resume":
		l.Resume()
	case "step_iteration":
		l.StepIteration()
	case "step_callback":
		l.StepCallback()
	case "slow_motion":
		l.SetSlowMotion(time.Duration(req.Value * float64(time.Millisecond)))
	case "virtual_time":
		on := req.Value != 0
		l.Inspect(func(l *loop.Loop) { l.SetVirtualTime(on) })
	default:
		return "unknown loop control " + strconv.Quote(req.Action)
	}
	return ""
}

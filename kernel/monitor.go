package kernel

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"weak"

	yaegi "github.com/traefik/yaegi/interp"

	"github.com/loopbook/loopbook/loop"
)

// The monitor is the loop panel's source: a goroutine of the kernel that reads the event stream
// and state of the shared loop and of every loop a cell creates, without ever blocking them, and
// sends a frame per loop (the changes since the last one) frameEvery while anything happens on
// it: a callback of a cell ran, an fd became ready, a timer fell due, the running callback goes
// on, the state changed, or a control took effect. An idle loop sends nothing (the kernel's own
// bookkeeping callbacks do not count). It reads from its own goroutine, so the picture stays
// live while a callback blocks the loop — which is when the watchdog line matters.
// LOOPBOOK_MONITOR=off turns it off, for measuring its cost only.

const (
	frameEvery = 50 * time.Millisecond
	maxRuns    = 300 // callbacks per frame kept for the timeline (the rest are counted)
	maxItems   = 100 // entries per list of a state
	// maxChunks is how many chunks of events (256 each) a frame reads at most. A loop running
	// more than about 100k callbacks a second publishes more between two frames; the monitor then
	// reads only the latest ones (a sample: the rest count as lost), which keeps its cost in
	// proportion to a frame, not to the loop's rate (bench/panel-cost.sh).
	maxChunks = 16
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
	Lost    uint64       `json:"lost,omitempty"` // chunks of events not read: the monitor fell behind, or sampled (maxChunks)
	Current *FrameRun    `json:"current,omitempty"`
	State   *FrameState  `json:"state,omitempty"` // only when it changed
	Health  *FrameHealth `json:"health,omitempty"`
	// A private loop (one a cell created with loop.New): its id (from 1, never reused) and name
	// ("In[3] loop"). Frames of the shared loop have neither.
	Loop     int    `json:"loop,omitempty"`
	LoopName string `json:"loop_name,omitempty"`
	// The private loop closed (or was dropped without Close): its last frame.
	Closed bool `json:"closed,omitempty"`
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
	l       *loop.Loop              // the shared loop; nil for a private one (see wl)
	wl      weak.Pointer[loop.Loop] // a private loop: the monitor does not keep it alive
	id      int                     // 0 for the shared loop
	name    string                  // private loops: "In[3] loop"
	send    func(Message)
	cursor  uint64
	seq     uint64
	buf     []loop.Event
	last    []byte // last state sent
	snap    atomic.Pointer[loop.Snapshot]
	asked   atomic.Bool
	prevT   time.Duration
	quiet   int  // frames with nothing new
	closed  int  // ticks the loop has been seen closed
	paused  bool // as last sent
	virtual bool
	line    func() (count, line int, ok bool) // the cell statement running now (interp.Session.Line)
}

func newMonitor(l *loop.Loop, send func(Message)) *monitor {
	return &monitor{l: l, send: send, buf: make([]loop.Event, 0, 4096)}
}

// loop returns the monitored loop, or nil once a private loop was garbage collected.
func (m *monitor) loop() *loop.Loop {
	if m.l != nil {
		return m.l
	}
	return m.wl.Value()
}

// The panel shows the shared loop and every loop a cell creates with loop.New (DESIGN §2, issue
// 5 §1). The kernel hands cells a loop.New that registers the new loop here (hookLoopNew); one
// goroutine ticks every monitor. A private loop's frames carry its id and name; when it closes
// (or is garbage collected without Close) one last frame says "closed": true and the monitor
// goes. Shared-loop frames carry no loop id.

const maxPrivateLoops = 32 // private loops watched at once; later ones are not shown

// panelOff turns the monitor off: LOOPBOOK_MONITOR=off, for measuring what the panel costs
// (bench/panel-cost.sh), not for users.
func panelOff() bool { return os.Getenv("LOOPBOOK_MONITOR") == "off" }

type panel struct {
	send  func(Message)
	line  func() (count, line int, ok bool)
	owner func() int // the cell run creating a loop (0: none)

	mu     sync.Mutex
	mons   []*monitor // the shared loop's first
	nextID int
	made   map[int]int // loops created per owner, for names
}

func newPanel(shared *loop.Loop, send func(Message), owner func() int) *panel {
	p := &panel{send: send, owner: owner, made: map[int]int{}}
	p.mons = []*monitor{newMonitor(shared, send)}
	return p
}

// start runs the monitors until the shared loop closes, unless the monitor is turned off.
func (p *panel) start(line func() (count, line int, ok bool)) {
	p.mu.Lock()
	p.line = line
	for _, m := range p.mons {
		m.line = line
	}
	p.mu.Unlock()
	if panelOff() {
		return
	}
	go p.run()
}

func (p *panel) run() {
	t := time.NewTicker(frameEvery)
	defer t.Stop()
	p.mu.Lock()
	shared := p.mons[0] // under the lock: a cell's loop.New may be appending to mons
	p.mu.Unlock()
	for range t.C {
		if shared.l.IsClosed() {
			return
		}
		p.mu.Lock()
		mons := slices.Clone(p.mons)
		p.mu.Unlock()
		for _, m := range mons {
			if !m.frame() {
				p.remove(m)
			}
		}
	}
}

func (p *panel) remove(m *monitor) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mons = slices.DeleteFunc(p.mons, func(x *monitor) bool { return x == m })
}

// watch starts monitoring a private loop; the caller is the code that created it (a cell).
func (p *panel) watch(l *loop.Loop) {
	if panelOff() {
		return
	}
	owner := p.owner()
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.mons) > maxPrivateLoops {
		return
	}
	p.nextID++
	p.made[owner]++
	name := "loop " + strconv.Itoa(p.nextID)
	if owner > 0 {
		name = "In[" + strconv.Itoa(owner) + "] loop"
		if n := p.made[owner]; n > 1 {
			name += " " + strconv.Itoa(n)
		}
	}
	m := &monitor{wl: weak.Make(l), id: p.nextID, name: name, send: p.send, line: p.line}
	p.mons = append(p.mons, m)
}

// loopByID returns the shared loop for id 0, else the private loop with that id.
func (p *panel) loopByID(id int) *loop.Loop {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, m := range p.mons {
		if m.id == id {
			return m.loop()
		}
	}
	return nil
}

// hookLoopNew replaces loop.New in the symbols cells import with one that registers the new loop
// with the panel, and gives the loop the shared loop's kind of creation sites ("In[3]:5"). Cells
// reach loop.New only through this table (compiled code the kernel links creates no loops).
func (k *kernel) hookLoopNew(ex yaegi.Exports) {
	t, ok := ex["loop/loop"]
	if !ok {
		return
	}
	if _, ok := t["New"]; !ok {
		return
	}
	t["New"] = reflect.ValueOf(func(opts ...loop.Options) (*loop.Loop, error) {
		l, err := loop.New(opts...)
		if err != nil || k.panel == nil {
			return l, err
		}
		// The new loop is not running yet: setting its hook from here is safe.
		l.SetSiteHook(cellSites(l, k.s))
		k.panel.watch(l)
		return l, nil
	})
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

// frame reads what happened since the last frame and sends it, if anything did. It reports
// false when the monitor is done: its private loop closed (the last frame said so) or was
// garbage collected.
func (m *monitor) frame() bool {
	l := m.loop()
	if l == nil { // collected without Close: nothing more will happen on it
		m.sendFrame(&Frame{Closed: true}, nil)
		return false
	}
	closing := false
	if m.id != 0 && l.IsClosed() {
		// Close publishes its last events after it marks the loop closed: read them at the
		// next tick, then say goodbye.
		m.closed++
		closing = m.closed > 1
	}
	var skipped uint64
	if _, end, _ := l.Events(math.MaxUint64, nil); end > m.cursor+maxChunks {
		skipped = end - maxChunks - m.cursor
		m.cursor = end - maxChunks
	}
	events, next, lost := l.Events(m.cursor, m.buf[:0])
	m.cursor = next
	lost += skipped
	if cap(events) > cap(m.buf) && cap(events) <= 1<<16 {
		m.buf = events[:0] // keep the grown buffer, up to a ring's worth of events
	}
	f := Frame{Iter: l.Iterations(), Paused: l.Paused(), Virtual: l.VirtualTime(), Lost: lost, Closed: closing}
	var lastT time.Duration
	activity := 0 // callbacks, fd readiness, timers: what can change the state
	prevEnd := time.Duration(-1)
	for i := range events {
		e := &events[i]
		lastT = max(lastT, e.T)
		// Marks carry no time of their own: they happen at the loop's latest clock reading,
		// the poll's end or the iteration's start.
		markT := max(lastT, m.prevT)
		switch e.Kind {
		case loop.EvRun:
			if !housekeeping(e.Info) {
				activity++
			}
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
		case loop.EvPoll, loop.EvIterEnd:
			prevEnd = e.T
		case loop.EvFdReady:
			activity++
			if len(f.Marks) < maxRuns {
				f.Marks = append(f.Marks, FrameMark{Kind: "fd", T: ms(markT), ID: e.ID, Fd: e.Fd, Dir: e.Dir})
			}
		case loop.EvTimerDue:
			activity++
			if len(f.Marks) < maxRuns {
				f.Marks = append(f.Marks, FrameMark{Kind: "timer", T: ms(markT), ID: e.ID})
			}
		}
	}
	iters := loop.Summarize(events)
	var busy, span, lag time.Duration
	calls := 0
	if len(iters) > 64 {
		for _, it := range iters[:len(iters)-64] {
			busy += it.Busy()
			span += it.End - it.Start
			lag = max(lag, it.Busy())
			calls += it.Ran
		}
	}
	for _, it := range iters[max(0, len(iters)-64):] {
		f.Iters = append(f.Iters, FrameIter{N: it.N, Start: ms(it.Start), End: ms(it.End), PollTimeout: pollMS(it.PollTimeout),
			Poll: ms(it.PollDuration), Polled: it.Polled, Fds: it.FdEvents, Timers: it.TimersFired, Ready: it.Ready, Ran: it.Ran})
		busy += it.Busy()
		span += it.End - it.Start
		lag = max(lag, it.Busy())
		calls += it.Ran
	}
	if cb, ok := l.Current(); ok && !closing {
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
	if lost > 0 && len(iters) > 0 {
		// Not everything since the last frame was read: the rates are those of what was.
		elapsed = iters[len(iters)-1].End - iters[0].Start
	}
	if len(events) > 0 && elapsed > 0 {
		f.Health = &FrameHealth{Lag: ms(lag), IterPerS: float64(len(iters)) / elapsed.Seconds(), CallsPerS: float64(calls) / elapsed.Seconds()}
		if span > 0 {
			f.Health.Busy = float64(busy) / float64(span)
		}
		m.prevT = lastT
	}
	// The state comes from a snapshot the loop takes at its next boundary; while a callback
	// blocks the loop, the last one stands. Only something that ran can change the state, so an
	// idle loop is not asked (asking wakes it: an idle loop would never look idle). A private
	// loop that is not running is not asked either: it would answer only when it runs again.
	if (activity > 0 || m.snap.Load() == nil) && (m.id == 0 || l.IsRunning()) && !closing && !m.asked.Swap(true) {
		if !l.Inspect(func(l *loop.Loop) {
			s := l.Snapshot()
			m.snap.Store(&s)
			m.asked.Store(false)
		}) {
			m.asked.Store(false)
		}
	}
	var state []byte // the state's JSON, when it changed (encoded once: it is compared, then sent)
	if s := m.snap.Load(); s != nil && !closing {
		f.Time = s.Time.Seconds()
		b, _ := json.Marshal(stateOf(s))
		if !bytes.Equal(b, m.last) {
			m.last = b
			state = b
		}
	}
	changed := f.Paused != m.paused || f.Virtual != m.virtual // a control took effect
	m.paused, m.virtual = f.Paused, f.Virtual
	if !closing && !changed && activity == 0 && state == nil && f.Current == nil {
		m.quiet++
		if m.quiet > 1 {
			return true // nothing new: no frame
		}
	} else {
		m.quiet = 0
	}
	m.sendFrame(&f, state)
	return !closing
}

// sendFrame numbers f, names its loop and sends it, with state (JSON of a FrameState) as its
// "state" if not nil.
func (m *monitor) sendFrame(f *Frame, state []byte) {
	m.seq++
	f.Seq = m.seq
	f.Loop, f.LoopName = m.id, m.name
	f.State = nil
	b, err := json.Marshal(f)
	if err != nil {
		return
	}
	if state != nil {
		b = append(append(append(b[:len(b)-1], `,"state":`...), state...), '}')
	}
	m.send(Message{Type: MsgLoop, Loop: b})
}

// housekeeping reports whether a callback is the kernel's own periodic bookkeeping (the owned
// report every 200 ms): it is shown when a frame goes out anyway, but is no reason to send one,
// so an idle notebook's panel stays quiet.
func housekeeping(in *loop.Info) bool {
	return in != nil && in.Owner == 0 && strings.HasPrefix(in.Name, "kernel: ")
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

// loopControl applies a panel control to the shared loop, or to the private loop req.Loop.
func (k *kernel) loopControl(req Request) string {
	l := k.l
	if req.Loop != 0 {
		if k.panel != nil {
			l = k.panel.loopByID(req.Loop)
		}
		if l == nil || l.IsClosed() {
			return "no loop " + strconv.Itoa(req.Loop) + " (it was closed, or is not watched)"
		}
	}
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

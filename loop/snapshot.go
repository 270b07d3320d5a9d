package loop

import (
	"sort"
	"time"
)

// Snapshot is the loop's state at an iteration boundary or inside a callback: what the
// visualiser draws and what a kernel reports per cell.
type Snapshot struct {
	Time      time.Duration // loop time
	Iteration uint64
	Running   bool
	Closed    bool
	Virtual   bool
	Ready     []Item    // the ready queue, in run order
	Timers    []Item    // scheduled timers, earliest first (cancelled ones left out)
	Watchers  []Watcher // watched fds, by fd
	Tasks     []TaskState
}

// Item describes one handle, timer, future or task.
type Item struct {
	ID    uint64
	Kind  Kind
	Name  string
	Owner Owner
	Site  *Site
	When  time.Duration // due time, for timers
}

// Watcher describes one watched fd.
type Watcher struct {
	Fd         int
	Reader     *Item
	Writer     *Item
	ReadFires  uint64
	WriteFires uint64
}

// TaskState describes a task and the edge of the await graph that leaves it.
type TaskState struct {
	Item
	State     string // "pending", "running" (its coroutine is executing now), or "done"
	Awaiting  *Item  // the future or task it is suspended on, nil if it is ready to step
	AwaitSite *Site  // where it is suspended, when sites are recorded
	Steps     uint64
}

func itemOf(in *Info) Item {
	return Item{ID: in.ID, Kind: in.Kind, Name: in.Label(), Owner: in.Owner, Site: in.Site}
}

// Snapshot returns the loop's state. Call it on the loop goroutine (from a callback, a task, or
// through Inspect from elsewhere).
func (l *Loop) Snapshot() Snapshot {
	s := Snapshot{
		Time:      l.clock.now(),
		Iteration: l.tr.iter,
		Running:   l.IsRunning(),
		Closed:    l.IsClosed(),
		Virtual:   l.clock.virtual,
	}
	if h := l.ctl.next; h != nil && !h.cancelled {
		s.Ready = append(s.Ready, itemOf(&h.Info)) // held before it runs (paused): it runs first
	}
	for i := 0; i < l.ready.len(); i++ {
		if h := l.ready.at(i); !h.cancelled {
			s.Ready = append(s.Ready, itemOf(&h.Info))
		}
	}
	for _, t := range l.timers {
		if !t.cancelled {
			it := itemOf(&t.Info)
			it.When = t.when
			s.Timers = append(s.Timers, it)
		}
	}
	sort.SliceStable(s.Timers, func(i, j int) bool { return s.Timers[i].When < s.Timers[j].When })
	for fd, w := range l.watchers.all {
		if w.interest() == 0 {
			continue // a deferred removal
		}
		ws := Watcher{Fd: fd, ReadFires: w.readFires, WriteFires: w.writeFires}
		if w.reader != nil {
			it := itemOf(&w.reader.Info)
			ws.Reader = &it
		}
		if w.writer != nil {
			it := itemOf(&w.writer.Info)
			ws.Writer = &it
		}
		s.Watchers = append(s.Watchers, ws)
	}
	sort.Slice(s.Watchers, func(i, j int) bool { return s.Watchers[i].Fd < s.Watchers[j].Fd })
	for _, t := range l.sortedTasks() {
		ts := TaskState{Item: itemOf(&t.Info), State: "pending", AwaitSite: t.AwaitSite, Steps: t.steps}
		if t == l.currentTask {
			ts.State = "running"
		}
		if t.waiter != nil {
			var it Item
			if t.waiter.task != nil {
				it = itemOf(&t.waiter.task.Info)
			} else {
				it = itemOf(&t.waiter.Info)
			}
			ts.Awaiting = &it
		}
		s.Tasks = append(s.Tasks, ts)
	}
	return s
}

// Owned counts the pending work that owner o still has on the loop: tasks, timers and watchers
// (and ready callbacks). The kernel shows it per cell.
type Owned struct{ Tasks, Timers, Watchers, Ready int }

// Owned returns what owner o still has on the loop. Call it on the loop goroutine.
func (l *Loop) Owned(o Owner) Owned {
	var n Owned
	for _, t := range l.tasks {
		if t.Owner == o {
			n.Tasks++
		}
	}
	for _, t := range l.timers {
		if !t.cancelled && t.Owner == o {
			n.Timers++
		}
	}
	for _, w := range l.watchers.all {
		if w.reader != nil && w.reader.Owner == o {
			n.Watchers++
		}
		if w.writer != nil && w.writer.Owner == o {
			n.Watchers++
		}
	}
	for i := 0; i < l.ready.len(); i++ {
		if h := l.ready.at(i); h.Owner == o && readyCallback(h) {
			n.Ready++
		}
	}
	return n
}

// readyCallback reports whether h, in the ready queue, is a callback of its owner's that will
// run: one scheduled with CallSoon, or a timer that has fired and waits for its turn (it has
// left the timers). A watcher's callback counts as the watcher, and a task's step as the task.
func readyCallback(h *Handle) bool {
	return !h.cancelled && (h.Kind == KindCallback || h.Kind == KindTimer)
}

// CancelOwned cancels everything owner o has on the loop — its tasks, timers, watchers and ready
// callbacks — and returns what it cancelled. The kernel calls it when a cell is re-run or deleted.
func (l *Loop) CancelOwned(o Owner) Owned {
	var n Owned
	for _, t := range l.sortedTasks() {
		if t.Owner == o && t.Cancel("owner cancelled") {
			n.Tasks++
		}
	}
	for _, t := range l.timers {
		if !t.cancelled && t.Owner == o {
			t.Cancel()
			n.Timers++
		}
	}
	for fd, w := range l.watchers.all {
		if w.reader != nil && w.reader.Owner == o && l.RemoveReader(fd) {
			n.Watchers++
		}
		if w.writer != nil && w.writer.Owner == o && l.RemoveWriter(fd) {
			n.Watchers++
		}
	}
	for i := 0; i < l.ready.len(); i++ {
		if h := l.ready.at(i); h.Owner == o && readyCallback(h) {
			h.Cancel() // for a fired timer, the Handle's Cancel: it is no longer in the heap
			n.Ready++
		}
	}
	return n
}

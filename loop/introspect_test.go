package loop_test

// Introspection: Snapshot, owners, the event stream, Current, the teaching controls (Pause, steps,
// slow motion, Inspect), virtual time and RunInExecutor. Readers on other goroutines run under
// the race detector; waits are bounded and fail rather than hang; nothing asserts durations.

import (
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loopbook/loopbook/loop"
)

// inspLoop returns a loop whose reports fail the test, closed at the end of the test.
func inspLoop(t *testing.T, opts loop.Options) *loop.Loop {
	t.Helper()
	l, err := loop.New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	l.SetExceptionHandler(skNoReport(t))
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return l
}

// inspRealGuard stops l from another goroutine (so it works in virtual time and while the loop
// sleeps) and fails the test if the returned cancel function is not called within skGuard.
func inspRealGuard(t *testing.T, l *loop.Loop) (cancel func()) {
	t.Helper()
	tm := time.AfterFunc(skGuard, func() {
		t.Errorf("the loop ran for %v without finishing", skGuard)
		l.CallSoonThreadSafe(l.Stop)
	})
	return func() { tm.Stop() }
}

func inspNamed() {}

func inspNames(items []loop.Item) []string {
	var n []string
	for _, it := range items {
		n = append(n, it.Name)
	}
	return n
}

func TestSnapshotReadyAndTimers(t *testing.T) {
	cases := []struct {
		name       string
		setup      func(l *loop.Loop)
		wantReady  []string
		wantTimers []string
		wantWhen   []time.Duration
	}{
		{
			name: "callbacks in run order, named or not",
			setup: func(l *loop.Loop) {
				l.CallSoon(func() {}, loop.WithName("first"))
				l.CallSoon(inspNamed)
				l.CallSoon(func() {}, loop.WithName("third"))
			},
			wantReady: []string{"first", "loop_test.inspNamed", "third"},
		},
		{
			name: "cancelled callbacks left out",
			setup: func(l *loop.Loop) {
				l.CallSoon(func() {}, loop.WithName("a"))
				h, _ := l.CallSoon(func() {}, loop.WithName("gone"))
				l.CallSoon(func() {}, loop.WithName("b"))
				h.Cancel()
			},
			wantReady: []string{"a", "b"},
		},
		{
			name: "timers earliest first",
			setup: func(l *loop.Loop) {
				for _, h := range []int{5, 1, 4, 2, 7, 3, 6} {
					l.CallLater(time.Duration(h)*time.Hour, func() {}, loop.WithName(fmt.Sprintf("%dh", h)))
				}
			},
			wantTimers: []string{"1h", "2h", "3h", "4h", "5h", "6h", "7h"},
			wantWhen:   []time.Duration{1 * time.Hour, 2 * time.Hour, 3 * time.Hour, 4 * time.Hour, 5 * time.Hour, 6 * time.Hour, 7 * time.Hour},
		},
		{
			name: "cancelled timers left out, CallAt and CallLater mixed",
			setup: func(l *loop.Loop) {
				l.CallAt(3*time.Second, func() {}, loop.WithName("at 3s"))
				h, _ := l.CallLater(2*time.Second, func() {}, loop.WithName("cancelled"))
				l.CallLater(time.Second, func() {}, loop.WithName("in 1s"))
				l.CallSoon(func() {}, loop.WithName("soon"))
				h.Cancel()
			},
			wantReady:  []string{"soon"},
			wantTimers: []string{"in 1s", "at 3s"},
			wantWhen:   []time.Duration{time.Second, 3 * time.Second},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := inspLoop(t, loop.Options{VirtualTime: true})
			tc.setup(l)
			s := l.Snapshot()
			if !s.Virtual || s.Running || s.Closed || s.Time != 0 {
				t.Errorf("snapshot header: virtual %v running %v closed %v time %v", s.Virtual, s.Running, s.Closed, s.Time)
			}
			if got := inspNames(s.Ready); !slices.Equal(got, tc.wantReady) {
				t.Errorf("ready %q, want %q", got, tc.wantReady)
			}
			for _, it := range s.Ready {
				if it.Kind != loop.KindCallback || it.ID == 0 {
					t.Errorf("ready item %+v", it)
				}
			}
			if got := inspNames(s.Timers); !slices.Equal(got, tc.wantTimers) {
				t.Errorf("timers %q, want %q", got, tc.wantTimers)
			}
			for i, it := range s.Timers {
				if it.Kind != loop.KindTimer || i < len(tc.wantWhen) && it.When != tc.wantWhen[i] {
					t.Errorf("timer %+v, want due at %v", it, tc.wantWhen[i])
				}
			}
			// Inside a callback the snapshot says the loop runs, and no longer lists that callback.
			var inside loop.Snapshot
			l.CallSoon(func() { inside = l.Snapshot(); l.Stop() }, loop.WithName("snapshotter"))
			if err := l.RunForever(); err != nil {
				t.Fatal(err)
			}
			if !inside.Running || inside.Iteration == 0 || slices.Contains(inspNames(inside.Ready), "snapshotter") {
				t.Errorf("snapshot inside a callback: running %v iteration %d ready %q", inside.Running, inside.Iteration, inspNames(inside.Ready))
			}
		})
	}
}

func TestSnapshotWatchers(t *testing.T) {
	type watch struct {
		sock   int // index of the socket: 0 and 1 are readable (data waits), 2 is only writable
		writer bool
		name   string
	}
	cases := []struct {
		name    string
		watches []watch
	}{
		{"one reader", []watch{{0, false, "r0"}}},
		{"one writer", []watch{{2, true, "w2"}}},
		{"reader and writer on one fd", []watch{{1, false, "r1"}, {1, true, "w1"}}},
		{"several fds, listed by fd", []watch{{2, false, "never readable"}, {1, true, "w1"}, {0, false, "r0"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := inspLoop(t, loop.Options{})
			var socks []*loop.Socket
			for i := range 3 {
				c, s := skPair(t)
				if i < 2 {
					s.SendAll([]byte("waiting"))
					skWaitReadable(t, c)
				}
				socks = append(socks, c)
			}
			runs := map[string]int{}
			const rounds = 5
			iterations := 0
			for _, w := range tc.watches {
				fd := socks[w.sock].Fileno()
				fn := func() { runs[w.name]++ }
				var err error
				if w.writer {
					_, err = l.AddWriter(fd, fn, loop.WithName(w.name))
				} else {
					_, err = l.AddReader(fd, fn, loop.WithName(w.name))
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			var tick func()
			tick = func() {
				if iterations++; iterations == rounds {
					l.Stop()
					return
				}
				l.CallSoon(tick)
			}
			l.CallSoon(tick)
			guard := inspRealGuard(t, l)
			if err := l.RunForever(); err != nil {
				t.Fatal(err)
			}
			guard()
			s := l.Snapshot()
			fds := map[int]loop.Watcher{}
			for i, w := range s.Watchers {
				if i > 0 && s.Watchers[i-1].Fd >= w.Fd {
					t.Errorf("watchers not listed by fd: %+v", s.Watchers)
				}
				fds[w.Fd] = w
			}
			for _, w := range tc.watches {
				sw, ok := fds[socks[w.sock].Fileno()]
				if !ok {
					t.Fatalf("no watcher for %s", w.name)
				}
				it, fires := sw.Reader, sw.ReadFires
				kind := loop.KindReader
				if w.writer {
					it, fires, kind = sw.Writer, sw.WriteFires, loop.KindWriter
				}
				if it == nil || it.Name != w.name || it.Kind != kind {
					t.Errorf("%s: item %+v", w.name, it)
				}
				if fires != uint64(runs[w.name]) {
					t.Errorf("%s: %d fires counted, its callback ran %d times", w.name, fires, runs[w.name])
				}
				ready := w.writer || w.sock < 2
				if ready && runs[w.name] == 0 || !ready && runs[w.name] != 0 {
					t.Errorf("%s ran %d times", w.name, runs[w.name])
				}
			}
			if len(fds) != len(s.Watchers) {
				t.Errorf("watchers listed twice: %+v", s.Watchers)
			}
		})
	}
}

func TestSnapshotTasksAndAwaitGraph(t *testing.T) {
	for _, debug := range []bool{false, true} {
		t.Run(fmt.Sprintf("debug=%v", debug), func(t *testing.T) {
			l := inspLoop(t, loop.Options{Debug: debug})
			f := l.CreateFuture(loop.WithName("the future"))
			leaf, _ := l.CreateTask(func(co *loop.Co) (any, error) { return co.Await(f) }, loop.WithName("leaf"))
			middle, _ := l.CreateTask(func(co *loop.Co) (any, error) { return co.Await(leaf) }, loop.WithName("middle"))
			var own loop.Snapshot
			var self *loop.Task
			var s loop.Snapshot
			var driver *loop.Task
			var err error
			driver, err = l.CreateTask(func(co *loop.Co) (any, error) {
				co.Sleep(0)
				co.Sleep(0)
				// Created now, not stepped yet.
				l.CreateTask(func(co *loop.Co) (any, error) { return nil, nil }, loop.WithName("fresh"))
				self, _ = l.CreateTask(func(co *loop.Co) (any, error) {
					own = l.Snapshot()
					return nil, nil
				}, loop.WithName("self"))
				s = l.Snapshot()
				if _, err := co.Await(self); err != nil {
					return nil, err
				}
				f.SetResult("done")
				return co.Await(middle)
			}, loop.WithName("driver"))
			if err != nil {
				t.Fatal(err)
			}
			res, err := skRun(t, l, func(co *loop.Co) (any, error) { return co.Await(driver) })
			if err != nil || res != "done" {
				t.Fatalf("run = %v, %v", res, err)
			}
			type want struct {
				state    string
				awaiting *loop.Item // only ID, Kind and Name are compared
				steps    uint64
			}
			wants := map[string]want{
				"leaf":   {"pending", &loop.Item{ID: f.ID, Kind: loop.KindFuture, Name: "the future"}, 1},
				"middle": {"pending", &loop.Item{ID: leaf.ID, Kind: loop.KindTask, Name: "leaf"}, 1},
				"driver": {"running", nil, 3},
				"fresh":  {"pending", nil, 0},
				"self":   {"pending", nil, 0},
			}
			var names []string
			for _, ts := range s.Tasks {
				w, ok := wants[ts.Name]
				if !ok {
					continue
				}
				names = append(names, ts.Name)
				if ts.State != w.state || ts.Steps != w.steps || ts.Kind != loop.KindTask {
					t.Errorf("%s: state %q steps %d kind %v, want %q, %d", ts.Name, ts.State, ts.Steps, ts.Kind, w.state, w.steps)
				}
				switch {
				case w.awaiting == nil && ts.Awaiting != nil:
					t.Errorf("%s awaits %+v, want nothing", ts.Name, ts.Awaiting)
				case w.awaiting != nil && (ts.Awaiting == nil || ts.Awaiting.ID != w.awaiting.ID ||
					ts.Awaiting.Kind != w.awaiting.Kind || ts.Awaiting.Name != w.awaiting.Name):
					t.Errorf("%s awaits %+v, want %+v", ts.Name, ts.Awaiting, w.awaiting)
				}
				if w.awaiting != nil && debug && (ts.AwaitSite == nil || !strings.HasSuffix(ts.AwaitSite.File, "introspect_test.go")) {
					t.Errorf("%s: await site %v, want this file", ts.Name, ts.AwaitSite)
				}
			}
			// Tasks are listed oldest first.
			if want := []string{"leaf", "middle", "driver", "fresh", "self"}; !slices.Equal(names, want) {
				t.Errorf("tasks %q, want %q", names, want)
			}
			for _, ts := range own.Tasks {
				if ts.Name == "self" && ts.State != "running" {
					t.Errorf("a task's own snapshot shows it %q", ts.State)
				}
				if ts.Name == "driver" && (ts.State != "pending" || ts.Awaiting == nil || ts.Awaiting.ID != self.ID) {
					t.Errorf("driver in self's snapshot: %+v", ts)
				}
			}
			if left := l.Snapshot().Tasks; len(left) != 0 {
				t.Errorf("tasks left after they all finished: %+v", left)
			}
		})
	}
}

func TestOwners(t *testing.T) {
	l := inspLoop(t, loop.Options{})
	c, _ := skPair(t)
	got := map[string]loop.Owner{}     // the Owner field of what was created
	current := map[string]loop.Owner{} // CurrentOwner while it ran
	note := func(what string, in loop.Info) { got[what] = in.Owner }
	ran := func(what string) { current[what] = l.CurrentOwner() }

	if prev := l.SetOwner(7); prev != 0 || l.CurrentOwner() != 7 {
		t.Fatalf("SetOwner(7) returned %d, CurrentOwner %d", prev, l.CurrentOwner())
	}
	h, _ := l.CallSoon(func() {
		ran("callback")
		h, _ := l.CallSoon(func() { ran("inner callback") })
		note("CallSoon in a callback", h.Info)
		th, _ := l.CallLater(time.Hour, func() {})
		note("CallLater in a callback", th.Info)
		tk, _ := l.CreateTask(func(co *loop.Co) (any, error) { ran("task made in a callback"); return nil, nil })
		note("CreateTask in a callback", tk.Info)
		fut := l.CreateFuture()
		note("CreateFuture in a callback", fut.Info)
		fut.AddDoneCallback(func(*loop.Future) { ran("done callback of its future") })
		fut.SetResult(nil)
		h2, _ := l.CallSoon(func() {}, loop.WithOwner(3))
		note("WithOwner in a callback", h2.Info)
	})
	note("CallSoon", h.Info)
	th, _ := l.CallLater(time.Millisecond, func() { ran("timer") })
	note("CallLater", th.Info)
	tk, _ := l.CreateTask(func(co *loop.Co) (any, error) {
		ran("task")
		co.Sleep(0)
		ran("task, later step")
		h, _ := l.CallSoon(func() { ran("callback made in a task") })
		note("CallSoon in a task", h.Info)
		for _, it := range l.Snapshot().Timers {
			if it.Name == "a task's hour" {
				note("CallLater in a task", loop.Info{Owner: it.Owner})
			}
		}
		return nil, nil
	})
	note("CreateTask", tk.Info)
	w, _ := l.AddReader(c.Fileno(), func() {})
	note("AddReader", w.Info)
	l.RemoveReader(c.Fileno())
	exf, _ := l.RunInExecutor(func() (any, error) { return nil, nil })
	note("RunInExecutor", exf.Info)
	co := l.Coro(func(co *loop.Co) (any, error) { return nil, nil })
	note("Coro", co.Info)
	l.CreateTask(co)
	f := l.CreateFuture()
	note("CreateFuture", f.Info)
	h3, _ := l.CallSoon(func() {}, loop.WithOwner(4))
	note("WithOwner", h3.Info)

	// Outside callbacks the owner is now 9; what runs keeps its own.
	if prev := l.SetOwner(9); prev != 7 {
		t.Errorf("SetOwner(9) returned %d", prev)
	}
	l.CreateTask(func(co *loop.Co) (any, error) {
		_, err := l.CallLater(time.Hour, func() {}, loop.WithName("a task's hour"))
		return nil, err
	}, loop.WithOwner(7))
	if _, err := skRun(t, l, func(co *loop.Co) (any, error) {
		if _, err := co.Await(exf); err != nil {
			return nil, err
		}
		return nil, co.Sleep(2 * time.Millisecond) // due after the 1 ms timer
	}); err != nil {
		t.Fatal(err)
	}
	// CallSoonThreadSafe from elsewhere gets the owner of the moment it is run, unless given one.
	var wg sync.WaitGroup
	done := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		l.CallSoonThreadSafe(func() { ran("thread-safe") })
		l.CallSoonThreadSafe(func() { ran("thread-safe with owner") }, loop.WithOwner(5))
		l.CallSoonThreadSafe(func() { close(done) })
	}()
	if _, err := skRun(t, l, func(co *loop.Co) (any, error) {
		for {
			select {
			case <-done:
				return nil, co.Sleep(0)
			default:
				if err := co.Sleep(time.Millisecond); err != nil {
					return nil, err
				}
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if l.CurrentOwner() != 9 {
		t.Errorf("after the run CurrentOwner is %d, want 9", l.CurrentOwner())
	}
	wantGot := map[string]loop.Owner{
		"CallSoon": 7, "CallLater": 7, "CreateTask": 7, "AddReader": 7, "RunInExecutor": 7,
		"Coro": 7, "CreateFuture": 7, "WithOwner": 4,
		"CallSoon in a callback": 7, "CallLater in a callback": 7, "CreateTask in a callback": 7,
		"CreateFuture in a callback": 7, "WithOwner in a callback": 3,
		"CallSoon in a task": 7, "CallLater in a task": 7,
	}
	wantCurrent := map[string]loop.Owner{
		"callback": 7, "inner callback": 7, "timer": 7, "task": 7, "task, later step": 7,
		"task made in a callback": 7, "done callback of its future": 7, "callback made in a task": 7,
		"thread-safe": 9, "thread-safe with owner": 5,
	}
	for what, want := range wantGot {
		if o, ok := got[what]; !ok || o != want {
			t.Errorf("%s: owner %d (recorded %v), want %d", what, o, ok, want)
		}
	}
	for what, want := range wantCurrent {
		if o, ok := current[what]; !ok || o != want {
			t.Errorf("while %s ran: CurrentOwner %d (ran %v), want %d", what, o, ok, want)
		}
	}
	l.CancelOwned(7)
	l.CancelOwned(9)
	dbgSpin(t, l, 2)
}

func TestOwnedAndCancelOwned(t *testing.T) {
	type plan struct {
		owner                     loop.Owner
		waiting, sleeping, timers int
		readers, ready            int
	}
	cases := []struct {
		name   string
		plans  []plan
		cancel loop.Owner
	}{
		{"cancel one owner among three", []plan{
			{owner: 1, waiting: 1, sleeping: 1, timers: 1, readers: 1, ready: 2},
			{owner: 2, waiting: 1, timers: 2, readers: 1, ready: 1},
			{owner: 3, sleeping: 2, ready: 3},
		}, 1},
		{"cancel an owner with nothing", []plan{
			{owner: 1, waiting: 2, timers: 1},
		}, 8},
		{"cancel the only owner", []plan{
			{owner: 4, waiting: 2, sleeping: 1, timers: 3, readers: 2, ready: 2},
		}, 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := inspLoop(t, loop.Options{})
			want := map[loop.Owner]loop.Owned{}
			ran := map[loop.Owner]int{}
			var tasks []*loop.Task
			taskOwner := map[*loop.Task]loop.Owner{}
			for _, p := range tc.plans {
				l.SetOwner(p.owner)
				for range p.waiting {
					f := l.CreateFuture()
					tk, _ := l.CreateTask(func(co *loop.Co) (any, error) { return co.Await(f) })
					tasks = append(tasks, tk)
					taskOwner[tk] = p.owner
				}
				for range p.sleeping {
					tk, _ := l.CreateTask(func(co *loop.Co) (any, error) { return nil, co.Sleep(time.Hour) })
					tasks = append(tasks, tk)
					taskOwner[tk] = p.owner
				}
				for range p.timers {
					l.CallLater(time.Hour, func() { ran[p.owner]++ })
				}
				for range p.readers {
					c, _ := skPair(t) // nothing to read: the reader stays registered and silent
					l.AddReader(c.Fileno(), func() { ran[p.owner]++ })
				}
				want[p.owner] = loop.Owned{Tasks: p.waiting + p.sleeping, Timers: p.timers + p.sleeping, Watchers: p.readers, Ready: p.ready}
			}
			l.SetOwner(0)
			dbgSpin(t, l, 2) // every task is now suspended; sleeping ones own their sleep's timer
			for _, p := range tc.plans {
				l.SetOwner(p.owner)
				for range p.ready {
					l.CallSoon(func() { ran[p.owner]++ })
				}
			}
			l.SetOwner(0)
			owners := []loop.Owner{0, 1, 2, 3, 4, 8}
			for _, o := range owners {
				if got := l.Owned(o); got != want[o] {
					t.Errorf("Owned(%d) = %+v, want %+v", o, got, want[o])
				}
			}
			if got := l.CancelOwned(tc.cancel); got != want[tc.cancel] {
				t.Errorf("CancelOwned(%d) = %+v, want %+v", tc.cancel, got, want[tc.cancel])
			}
			dbgSpin(t, l, 3)
			for _, o := range owners {
				w := want[o]
				if o == tc.cancel {
					w = loop.Owned{}
				} else {
					w.Ready = 0 // they ran
				}
				if got := l.Owned(o); got != w {
					t.Errorf("after CancelOwned(%d): Owned(%d) = %+v, want %+v", tc.cancel, o, got, w)
				}
			}
			for _, tk := range tasks {
				if cancelled := tk.Cancelled(); cancelled != (taskOwner[tk] == tc.cancel) || (!cancelled && tk.Done()) {
					t.Errorf("task of owner %d: done %v cancelled %v", taskOwner[tk], tk.Done(), cancelled)
				}
			}
			for _, p := range tc.plans {
				if p.owner == tc.cancel && ran[p.owner] != 0 {
					t.Errorf("owner %d's work ran %d times after CancelOwned", p.owner, ran[p.owner])
				}
				if p.owner != tc.cancel && ran[p.owner] != p.ready {
					t.Errorf("owner %d's work ran %d times, want its %d ready callbacks", p.owner, ran[p.owner], p.ready)
				}
			}
			for _, p := range tc.plans {
				l.CancelOwned(p.owner)
			}
			dbgSpin(t, l, 2)
		})
	}
}

// inspStream checks the event stream's invariants as it is fed, from any goroutine. An iteration
// is what lies between two EvIterEnd events: at most one poll, before any callback runs; every
// callback that runs was scheduled (or watched) before; the end counts the runs.
type inspStream struct {
	seq      uint64
	lastIter int64
	lastEnd  time.Duration
	lastRun  time.Duration
	polled   bool
	runs     int64
	known    map[uint64]bool // ids scheduled, created or watched
	count    map[loop.EventKind]int
	names    int // Info labels read
}

func (c *inspStream) feed(evs []loop.Event) error {
	if c.known == nil {
		c.known = map[uint64]bool{}
		c.count = map[loop.EventKind]int{}
	}
	for _, e := range evs {
		if e.Seq != c.seq+1 {
			return fmt.Errorf("event %+v after seq %d", e, c.seq)
		}
		c.seq = e.Seq
		c.count[e.Kind]++
		if e.Info != nil {
			if e.Info.ID != e.ID {
				return fmt.Errorf("event %+v carries the info of %d", e, e.Info.ID)
			}
			if e.Info.Label() != "" {
				c.names++
			}
			_ = e.Info.Owner
		}
		switch e.Kind {
		case loop.EvPoll:
			if c.polled || c.runs != 0 {
				return fmt.Errorf("poll %+v out of place (iteration %d, polled %v, %d runs)", e, c.lastIter+1, c.polled, c.runs)
			}
			c.polled = true
		case loop.EvRun:
			if !c.known[e.ID] || e.Info == nil || e.T < c.lastRun {
				return fmt.Errorf("run %+v of unknown work or back in time (after %v)", e, c.lastRun)
			}
			c.lastRun = e.T
			c.runs++
		case loop.EvIterEnd:
			start := time.Duration(e.B)
			if e.A != c.lastIter+1 || int64(e.Fd) != c.runs || int64(e.ID) < c.runs || start > e.T || start < c.lastEnd {
				return fmt.Errorf("iteration end %+v after iteration %d (ended at %v) with %d runs", e, c.lastIter, c.lastEnd, c.runs)
			}
			c.lastIter, c.lastEnd, c.polled, c.runs = e.A, e.T, false, 0
		case loop.EvSchedule, loop.EvCreate, loop.EvWatch:
			if e.Info == nil {
				return fmt.Errorf("%v event without info: %+v", e.Kind, e)
			}
			c.known[e.ID] = true
		}
	}
	return nil
}

func TestEventStreamFromAnotherGoroutine(t *testing.T) {
	l := inspLoop(t, loop.Options{})
	c, s := skPair(t)
	s.SendAll([]byte("keeps the reader firing"))
	skWaitReadable(t, c)

	// The reader: another goroutine, reading as the loop runs.
	var stream inspStream
	finished := make(chan struct{})
	readerDone := make(chan error, 1)
	var calls, nonEmpty int
	go func() {
		var cursor uint64
		buf := make([]loop.Event, 0, 4096)
		for {
			select {
			case <-finished:
				evs, _, lost := l.Events(cursor, buf[:0])
				if lost != 0 {
					readerDone <- fmt.Errorf("lost %d chunks", lost)
					return
				}
				readerDone <- stream.feed(evs)
				return
			default:
			}
			evs, next, lost := l.Events(cursor, buf[:0])
			calls++
			if lost != 0 {
				readerDone <- fmt.Errorf("lost %d chunks", lost)
				return
			}
			if len(evs) > 0 {
				nonEmpty++
			}
			if err := stream.feed(evs); err != nil {
				readerDone <- err
				return
			}
			cursor = next
			time.Sleep(50 * time.Microsecond)
		}
	}()

	// The workload: callbacks that schedule callbacks and timers, tasks, a level-triggered reader
	// (so every iteration polls), executor jobs, and the inbox.
	const rounds = 400
	fires := 0
	l.AddReader(c.Fileno(), func() {
		if fires++; fires == 50 {
			l.RemoveReader(c.Fileno())
		}
	}, loop.WithName("level reader"))
	var jobs []*loop.Future
	l.CallSoon(func() {
		// Many executor futures in one callback: their creation events cross chunk boundaries.
		for i := range 600 {
			f, _ := l.RunInExecutor(func() (any, error) { return i, nil })
			jobs = append(jobs, f)
		}
	}, loop.WithName("executor burst"))
	var round func(i int) func()
	round = func(i int) func() {
		return func() {
			if i == rounds {
				return
			}
			l.CallSoon(round(i+1), loop.WithName(fmt.Sprintf("round %d", i+1)))
			l.CallSoon(func() {})
			l.CallLater(0, func() {}, loop.WithName("zero timer"))
			if i%20 == 0 {
				l.CreateTask(func(co *loop.Co) (any, error) { return nil, co.Sleep(0) })
				go l.CallSoonThreadSafe(func() {}, loop.WithName("from outside"))
			}
		}
	}
	l.CallSoon(round(0))
	if _, err := skRun(t, l, func(co *loop.Co) (any, error) {
		for co.Loop().Snapshot().Ready != nil || fires < 50 {
			if err := co.Sleep(time.Millisecond); err != nil {
				return nil, err
			}
		}
		for _, f := range jobs {
			if _, err := co.Await(f); err != nil {
				return nil, err
			}
		}
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	close(finished)
	select {
	case err := <-readerDone:
		if err != nil {
			t.Fatalf("event stream: %v", err)
		}
	case <-time.After(skGuard):
		t.Fatal("the reader did not finish")
	}
	for _, k := range []loop.EventKind{loop.EvSchedule, loop.EvRun, loop.EvPoll, loop.EvIterEnd, loop.EvFdReady,
		loop.EvTimerDue, loop.EvCreate, loop.EvAwait, loop.EvFutureDone, loop.EvWatch, loop.EvUnwatch} {
		if stream.count[k] == 0 {
			t.Errorf("no %v events in the stream", k)
		}
	}
	if stream.count[loop.EvRun] < rounds*3 || stream.runs != 0 {
		t.Errorf("%d runs seen, %d after the last iteration's end", stream.count[loop.EvRun], stream.runs)
	}
	if uint64(stream.lastIter) != l.Iterations() {
		t.Errorf("the stream ends at iteration %d, Iterations() = %d", stream.lastIter, l.Iterations())
	}
	t.Logf("%d events in %d reads (%d non-empty), %d iterations", stream.seq, calls, nonEmpty, stream.lastIter)
}

func TestEventStreamLost(t *testing.T) {
	l := inspLoop(t, loop.Options{})
	const ring = 1024 * 256 // more events than the ring holds (it has held 256k, now 16k)
	behind := make(chan struct{})
	type result struct {
		first, second []loop.Event
		lost1, lost2  uint64
		next          uint64
		afterLost     uint64
		afterN        int
	}
	res := make(chan result, 1)
	started := make(chan struct{})
	go func() {
		var r result
		first, cursor, _ := l.Events(0, nil)
		r.first = first
		close(started)
		<-behind
		r.second, r.next, r.lost1 = l.Events(cursor, nil)
		after, _, lost := l.Events(r.next, nil)
		r.afterLost, r.afterN = lost, len(after)
		res <- r
		l.CallSoonThreadSafe(l.Stop)
	}()
	// More than a ring of events while the reader waits: each callback is a schedule and a run.
	n := 0
	var burst func()
	burst = func() {
		for range 1000 {
			l.CallSoon(func() { n++ })
		}
		if n < ring/2+20000 {
			l.CallSoon(burst)
			return
		}
		close(behind)
	}
	l.CallSoon(burst)
	<-started // the reader has its cursor before the loop runs
	guard := inspRealGuard(t, l)
	if err := l.RunForever(); err != nil {
		t.Fatal(err)
	}
	guard()
	var r result
	select {
	case r = <-res:
	case <-time.After(skGuard):
		t.Fatal("the reader did not report")
	}
	if r.lost1 == 0 {
		t.Fatalf("a reader more than a ring behind was told it lost nothing (%d events back)", len(r.second))
	}
	if len(r.second) == 0 || len(r.second) > ring {
		t.Fatalf("%d events returned after the loss", len(r.second))
	}
	var lastFirst uint64
	if len(r.first) > 0 {
		lastFirst = r.first[len(r.first)-1].Seq
	}
	if r.second[0].Seq <= lastFirst+1 {
		t.Errorf("events resume at seq %d after %d although %d chunks were lost", r.second[0].Seq, lastFirst, r.lost1)
	}
	for i := 1; i < len(r.second); i++ {
		if r.second[i].Seq != r.second[i-1].Seq+1 {
			t.Fatalf("gap inside what was returned: %d after %d", r.second[i].Seq, r.second[i-1].Seq)
		}
	}
	if r.afterLost != 0 {
		t.Errorf("reading on from the returned cursor lost %d chunks", r.afterLost)
	}
}

func TestCurrentFromAnotherGoroutine(t *testing.T) {
	l := inspLoop(t, loop.Options{})
	seen := make(chan loop.Callback, 1)
	sawIt := make(chan struct{}) // closed when the watchdog is done looking
	watchErr := make(chan error, 1)
	var target *loop.Handle
	started := make(chan uint64, 1)
	go func() {
		id := <-started
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			if cb, ok := l.Current(); ok && cb.Info.ID == id && cb.For > 0 {
				seen <- cb
				close(sawIt)
				watchErr <- nil
				return
			}
			time.Sleep(time.Millisecond)
		}
		close(sawIt)
		watchErr <- errors.New("Current never named the blocking callback within 5 s")
	}()
	l.CallSoon(func() {}, loop.WithName("before"))
	target, _ = l.CallSoon(func() {
		time.Sleep(300 * time.Millisecond)
		// Block on until the watchdog has seen us, however slow the machine is (bounded).
		select {
		case <-sawIt:
		case <-time.After(5 * time.Second):
		}
	}, loop.WithName("blocker"))
	started <- target.ID
	l.CallSoon(l.Stop)
	guard := inspRealGuard(t, l)
	if err := l.RunForever(); err != nil {
		t.Fatal(err)
	}
	guard()
	if err := <-watchErr; err != nil {
		t.Fatal(err)
	}
	cb := <-seen
	if cb.Info.Name != "blocker" || cb.Info.Kind != loop.KindCallback || cb.Since < 0 {
		t.Errorf("Current = %+v (info %+v)", cb, cb.Info)
	}
	if _, ok := l.Current(); ok {
		t.Errorf("Current reports a callback while the loop is stopped")
	}
}

// The teaching controls, driven from another goroutine. Three tickers reschedule themselves, so
// every iteration runs exactly three callbacks, always in the order 0, 1, 2.
func TestPauseStepResume(t *testing.T) {
	l := inspLoop(t, loop.Options{Debug: true})
	var runs atomic.Int64
	var order []int // loop goroutine only
	for i := range 3 {
		var tick func()
		tick = func() {
			order = append(order, i)
			runs.Add(1)
			l.CallSoon(tick, loop.WithName(fmt.Sprintf("tick-%d", i)))
		}
		l.CallSoon(tick, loop.WithName(fmt.Sprintf("tick-%d", i)))
	}

	ctlErr := make(chan error, 1)
	go func() {
		var cursor uint64
		defer func() {
			l.SetSlowMotion(0)
			l.Resume()
			l.CallSoonThreadSafe(l.Stop)
		}()
		fail := func(format string, args ...any) {
			select {
			case ctlErr <- fmt.Errorf(format, args...):
			default: // the first failure is the one reported
			}
		}
		waitFor := func(what string, cond func() bool) bool {
			deadline := time.Now().Add(skGuard)
			for !cond() {
				if time.Now().After(deadline) {
					fail("timed out waiting for %s", what)
					return false
				}
				time.Sleep(200 * time.Microsecond)
			}
			return true
		}
		// paused waits for the next "paused" event in the stream.
		paused := func(what string) bool {
			return waitFor(what, func() bool {
				evs, next, _ := l.Events(cursor, nil)
				for _, e := range evs {
					if e.Kind == loop.EvPause && e.A == 1 {
						cursor = next // a paused loop publishes nothing after this event
						return true
					}
				}
				cursor = next
				return false
			})
		}
		settle := func() { time.Sleep(30 * time.Millisecond) }

		if !waitFor("the loop to get going", func() bool { return runs.Load() > 100 }) {
			return
		}
		_, cursor, _ = l.Events(0, nil)
		l.Pause()
		if !paused("the pause") || !l.Paused() {
			fail("not paused")
			return
		}
		// Wherever it stopped, one StepIteration brings it to an iteration boundary.
		l.StepIteration()
		if !paused("the first step") {
			return
		}
		it, r := l.Iterations(), runs.Load()
		settle()
		if l.Iterations() != it || runs.Load() != r {
			fail("a paused loop moved: iterations %d -> %d, runs %d -> %d", it, l.Iterations(), r, runs.Load())
			return
		}
		// Inspect runs on the loop goroutine while it is paused.
		inspected := make(chan loop.Snapshot, 1)
		if !l.Inspect(func(il *loop.Loop) {
			// Debug mode: this would be refused off the loop goroutine.
			h, err := il.CallLater(time.Hour, func() {})
			if err != nil {
				fail("CallLater in Inspect: %v", err)
			} else {
				h.Cancel()
			}
			inspected <- il.Snapshot()
		}) {
			fail("Inspect refused")
			return
		}
		select {
		case s := <-inspected:
			if got := inspNames(s.Ready); !slices.Equal(got, []string{"tick-0", "tick-1", "tick-2"}) {
				fail("snapshot while paused at a boundary: ready %q", got)
				return
			}
			if s.Iteration != it {
				fail("snapshot iteration %d, Iterations() %d", s.Iteration, it)
				return
			}
		case <-time.After(skGuard):
			fail("Inspect did not run while paused")
			return
		}
		// StepIteration: exactly one iteration, three callbacks.
		for k := 1; k <= 3; k++ {
			l.StepIteration()
			if !paused("a stepped iteration") {
				return
			}
			if got, gotRuns := l.Iterations(), runs.Load(); got != it+uint64(k) || gotRuns != r+int64(3*k) {
				fail("after %d StepIteration: iterations +%d, callbacks +%d; want +%d, +%d", k, got-it, gotRuns-r, k, 3*k)
				return
			}
		}
		it, r = l.Iterations(), runs.Load()
		// StepCallback: exactly one callback each; the third ends the iteration.
		for k := 1; k <= 3; k++ {
			l.StepCallback()
			if !paused("a stepped callback") {
				return
			}
			if got := runs.Load(); got != r+int64(k) {
				fail("after %d StepCallback: callbacks +%d, want +%d", k, got-r, k)
				return
			}
			if k == 1 {
				// Paused before tick-1: the loop holds it, off the queue, and it runs next, so
				// the snapshot lists it first; tick-0 ran and queued itself again.
				snap := make(chan loop.Snapshot, 1)
				l.Inspect(func(il *loop.Loop) { snap <- il.Snapshot() })
				select {
				case s := <-snap:
					if got := inspNames(s.Ready); !slices.Equal(got, []string{"tick-1", "tick-2", "tick-0"}) {
						fail("snapshot while paused between callbacks: ready %q, want tick-1, tick-2, tick-0", got)
						return
					}
				case <-time.After(skGuard):
					fail("Inspect did not run while paused between callbacks")
					return
				}
			}
		}
		settle()
		if got := l.Iterations(); got != it+1 || runs.Load() != r+3 {
			fail("three StepCallbacks: iterations +%d, callbacks +%d; want +1, +3", got-it, runs.Load()-r)
			return
		}
		// Slow motion, then Resume: the loop runs on.
		l.SetSlowMotion(time.Millisecond)
		r = runs.Load()
		l.Resume()
		if l.Paused() {
			fail("still paused after Resume")
			return
		}
		if !waitFor("callbacks in slow motion", func() bool { return runs.Load() >= r+20 }) {
			return
		}
		l.SetSlowMotion(0)
		r = runs.Load()
		if !waitFor("callbacks after slow motion", func() bool { return runs.Load() >= r+300 }) {
			return
		}
		fail("") // success: an empty message
	}()
	if err := l.RunForever(); err != nil {
		t.Fatal(err)
	}
	if err := <-ctlErr; err.Error() != "" {
		t.Fatal(err)
	}
	for i, v := range order {
		if v != i%3 {
			t.Fatalf("callback %d was tick-%d, want tick-%d: the controls skipped or repeated work", i, v, i%3)
		}
	}
	if int64(len(order)) != runs.Load() {
		t.Errorf("%d runs recorded, %d counted", len(order), runs.Load())
	}
}

func TestVirtualTime(t *testing.T) {
	cases := []struct {
		name     string
		schedule func(l *loop.Loop, fired func(string)) loop.Coroutine
		want     []string // "name@loop time"
	}{
		{
			name: "timers fire in order at their due times",
			schedule: func(l *loop.Loop, fired func(string)) loop.Coroutine {
				for _, h := range []time.Duration{2 * time.Hour, time.Hour, 90 * time.Minute, 3 * time.Hour} {
					l.CallLater(h, func() { fired(h.String()) })
				}
				return func(co *loop.Co) (any, error) { return nil, co.Sleep(4 * time.Hour) }
			},
			want: []string{"1h0m0s@1h0m0s", "1h30m0s@1h30m0s", "2h0m0s@2h0m0s", "3h0m0s@3h0m0s"},
		},
		{
			name: "CallAt",
			schedule: func(l *loop.Loop, fired func(string)) loop.Coroutine {
				l.CallAt(5*time.Hour, func() { fired("at 5h") })
				l.CallAt(time.Hour, func() { fired("at 1h") })
				return func(co *loop.Co) (any, error) { return nil, co.Sleep(6 * time.Hour) }
			},
			want: []string{"at 1h@1h0m0s", "at 5h@5h0m0s"},
		},
		{
			name: "a task's sleeps add up exactly",
			schedule: func(l *loop.Loop, fired func(string)) loop.Coroutine {
				return func(co *loop.Co) (any, error) {
					for i := range 3 {
						if err := co.Sleep(time.Hour); err != nil {
							return nil, err
						}
						fired(fmt.Sprint("slept ", i))
					}
					return nil, nil
				}
			},
			want: []string{"slept 0@1h0m0s", "slept 1@2h0m0s", "slept 2@3h0m0s"},
		},
		{
			name: "WaitFor times out at its deadline",
			schedule: func(l *loop.Loop, fired func(string)) loop.Coroutine {
				return func(co *loop.Co) (any, error) {
					_, err := co.WaitFor(func(co *loop.Co) (any, error) { return nil, co.Sleep(2 * time.Hour) }, time.Hour)
					if errors.Is(err, loop.ErrTimeout) {
						fired("timeout")
					}
					return nil, nil
				}
			},
			want: []string{"timeout@1h0m0s"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := inspLoop(t, loop.Options{VirtualTime: true})
			if !l.VirtualTime() || l.Time() != 0 {
				t.Fatalf("VirtualTime %v, Time %v", l.VirtualTime(), l.Time())
			}
			var got []string
			main := tc.schedule(l, func(what string) { got = append(got, fmt.Sprintf("%s@%v", what, l.Time())) })
			guard := inspRealGuard(t, l)
			if _, err := l.RunUntilComplete(main); err != nil {
				t.Fatal(err)
			}
			guard()
			if !slices.Equal(got, tc.want) {
				t.Errorf("fired %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSetVirtualTimeMonotonic(t *testing.T) {
	type step struct {
		op    string // "virtual", "real", "hour" (run a 1 h timer), "wait" (2 ms of real time)
		check string // "frozen", "advances", "+1h"
	}
	cases := []struct {
		name  string
		steps []step
	}{
		{"real, virtual, real", []step{{op: "wait"}, {op: "virtual", check: "frozen"}, {op: "hour", check: "+1h"}, {op: "real"}, {op: "wait", check: "advances"}}},
		{"switch twice", []step{{op: "virtual"}, {op: "virtual", check: "frozen"}, {op: "real"}, {op: "real"}, {op: "wait", check: "advances"}, {op: "virtual"}, {op: "hour", check: "+1h"}}},
		{"virtual in a callback", []step{{op: "hour-switching", check: "+1h"}, {op: "real"}, {op: "wait", check: "advances"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := inspLoop(t, loop.Options{})
			prev := l.Time()
			for i, st := range tc.steps {
				before := l.Time()
				switch st.op {
				case "virtual":
					l.SetVirtualTime(true)
				case "real":
					l.SetVirtualTime(false)
				case "wait":
					time.Sleep(2 * time.Millisecond)
				case "hour", "hour-switching":
					var at time.Duration
					guard := inspRealGuard(t, l)
					if st.op == "hour-switching" {
						l.CallSoon(func() {
							l.SetVirtualTime(true)
							before = l.Time()
						})
					}
					l.CallSoon(func() {
						l.CallLater(time.Hour, func() { at = l.Time(); l.Stop() })
					})
					if err := l.RunForever(); err != nil {
						t.Fatal(err)
					}
					guard()
					if at != before+time.Hour || l.Time() != at {
						t.Errorf("step %d: the 1 h timer fired at %v, %v after %v; Time now %v", i, at, at-before, before, l.Time())
					}
				}
				now := l.Time()
				if now < prev {
					t.Fatalf("step %d (%s): Time went back from %v to %v", i, st.op, prev, now)
				}
				switch st.check {
				case "frozen":
					time.Sleep(2 * time.Millisecond)
					if !l.VirtualTime() || l.Time() != now {
						t.Errorf("step %d: virtual time moved on its own: %v -> %v", i, now, l.Time())
					}
				case "advances":
					if l.VirtualTime() || now <= before {
						t.Errorf("step %d: real time did not advance over a sleep: %v -> %v", i, before, now)
					}
				case "+1h":
					if now != before+time.Hour {
						t.Errorf("step %d: Time %v, want %v", i, now, before+time.Hour)
					}
				}
				prev = now
			}
		})
	}
}

var errInspJob = errors.New("job failed")

func TestRunInExecutor(t *testing.T) {
	cases := []struct {
		name    string
		fn      func() (any, error)
		opts    []loop.Opt
		want    any
		wantErr error
		panic   any
		label   string
	}{
		{name: "result", fn: func() (any, error) { return 42, nil }, want: 42, label: "executor loop_test."},
		{name: "error", fn: func() (any, error) { return nil, errInspJob }, wantErr: errInspJob},
		{name: "panic", fn: func() (any, error) { panic("job boom") }, panic: "job boom"},
		{name: "panic with an error", fn: func() (any, error) { panic(errInspJob) }, panic: errInspJob, wantErr: errInspJob},
		{name: "named", fn: func() (any, error) { return "x", nil }, opts: []loop.Opt{loop.WithName("my job")}, want: "x", label: "my job"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := inspLoop(t, loop.Options{})
			var fut *loop.Future
			res, err := skRun(t, l, func(co *loop.Co) (any, error) {
				var err error
				fut, err = l.RunInExecutor(tc.fn, tc.opts...)
				if err != nil {
					return nil, err
				}
				return co.Await(fut)
			})
			if tc.label != "" && !strings.HasPrefix(fut.Name, tc.label) {
				t.Errorf("future name %q, want %q...", fut.Name, tc.label)
			}
			if tc.panic != nil {
				var pe *loop.PanicError
				if !errors.As(err, &pe) || pe.Value != tc.panic || len(pe.Stack) == 0 {
					t.Fatalf("error %#v, want a *PanicError of %v", err, tc.panic)
				}
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("error %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr == nil && tc.panic == nil && (err != nil || res != tc.want) {
				t.Errorf("result %v, %v; want %v", res, err, tc.want)
			}
		})
	}
	t.Run("cancelled while in flight", func(t *testing.T) {
		l := inspLoop(t, loop.Options{})
		release := make(chan struct{})
		var fut *loop.Future
		_, err := skRun(t, l, func(co *loop.Co) (any, error) {
			fut, _ = l.RunInExecutor(func() (any, error) { <-release; return 1, nil })
			fut.Cancel()
			close(release)
			// The job's late result must be dropped quietly: wait until its callback has run (the
			// loop publishes its events before it sleeps).
			for deadline := time.Now().Add(skGuard); time.Now().Before(deadline); {
				if err := co.Sleep(time.Millisecond); err != nil {
					return nil, err
				}
				evs, _, _ := l.Events(0, nil)
				for _, e := range evs {
					if e.Kind == loop.EvRun && e.Info.Name == "executor result" {
						return nil, nil
					}
				}
			}
			return nil, errors.New("the job's result never arrived")
		})
		if err != nil || !fut.Cancelled() {
			t.Errorf("%v; future %v", err, fut)
		}
	})
}

// In virtual time the clock must not jump past an executor job in flight: the job's result is
// seen before a timer that is due later in virtual time, however long the job takes in real time.
func TestRunInExecutorVirtualTime(t *testing.T) {
	for _, jobTime := range []time.Duration{0, 50 * time.Millisecond} {
		t.Run(jobTime.String(), func(t *testing.T) {
			l := inspLoop(t, loop.Options{VirtualTime: true})
			var events []string
			note := func(what string) { events = append(events, fmt.Sprintf("%s@%v", what, l.Time())) }
			l.CallLater(time.Hour, func() { note("timer") })
			guard := inspRealGuard(t, l)
			_, err := l.RunUntilComplete(func(co *loop.Co) (any, error) {
				f, err := l.RunInExecutor(func() (any, error) { time.Sleep(jobTime); return "job", nil })
				if err != nil {
					return nil, err
				}
				f.AddDoneCallback(func(*loop.Future) { note("job result") })
				if _, err := co.Await(f); err != nil {
					return nil, err
				}
				return nil, co.Sleep(2 * time.Hour)
			})
			guard()
			if err != nil {
				t.Fatal(err)
			}
			want := []string{"job result@0s", "timer@1h0m0s"}
			if !slices.Equal(events, want) {
				t.Errorf("events %q, want %q", events, want)
			}
		})
	}
	// Many jobs at once, many times: once the last result has been taken in, the loop must jump
	// to the timer rather than sleep on it in real time (it did, now and then, when the job count
	// dropped on the job's goroutine after the loop had already run the result).
	t.Run("many jobs, repeatedly", func(t *testing.T) {
		for run := range 300 {
			l, err := loop.New(loop.Options{VirtualTime: true})
			if err != nil {
				t.Fatal(err)
			}
			l.CallLater(time.Hour, func() {})
			stuck := time.AfterFunc(skGuard, func() { l.CallSoonThreadSafe(l.Stop) })
			_, err = l.RunUntilComplete(func(co *loop.Co) (any, error) {
				var fs []*loop.Future
				for j := range 20 {
					f, err := l.RunInExecutor(func() (any, error) { return j, nil })
					if err != nil {
						return nil, err
					}
					fs = append(fs, f)
				}
				for _, f := range fs {
					if _, err := co.Await(f); err != nil {
						return nil, err
					}
				}
				return nil, co.Sleep(2 * time.Hour)
			})
			if !stuck.Stop() || err != nil {
				t.Fatalf("run %d: the loop slept on a finished job in virtual time (%v)", run, err)
			}
			l.Close()
		}
	})
}

// CallerOwner answers from any goroutine: the owner of the loop work the caller is doing, or
// false when the caller is not doing this loop's work. A loop created by owned work belongs to it.
// Debug mode answers through the loop's goroutine check, which knows the running task's
// coroutine.
func TestCallerOwner(t *testing.T) {
	for _, debug := range []bool{false, true} {
		t.Run(fmt.Sprintf("debug=%t", debug), func(t *testing.T) { testCallerOwner(t, debug) })
	}
}

func testCallerOwner(t *testing.T, debug bool) {
	l := inspLoop(t, loop.Options{Debug: debug})
	type seen struct {
		owner loop.Owner
		ok    bool
	}
	got := map[string]seen{}
	ask := func(what string) { o, ok := l.CallerOwner(); got[what] = seen{o, ok} }
	var innerOwner loop.Owner
	ask("outside the running loop")
	l.CallSoon(func() { ask("callback") }, loop.WithOwner(5))
	l.CreateTask(func(co *loop.Co) (any, error) {
		ask("task")
		co.Sleep(0)
		ask("task after a suspension")
		done := make(chan struct{})
		go func() { ask("goroutine started by a task"); close(done) }()
		<-done
		inner, err := loop.New()
		if err != nil {
			return nil, err
		}
		defer inner.Close()
		_, err = inner.RunUntilComplete(func(co *loop.Co) (any, error) {
			h, _ := inner.CallSoon(func() {})
			innerOwner = h.Owner
			return nil, nil
		})
		return nil, err
	}, loop.WithOwner(6))
	if _, err := skRun(t, l, func(co *loop.Co) (any, error) { return nil, co.Sleep(time.Millisecond) }); err != nil {
		t.Fatal(err)
	}
	want := map[string]seen{
		"outside the running loop":    {0, false},
		"callback":                    {5, true},
		"task":                        {6, true},
		"task after a suspension":     {6, true},
		"goroutine started by a task": {0, false},
	}
	for what, w := range want {
		if got[what] != w {
			t.Errorf("%s: CallerOwner = %+v, want %+v", what, got[what], w)
		}
	}
	if innerOwner != 6 {
		t.Errorf("a loop created inside owner 6's task gave its work owner %d, want 6", innerOwner)
	}
}

// TestCallbackPCLabels: a callback's label comes from its code pointer, read without
// reflection; it must agree with reflection for closures, functions and method values.
func TestCallbackPCLabels(t *testing.T) {
	l := inspLoop(t, loop.Options{})
	var m labelledType
	fns := map[string]func(){
		"closure": func() {},
		"func":    labelledCallback,
		"method":  m.callback,
	}
	for name, fn := range fns {
		h, err := l.CallSoon(fn)
		if err != nil {
			t.Fatal(err)
		}
		want := runtime.FuncForPC(reflect.ValueOf(fn).Pointer()).Name()
		if i := strings.LastIndexByte(want, '/'); i >= 0 {
			want = want[i+1:]
		}
		if got := h.Label(); got != want {
			t.Errorf("%s: Label() = %q, want %q", name, got, want)
		}
	}
	dbgSpin(t, l, 1)
}

func labelledCallback() {}

type labelledType struct{}

func (labelledType) callback() {}

// A timer that has fired but not yet run (it waits in the ready queue behind the callback that
// cancels its owner) is cancelled with the rest: a cell's self-rearming timer must stop however
// the cancellation falls (found as TestMonitorIdleIsQuiet in the kernel ticking on).
func TestCancelOwnedFiredTimer(t *testing.T) {
	l := inspLoop(t, loop.Options{})
	ran := false
	var got loop.Owned
	l.CallLater(0, func() { ran = true }, loop.WithOwner(7))
	// Scheduled before the timer fires, so it runs first in the iteration that moves the
	// timer to the ready queue.
	l.CallSoon(func() { got = l.CancelOwned(7) })
	dbgSpin(t, l, 3)
	if ran {
		t.Error("the fired timer ran after its owner was cancelled")
	}
	if want := (loop.Owned{Ready: 1}); got != want {
		t.Errorf("CancelOwned(7) = %+v, want %+v", got, want)
	}
}

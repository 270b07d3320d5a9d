package loop

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// Loop is an asyncio-style event loop. One goroutine runs it (RunForever or RunUntilComplete);
// every method except CallSoonThreadSafe, Stop from another goroutine via CallSoonThreadSafe, and
// the introspection readers documented as goroutine-safe must be called from that goroutine or
// from code the loop runs. In debug mode a call from elsewhere returns ErrWrongGoroutine.
type Loop struct {
	ready           queue
	timers          timerHeap
	cancelledTimers int
	poller          poller
	watchers        fdTable
	dirty           []*watcher // watchers with deferred removals, flushed before each poll
	spare           []Handle   // a block of fresh handles for newHandle
	nspare          int        // how many of spare are handed out
	pollEvents      []pollEvent
	// What the latest poll told about read readiness (see readIdle): polls counts the polls, and
	// the latest one happened in iteration pollIter and may have left events unreported when
	// pollPartial.
	polls       uint64
	pollIter    uint64
	pollPartial bool

	spareDone  []doneHandle // a block of fresh handles for newDoneHandle
	nspareDone int          // how many of spareDone are handed out

	taskG     atomic.Int64   // goroutine of the task being stepped, in debug mode
	taskTok   atomic.Uintptr // gtoken of the task being stepped, in debug mode (0: unknown)
	tasksMade int

	running  atomic.Bool
	closed   atomic.Bool
	stopping bool
	loopG    int64          // goroutine running the loop, recorded in debug mode
	loopTok  atomic.Uintptr // gtoken of the goroutine running the loop, 0 when it does not run

	clock  clock
	nextID uint64 // ids are handed out on the loop goroutine only

	// Goroutine-safe inbox of CallSoonThreadSafe.
	inboxMu  sync.Mutex
	inbox    []*Handle
	inboxSet atomic.Bool // the inbox is non-empty

	executorJobs atomic.Int64
	executorWG   sync.WaitGroup

	tasks       map[uint64]*Task
	currentTask *Task
	owner       Owner // owner of the work running now; new work inherits it

	debug        bool
	slowCallback time.Duration
	siteHook     func() *Site
	excHandler   func(*Loop, ExceptionContext)
	logw         io.Writer
	unretrieved  map[*Future]struct{}
	coros        map[*Coro]struct{}

	tr  tracer
	ctl control
}

// Options configure New. The zero value is a real-time loop with debug off.
type Options struct {
	// Poller picks a readiness backend by name ("epoll", "kqueue", "poll"); empty picks the best.
	Poller string
	// VirtualTime starts the loop in virtual time: when nothing is ready and no I/O or executor
	// work is pending, the clock jumps to the next timer instead of sleeping.
	VirtualTime bool
	// Clock, if set, replaces the real monotonic clock: it must never go backwards. Loop time is
	// the time it has advanced since New. Tests and replays inject one; most users want
	// VirtualTime instead.
	Clock func() time.Duration
	// Debug turns on asyncio's debug mode (see SetDebug).
	Debug bool
	// Log receives the default exception handler's and debug mode's reports; nil means os.Stderr.
	Log io.Writer
}

// New creates a loop. It fails only when the operating system refuses the poller's descriptors.
func New(opts ...Options) (*Loop, error) {
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	p, err := newPoller(o.Poller)
	if err != nil {
		return nil, fmt.Errorf("loop: new: %w", err)
	}
	l := &Loop{
		poller:       p,
		pollEvents:   make([]pollEvent, 128),
		tasks:        make(map[uint64]*Task),
		slowCallback: 100 * time.Millisecond,
		logw:         o.Log,
		unretrieved:  make(map[*Future]struct{}),
		coros:        make(map[*Coro]struct{}),
	}
	if l.logw == nil {
		l.logw = os.Stderr
	}
	l.clock.init(o.VirtualTime, o.Clock)
	l.tr.init(&l.clock)
	l.debug = o.Debug
	// A loop created by work running on another loop (a notebook cell's private loop) belongs to
	// that work: what it schedules outside its own callbacks carries the creator's owner.
	if outer, err := Running(); err == nil {
		if o, ok := outer.CallerOwner(); ok {
			l.owner = o
		}
	}
	return l, nil
}

// Time returns the loop's monotonic clock: time since the loop was created (virtual in virtual
// time). Like asyncio's loop.time(), it is the time base of CallAt.
func (l *Loop) Time() time.Duration { return l.clock.now() }

// Seconds returns Time in seconds, for printouts that read like Python's loop.time().
func (l *Loop) Seconds() float64 { return l.clock.now().Seconds() }

// IsRunning reports whether the loop is inside RunForever or RunUntilComplete. Goroutine-safe.
//
// (Every method is documented with its asyncio twin; see the package documentation.)
func (l *Loop) IsRunning() bool { return l.running.Load() }

// IsClosed reports whether Close was called. Goroutine-safe.
func (l *Loop) IsClosed() bool { return l.closed.Load() }

// Debug reports whether debug mode is on.
func (l *Loop) Debug() bool { return l.debug }

// SetDebug turns asyncio's debug mode on or off: slow callbacks are reported after they return,
// creation sites are recorded, and use from a wrong goroutine is refused with ErrWrongGoroutine.
// Coroutines never awaited, tasks pending at Close and exceptions never retrieved are reported in
// either mode, deterministically (at Close, or when the kernel calls Report).
func (l *Loop) SetDebug(on bool) {
	l.debug = on
	if on && l.running.Load() {
		l.loopG = goid()
	}
}

// SetSlowCallbackDuration sets the debug-mode threshold for the slow-callback warning (asyncio's
// slow_callback_duration, default 100 ms).
func (l *Loop) SetSlowCallbackDuration(d time.Duration) { l.slowCallback = d }

// SlowCallbackDuration returns the slow-callback threshold.
func (l *Loop) SlowCallbackDuration() time.Duration { return l.slowCallback }

// SetSiteHook installs a function that tells the loop where new work is being created; the
// notebook kernel uses it to report cell lines. Without a hook, debug mode records the Go caller.
func (l *Loop) SetSiteHook(fn func() *Site) { l.siteHook = fn }

// SetOwner sets the owner of work created from now on outside any callback (inside a callback,
// work inherits the callback's owner). It returns the previous owner.
func (l *Loop) SetOwner(o Owner) Owner {
	prev := l.owner
	l.owner = o
	return prev
}

// CurrentOwner returns the owner new work would get. Call it on the loop's goroutine.
func (l *Loop) CurrentOwner() Owner { return l.owner }

// CallerOwner reports, from any goroutine, the owner of the work the caller is doing for this
// loop: ok is true when the caller is this loop's goroutine or one of its tasks' coroutines (the
// loop is then waiting for it, so reading the owner is safe). The notebook kernel uses it to
// route output to the cell that owns the code printing it. It costs about a microsecond.
func (l *Loop) CallerOwner() (o Owner, ok bool) {
	if l.onRunningGoroutine() {
		return l.owner, true
	}
	if loopOf(goid()) != l {
		return 0, false
	}
	return l.owner, true
}

func (l *Loop) check() error {
	if l.closed.Load() {
		return ErrClosed
	}
	if l.debug && l.running.Load() && !l.onLoopGoroutine() {
		return ErrWrongGoroutine
	}
	return nil
}

// initInfo fills an Info in place (the hot path: no copy of the struct).
func (l *Loop) initInfo(in *Info, kind Kind, pc uintptr, opts []Opt) {
	l.nextID++
	in.ID, in.Kind, in.Owner, in.pc = l.nextID, kind, l.owner, pc
	if site := l.site(); site != nil { // in is new: no store (and write barrier) for nil
		in.Site = site
	}
	for _, o := range opts {
		o(in)
	}
}

// CallSoon schedules fn to run in the next iteration's ready batch, after everything scheduled
// before it (asyncio's call_soon).
func (l *Loop) CallSoon(fn func(), opts ...Opt) (*Handle, error) {
	if err := l.check(); err != nil {
		return nil, err
	}
	h := l.newHandle(fn)
	l.initInfo(&h.Info, KindCallback, callbackPC(fn), opts)
	l.ready.push(h)
	l.tr.sched(h, 0)
	return h, nil
}

// handleBlock is how many handles newHandle allocates at once.
const handleBlock = 32

// newHandle returns a fresh one-shot callback handle for fn, carved from a block of handleBlock:
// one allocation per block instead of one per CallSoon, which was a tenth of a CallSoon chain's
// hop. A block lives while any of its handles is referenced (by the event ring, the ready queue or
// the user), so a handle drops its function once it has run (see run): a kept handle holds on to
// its block's memory, not to the closures of its neighbours. Loop goroutine only.
func (l *Loop) newHandle(fn func()) *Handle {
	if l.nspare == len(l.spare) {
		l.spare, l.nspare = make([]Handle, handleBlock), 0
	}
	h := &l.spare[l.nspare]
	l.nspare++
	h.fn, h.loop = fn, l
	return h
}

// push schedules work of the loop itself (done callbacks, task steps) without checks.
func (l *Loop) push(h *Handle) {
	l.ready.push(h)
	l.tr.sched(h, 0)
}

// CallSoonThreadSafe is CallSoon for any goroutine: it queues fn and wakes the loop if it is
// polling. Wake-ups are coalesced: many calls between two iterations cost one write to the
// poller's wake-up source (an eventfd, a kqueue user event or a pipe).
func (l *Loop) CallSoonThreadSafe(fn func(), opts ...Opt) (*Handle, error) {
	// The id is given when the loop takes the handle in (drainInbox): ids are the loop's to hand out.
	in := Info{Kind: KindCallback, pc: callbackPC(fn)}
	for _, o := range opts {
		o(&in)
	}
	h := &Handle{Info: in, fn: fn, loop: l}
	// The closed check and the wake-up happen under the inbox lock, which Close takes before it
	// releases the poller: a wake-up can never be written to a closed (or reused) descriptor.
	l.inboxMu.Lock()
	defer l.inboxMu.Unlock()
	if l.closed.Load() {
		return nil, ErrClosed
	}
	l.inbox = append(l.inbox, h)
	l.inboxSet.Store(true)
	if err := l.poller.wakeup(); err != nil {
		return h, err
	}
	return h, nil
}

// drainInbox moves CallSoonThreadSafe work onto the ready queue.
func (l *Loop) drainInbox() {
	if !l.inboxSet.Load() {
		return
	}
	l.inboxSet.Store(false)
	l.inboxMu.Lock()
	in := l.inbox
	l.inbox = nil
	l.inboxMu.Unlock()
	for _, h := range in {
		l.nextID++
		h.ID = l.nextID
		if h.Owner == 0 {
			h.Owner = l.owner
		}
		l.push(h)
	}
}

// CallLater schedules fn to run after d (asyncio's call_later). Equal deadlines are ordered as
// asyncio's heap orders them.
func (l *Loop) CallLater(d time.Duration, fn func(), opts ...Opt) (*TimerHandle, error) {
	return l.CallAt(l.clock.now()+d, fn, opts...)
}

// CallAt schedules fn for loop time when (asyncio's call_at).
func (l *Loop) CallAt(when time.Duration, fn func(), opts ...Opt) (*TimerHandle, error) {
	if err := l.check(); err != nil {
		return nil, err
	}
	t := &TimerHandle{Handle: Handle{fn: fn, loop: l}, when: when}
	l.initInfo(&t.Info, KindTimer, callbackPC(fn), opts)
	l.timers.push(t)
	l.tr.sched(&t.Handle, int64(when))
	return t, nil
}

// Stop asks the loop to stop: the current batch of callbacks finishes, then RunForever returns.
// Called before RunForever, the next run polls once without waiting, runs what is ready and
// returns — asyncio's behaviour.
func (l *Loop) Stop() { l.stopping = true }

// RunForever runs the loop until Stop is called.
func (l *Loop) RunForever() error {
	if err := l.check(); err != nil {
		return err
	}
	if !l.running.CompareAndSwap(false, true) {
		return ErrAlreadyRunning
	}
	if l.debug {
		l.loopG = goid()
	}
	l.loopTok.Store(gtoken())
	prev := setRunning(l)
	defer func() {
		l.loopTok.Store(0) // before running is cleared: a token is never stale while it is set
		setRunning(prev)
		l.stopping = false
		l.running.Store(false)
		l.tr.publish()
	}()
	for {
		l.runOnce()
		if l.stopping {
			return nil
		}
	}
}

// RunUntilComplete runs the loop until a finishes and returns its result (asyncio's
// run_until_complete). a is a *Future, a *Task, a Coroutine or a *Coro; a coroutine is wrapped in
// a task. If the loop is stopped first, it returns ErrStoppedBeforeComplete.
func (l *Loop) RunUntilComplete(a Awaitable) (any, error) {
	if err := l.check(); err != nil {
		if c, ok := a.(*Coro); ok {
			l.neverAwaited(c)
		}
		return nil, err
	}
	if l.running.Load() {
		return nil, ErrAlreadyRunning
	}
	f, err := l.ensureFuture(a)
	if err != nil {
		return nil, err
	}
	stopper := f.addDone(doneEntry{fn: func(*Future) { l.Stop() }})
	err = l.RunForever()
	f.removeDone(stopper)
	if err != nil {
		return nil, err
	}
	if !f.Done() {
		return nil, ErrStoppedBeforeComplete
	}
	return f.Result()
}

// Close closes the loop (asyncio's close): it may not run; closing twice does nothing. Queued
// callbacks and timers are dropped; tasks still pending are reported ("Task was destroyed but it
// is pending!") and their coroutines unwound; executor work is waited for briefly; the poller's
// descriptors are released. Every later call returns ErrClosed.
func (l *Loop) Close() error {
	if l.running.Load() {
		return ErrCloseRunning
	}
	if l.closed.Load() {
		return nil
	}
	l.inboxMu.Lock()
	l.closed.Store(true)
	l.inbox = nil
	l.inboxMu.Unlock()
	l.tr.emit(EvClose, 0, 0, 0)
	l.ready.clear()
	for _, t := range l.timers {
		t.index = -1
	}
	l.timers = nil
	for _, t := range l.sortedTasks() {
		if !t.Done() {
			l.report(ExceptionContext{Message: "Task was destroyed but it is pending!", Task: t})
			t.destroy()
		}
	}
	l.Report(0)
	waitTimeout(&l.executorWG, time.Second)
	l.tr.publish()
	return l.poller.close()
}

func waitTimeout(wg *sync.WaitGroup, d time.Duration) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	}
}

// runOnce is one iteration of asyncio's _run_once, in its named steps: compact, poll, io,
// timers, ready.
func (l *Loop) runOnce() {
	l.ctl.boundary(l)
	tr := &l.tr
	tr.iterStart()
	if l.inboxSet.Load() {
		l.drainInbox()
	}

	// Step "compact": drop cancelled timers at the head, or rebuild the heap when more than 100
	// timers are scheduled and more than half of them are cancelled.
	if n := len(l.timers); n > minScheduledTimers && float64(l.cancelledTimers)/float64(n) > minCancelledTimerFrac {
		l.timers.compact()
		l.cancelledTimers = 0
	} else {
		for len(l.timers) > 0 && l.timers[0].cancelled {
			l.timers.pop()
			l.cancelledTimers--
		}
	}

	// Step "poll": choose the timeout, then wait for I/O.
	timeout := time.Duration(-1)
	if l.ready.len() > 0 || l.stopping {
		timeout = 0
	} else if len(l.timers) > 0 {
		timeout = min(max(0, l.timers[0].when-l.clock.at(tr.read(&l.clock))), maximumSelectTimeout)
	}
	if timeout != 0 && l.clock.virtual && len(l.timers) > 0 && l.executorJobs.Load() == 0 {
		l.flush()
		// Virtual time: look for I/O without waiting; if nothing can happen, jump to the timer.
		if n := l.poll(0); n == 0 && !l.inboxSet.Load() {
			l.clock.advanceTo(l.timers[0].when)
		}
		timeout = 0
	}
	if len(l.dirty) > 0 {
		l.flush()
	}
	nev := 0
	var now time.Duration // the exact reading right after polling, when polled
	polled := false
	if timeout != 0 || l.watchers.len() > 0 {
		// With nothing watched but the wake-up source, a zero-timeout poll could only find what
		// the inbox flag already says, so such iterations make no syscall at all.
		if timeout != 0 {
			tr.publish() // let readers see everything before the loop sleeps
		}
		before := tr.last
		nev = l.poll(timeout)
		if timeout != 0 || len(l.timers) > 0 {
			// A poll that may wait is timed: what it waits is the loop's idle time. A poll before
			// a timers step is timed too: that step needs the time after the poll anyway.
			now = tr.read(&l.clock)
			tr.polled(timeout, nev, max(0, now-before))
			polled = true
		} else {
			// A poll that cannot wait is not idle time and is not timed (a clock reading costs
			// a tenth of such an iteration): it is stamped with the reading before it, and what
			// it took counts as busy time, in the first callback's run or the iteration's end.
			tr.polled(0, nev, 0)
		}
	}
	if l.inboxSet.Load() {
		l.drainInbox()
	}

	// Step "io": turn ready fds into ready callbacks.
	for i := 0; i < nev; i++ {
		ev := l.pollEvents[i]
		w := l.watchers.get(ev.fd)
		if w == nil {
			continue
		}
		// As asyncio's _process_events: a cancelled watcher is removed when it next fires.
		if r := w.reader; ev.events&pollRead != 0 && r != nil {
			if r.cancelled {
				l.RemoveReader(ev.fd)
			} else {
				w.readFires++
				tr.fdReady(r.ID, ev.fd, pollRead)
				l.ready.push(r)
			}
		}
		if wr := w.writer; ev.events&pollWrite != 0 && wr != nil {
			if wr.cancelled {
				l.RemoveWriter(ev.fd)
			} else {
				w.writeFires++
				tr.fdReady(wr.ID, ev.fd, pollWrite)
				l.ready.push(wr)
			}
		}
	}

	// Step "timers": move every timer due by now + clock resolution to the ready queue.
	if len(l.timers) > 0 {
		// The reading taken after the poll serves: only the io step, which runs no callbacks,
		// lies between the two.
		if !polled {
			now = tr.read(&l.clock)
		}
		end := l.clock.at(now) + clockResolution
		for len(l.timers) > 0 && l.timers[0].when < end {
			t := l.timers.pop()
			if t.cancelled {
				// CPython does not uncount these: only heads dropped before the poll are, so its
				// rebuild heuristic (and with it the order of equal deadlines) is kept exactly.
				continue
			}
			tr.timerDue(t.ID)
			l.ready.push(&t.Handle)
		}
	}

	// Step "ready": run only the callbacks that were ready when this step began.
	ntodo := l.ready.len()
	for left := ntodo; left > 0; {
		left = l.runReady(left)
	}
	l.ready.settle()
	tr.iterEnd(ntodo)
}

// runReady runs the next n ready callbacks, with the owner, tracing and panic safety the loop
// promises, and returns how many of the n it did not get to: 0, unless one panicked. Then the
// panic has been reported and the caller calls again for the rest. A callback that panics is
// "Exception in callback", not the loop's end, as in asyncio. The recover is set up once per
// batch, not once per callback: a deferred call around every callback cost a few nanoseconds of
// each, a noticeable part of a chain's hop.
func (l *Loop) runReady(n int) (left int) {
	var h *Handle // the callback running now
	var prevOwner Owner
	var start time.Time
	returned := false
	inCallback := false // a panic elsewhere (the loop's own code) is not the callback's
	defer func() {
		// recover is called only when the batch did not return (a panic, or runtime.Goexit, for
		// which it returns nil): calling it otherwise cost more than the check of a flag.
		if returned {
			return
		}
		if r := recover(); r != nil {
			if !inCallback {
				panic(r)
			}
			if h.Kind == KindStep {
				taskOfStep(h).panicked(r) // the task ends with the panic; the loop is not told
			} else {
				l.report(ExceptionContext{
					Message: fmt.Sprintf("Exception in callback %s", h),
					Err:     &PanicError{Value: r, Stack: debug.Stack()},
					Handle:  h,
				})
			}
			l.ran(h, prevOwner, start)
			left = n - 1 // n counts down below; the callback that panicked is done
		}
	}()
	for ; n > 0; n-- {
		h = l.ready.pop()
		if h.cancelled {
			continue
		}
		if l.ctl.active.Load() {
			l.ctl.beforeCallback(l, h)
		}
		prevOwner = l.owner
		l.owner = h.Owner
		l.tr.runStart(h)
		if l.debug {
			start = time.Now()
		}
		inCallback = true
		if h.Kind == KindStep {
			taskOfStep(h).step()
		} else if h.call == callFn {
			h.fn()
		} else {
			h.runSpecial()
		}
		inCallback = false
		l.ran(h, prevOwner, start)
	}
	returned = true
	return 0
}

// ran finishes a callback's run: what runReady does after the callback returned or panicked.
func (l *Loop) ran(h *Handle, prevOwner Owner, start time.Time) {
	if h.Kind == KindCallback {
		h.fn = nil // it runs once; let its closure go (see newHandle)
	}
	if l.debug {
		if d := time.Since(start); d >= l.slowCallback {
			l.logf("Executing %s took %.3f seconds", h, d.Seconds())
		}
	}
	l.tr.runEnd(h, l.tr.stamp(&l.clock))
	l.owner = prevOwner
}

func (l *Loop) poll(timeout time.Duration) int {
	n, err := l.poller.wait(l.pollEvents, timeout)
	if err != nil {
		l.report(ExceptionContext{Message: "poller failed", Err: err})
		return 0
	}
	l.polls++
	l.pollIter = l.tr.iter
	// A full buffer may have left ready fds for the next poll (and the poller may have dropped
	// its wake-up event from the count).
	l.pollPartial = n >= len(l.pollEvents)-1
	// Keep only the directions someone is interested in.
	k := 0
	for i := 0; i < n; i++ {
		ev := l.pollEvents[i]
		if w := l.watchers.get(ev.fd); w != nil {
			if ev.events&pollRead != 0 {
				w.readSeen = l.polls
			}
			ev.events &= w.interest()
			if ev.events != 0 {
				l.pollEvents[k] = ev
				k++
			}
		}
	}
	return k
}

func (l *Loop) logf(format string, args ...any) {
	fmt.Fprintf(l.logw, format+"\n", args...)
}

func (l *Loop) String() string {
	return fmt.Sprintf("<Loop running=%t closed=%t debug=%t>", l.IsRunning(), l.IsClosed(), l.debug)
}

// site returns where new work is being created, when the loop records sites: the hook's answer,
// or in debug mode the first caller outside this package; else nil. Small enough to inline, so
// that a loop recording no sites (every CallSoon asks) pays no call.
func (l *Loop) site() *Site {
	if l.siteHook == nil && !l.debug {
		return nil
	}
	return l.recordedSite()
}

func (l *Loop) recordedSite() *Site {
	if l.siteHook != nil {
		return l.siteHook()
	}
	return callerSite()
}

// callerSite returns the first caller outside this package, looking from the caller of site's
// caller on (site inlines: its frame is recordedSite's).
func callerSite() *Site {
	var pcs [8]uintptr
	n := runtime.Callers(4, pcs[:]) // skips Callers, callerSite, recordedSite and site's caller
	frames := runtime.CallersFrames(pcs[:n])
	for {
		f, more := frames.Next()
		if !isLoopFrame(f.Function) {
			return &Site{File: f.File, Line: f.Line}
		}
		if !more {
			return nil
		}
	}
}

func isLoopFrame(fn string) bool {
	const pkg = "github.com/loopbook/loopbook/loop."
	return len(fn) >= len(pkg) && fn[:len(pkg)] == pkg
}

// running tracks which loop runs on which goroutine, for Running().
var (
	runningMu sync.Mutex
	runningBy = map[int64]*Loop{}
)

func setRunning(l *Loop) *Loop { return registerRunning(goid(), l) }

// registerRunning records that goroutine g runs loop l (nil: nothing) and returns what it ran.
func registerRunning(g int64, l *Loop) *Loop {
	runningMu.Lock()
	defer runningMu.Unlock()
	prev := runningBy[g]
	if l == nil {
		delete(runningBy, g)
	} else {
		runningBy[g] = l
	}
	return prev
}

// Running returns the loop running on this goroutine, or on the loop goroutine whose task this
// is (asyncio's get_running_loop), or ErrNoRunningLoop.
func Running() (*Loop, error) {
	if l := loopOf(goid()); l != nil {
		return l, nil
	}
	return nil, ErrNoRunningLoop
}

// loopOf returns the loop that goroutine g (the caller's) runs, or whose task's coroutine it
// is, or nil. See anonTask for how a coroutine that has not identified itself is recognised.
func loopOf(g int64) *Loop {
	runningMu.Lock()
	l := runningBy[g]
	runningMu.Unlock()
	if l != nil {
		return l
	}
	if t := anonTask.Load(); t != nil && onTaskCoroutine() {
		t.setG(g)
		return t.loop
	}
	return nil
}

// taskBody is the function at the bottom of every task coroutine's stack.
const taskBody = "github.com/loopbook/loopbook/loop.(*Task).body"

// onTaskCoroutine reports whether the caller runs on a task's coroutine.
func onTaskCoroutine() bool {
	var pcs [64]uintptr
	for skip := 2; ; {
		n := runtime.Callers(skip, pcs[:])
		frames := runtime.CallersFrames(pcs[:n])
		for {
			f, more := frames.Next()
			if f.Function == taskBody {
				return true
			}
			if !more {
				break
			}
		}
		if n < len(pcs) {
			return false
		}
		skip += n
	}
}

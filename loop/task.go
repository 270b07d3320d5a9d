package loop

import (
	"errors"
	"fmt"
	"iter"
	"runtime/debug"
	"sort"
	"sync/atomic"
	"time"
	"unsafe"
)

// Coroutine is the body of a task: it runs on the loop, suspends at every co.Await, and returns
// the task's result. It is the Go form of an async def.
type Coroutine func(co *Co) (any, error)

// Awaitable is what Await, CreateTask and RunUntilComplete accept: a *Future, a *Task, a
// Coroutine (or a func(*Co) (any, error)), or a *Coro. It is an alias of any so that interpreted
// cells can pass function literals; anything else yields ErrNotAwaitable.
type Awaitable = any

// Coro is a coroutine object: a Coroutine that was "called" but has not started, like the value
// an async def returns in Python. Await it or pass it to CreateTask or RunUntilComplete; one that
// is never started is reported as "coroutine ... was never awaited".
type Coro struct {
	Info
	fn      Coroutine
	started bool
}

// Coro makes a coroutine object from fn. Its name is the WithName option, else fn's name.
func (l *Loop) Coro(fn Coroutine, opts ...Opt) *Coro {
	c := &Coro{fn: fn}
	l.initInfo(&c.Info, KindTask, funcPC(fn), opts)
	l.coros[c] = struct{}{}
	return c
}

func (l *Loop) takeCoro(c *Coro) (Coroutine, error) {
	if c.started {
		return nil, fmt.Errorf("RuntimeError: cannot reuse already awaited coroutine")
	}
	c.started = true
	delete(l.coros, c)
	return c.fn, nil
}

// asCoroutine returns the coroutine function a is, if it is one.
func (l *Loop) asCoroutine(a Awaitable) (Coroutine, string, bool, error) {
	switch v := a.(type) {
	case Coroutine:
		return v, "", true, nil
	case func(*Co) (any, error):
		return v, "", true, nil
	case *Coro:
		fn, err := l.takeCoro(v)
		return fn, v.Name, true, err
	}
	return nil, "", false, nil
}

// Task runs a coroutine on the loop (asyncio.Task). A Task is a Future: its result is the
// coroutine's. Unlike asyncio, the loop keeps every task until it is done, so none can vanish.
type Task struct {
	Future
	coro       Coroutine
	co         Co
	next       func() (*Future, bool)
	stop       func()
	stepH      Handle // the callback that runs step (see taskOfStep)
	started    bool
	finished   bool
	mustCancel bool
	cancelMsg  string
	waiter     *Future // the future the task awaits now (asyncio's _fut_waiter)
	throw      error   // the cancellation to deliver at the pending Await
	res        any
	resErr     error
	g          int64   // the coroutine's goroutine, 0 until it identifies itself (see enter)
	tok        uintptr // the coroutine's gtoken, set when it starts
	identify   bool    // asks the coroutine to identify itself when it next resumes
	anon       bool    // the running step made the task the anonymous one (see enter)
	AwaitSite  *Site   // where the task is suspended, when sites are recorded
	steps      uint64
	lastWait   *sockWait // the task's last Sock* wait, which its next one may re-arm
}

// CreateTask wraps a coroutine in a task and schedules its first step (asyncio's create_task).
func (l *Loop) CreateTask(c Awaitable, opts ...Opt) (*Task, error) {
	fn, name, ok, err := l.asCoroutine(c)
	if !ok {
		return nil, ErrNotAwaitable
	}
	if err != nil {
		return nil, err
	}
	if err := l.check(); err != nil {
		return nil, err
	}
	t := &Task{coro: fn}
	t.Future.loop, t.Future.task = l, t
	l.initInfo(&t.Info, KindTask, funcPC(fn), opts)
	if t.Name == "" {
		t.Name = name
	}
	if t.Name == "" {
		l.tasksMade++
		t.Name = fmt.Sprintf("Task-%d", l.tasksMade)
	}
	t.co.t = t
	t.next, t.stop = iter.Pull(t.body)
	l.nextID++
	// No fn: the loop calls step through taskOfStep.
	t.stepH = Handle{Info: Info{ID: l.nextID, Kind: KindStep, Owner: t.Owner, Name: t.Name}, loop: l}
	l.tasks[t.ID] = t
	l.tr.created(&t.Info)
	l.push(&t.stepH)
	return t, nil
}

// body is the iterator function iter.Pull runs as the task's coroutine: every value it yields is
// the future the coroutine waits for (nil for a bare yield).
func (t *Task) body(yield func(*Future) bool) {
	t.co.yield = yield
	t.tok = gtoken()
	if t.loop.debug {
		t.loop.taskTok.Store(t.tok) // the step that started the coroutine could not know it
	}
	defer func() {
		if t.g != 0 {
			registerRunning(t.g, nil)
		}
	}()
	t.identifyIfAsked()
	defer func() {
		// Take the stack here: iter.Pull re-panics on the loop's goroutine, whose stack no longer
		// shows the code that panicked.
		if r := recover(); r != nil {
			panic(taskPanic{&PanicError{Value: r, Stack: debug.Stack()}})
		}
	}()
	t.res, t.resErr = t.coro(&t.co)
}

// The coroutine runs on a goroutine of its own, which Running (asyncio's get_running_loop),
// CallerOwner and the debug-mode goroutine check must recognise. Finding a goroutine's id costs
// microseconds (goid parses runtime.Stack), several times what creating and finishing a task
// costs otherwise, so a task's coroutine identifies itself only when it must:
//
//   - At any moment at most one loop resumes a coroutine that has not identified itself: the
//     "anonymous" one, published in anonTask for the duration of the switch. A loop that would
//     resume a second one asks it to identify itself first (enter). So when a goroutine that is
//     not registered in runningBy asks, and its stack shows it is a task's coroutine (only a
//     coroutine being resumed can be running), it is anonTask's, which then registers (loopOf).
//   - In debug mode, and from a task's identifyAfterSteps-th step on, the coroutine identifies
//     itself as it resumes, so long-lived tasks pay once and their steps skip the bookkeeping.
var anonTask atomic.Pointer[Task]

// identifyAfterSteps: a task that has stepped this often identifies itself, which costs about as
// much as that many anonymous steps.
const identifyAfterSteps = 64

// enter is called by the loop before it switches into the coroutine (to resume or unwind it). It
// reports whether the task is now the anonymous one, to pass to leave after the switch.
func (t *Task) enter() (anon bool) {
	if t.g != 0 {
		return false
	}
	if t.loop.debug || t.steps >= identifyAfterSteps || !anonTask.CompareAndSwap(nil, t) {
		t.identify = true
		return false
	}
	return true
}

func (t *Task) leave(anon bool) {
	if anon {
		anonTask.Store(nil)
	}
}

// identifyIfAsked runs on the coroutine's goroutine whenever the coroutine resumes.
func (t *Task) identifyIfAsked() {
	if t.identify && t.g == 0 {
		t.identifyNow()
	}
}

func (t *Task) identifyNow() { t.setG(goid()) }

// setG records the coroutine's goroutine; it runs on that goroutine.
func (t *Task) setG(g int64) {
	t.g = g
	t.identify = false // done: a resumed coroutine need not look again (see Co.resumed)
	registerRunning(g, t.loop)
	if t.loop.debug {
		t.loop.taskG.Store(g) // the step that resumed the coroutine could not know it yet
	}
}

// taskPanic carries a coroutine's panic, with its own stack, to step.
type taskPanic struct{ err *PanicError }

// taskOfStep returns the task whose step handle h is (h.Kind is KindStep). A step handle has no
// fn: the loop calls t.step directly, through this. A method value (fn = t.step) is called through
// a wrapper, one more frame between the loop and the coroutine switch (see Task.step), and cost
// an allocation per task. The handle lives inside the task, so the task is at a fixed offset
// before it (unsafe.Add stays within the Task's own allocation).
func taskOfStep(h *Handle) *Task {
	return (*Task)(unsafe.Add(unsafe.Pointer(h), -int(unsafe.Offsetof(Task{}.stepH))))
}

// wake schedules the task's next step (the done callback of the future it awaits).
func (t *Task) wake() {
	if t.finished {
		return
	}
	t.loop.push(&t.stepH)
}

// step is asyncio's Task.__step: resume the coroutine until it awaits something or returns; a
// panic ends the task with a PanicError.
//
// The switch into the coroutine (t.next) is made from here, not from a helper: every return
// just after a coroutine switch is mispredicted by the CPU (its return-address predictor saw the
// other stack's calls), so each frame between the loop and the switch costs a few nanoseconds of
// every await.
func (t *Task) step() {
	l := t.loop
	if t.Done() {
		return
	}
	t.waiter = nil
	if t.mustCancel {
		t.mustCancel = false
		t.throw = &CancelledError{Msg: t.cancelMsg}
		if !t.started {
			// Cancelled before its first step: the coroutine never runs.
			t.started = true
			t.stop()
			t.complete(nil, t.throw)
			return
		}
	}
	t.started = true
	t.steps++
	l.currentTask = t
	if l.debug {
		l.taskG.Store(t.g)
		l.taskTok.Store(t.tok)
	}
	t.anon = t.enter()
	// A panic of the coroutine comes out of next; the ready batch's guard (Loop.runReady) hands
	// it to panicked. A guard here, on every step, cost a deferred closure per await.
	fut, ok := t.next()
	if !ok {
		if t.mustCancel {
			t.mustCancel = false
			t.complete(nil, &CancelledError{Msg: t.cancelMsg})
		} else {
			t.complete(t.res, t.resErr)
		}
		t.switchedBack()
		return
	}
	t.switchedBack()
	if fut == nil { // a bare yield (Sleep(0)): come back in the next iteration
		l.push(&t.stepH)
		return
	}
	t.waiter = fut
	l.tr.emit(EvAwait, t.ID, int64(fut.ID), 0)
	fut.addDone(doneEntry{task: t})
	if t.mustCancel && fut.Cancel(t.cancelMsg) {
		t.mustCancel = false
	}
}

// switchedBack undoes, after the coroutine has yielded, ended or panicked, what step set up
// before switching into it. Steps do not nest (only the ready batch runs them, and a coroutine
// cannot run the loop), so no task was current before.
func (t *Task) switchedBack() {
	t.leave(t.anon)
	t.anon = false
	l := t.loop
	l.currentTask = nil
	if l.debug {
		l.taskG.Store(0)
		l.taskTok.Store(0)
	}
}

// panicked ends the task whose step's coroutine panicked with r (called by the ready batch's
// guard): the task finishes with a *PanicError carrying the coroutine's own stack.
func (t *Task) panicked(r any) {
	pe, isTask := r.(taskPanic)
	if !isTask {
		pe.err = &PanicError{Value: r, Stack: debug.Stack()}
	}
	t.complete(nil, pe.err)
	t.switchedBack()
}

func (t *Task) complete(res any, err error) {
	t.finished = true
	t.co.stopped = true
	l := t.loop
	delete(l.tasks, t.ID)
	if isCancelled(err) {
		msg := t.cancelMsg
		var ce *CancelledError
		if errors.As(err, &ce) {
			msg = ce.Msg
		}
		t.Future.cancel(msg)
		return
	}
	if err != nil {
		t.Future.SetException(err)
		return
	}
	t.Future.SetResult(res)
}

// Cancel requests cancellation: the coroutine sees a *CancelledError at its next Await (asyncio's
// Task.cancel). It returns false if the task is already done.
func (t *Task) Cancel(msg ...string) bool {
	if t.Done() {
		return false
	}
	m := ""
	if len(msg) > 0 {
		m = msg[0]
	}
	t.loop.tr.emit(EvCancel, t.ID, 0, 0)
	if t.waiter != nil && t.waiter.Cancel(m) {
		return true
	}
	t.mustCancel = true
	t.cancelMsg = m
	return true
}

// Waiter returns the future the task is suspended on, or nil.
func (t *Task) Waiter() *Future {
	if t.waiter != nil {
		t.waiter.kept = true // the caller may hold on to it: never re-armed (see sockWait)
	}
	return t.waiter
}

// destroy unwinds a pending task's coroutine at Close: its pending Await returns a
// *CancelledError and any later one returns at once, so deferred code runs and the goroutine ends.
func (t *Task) destroy() {
	t.co.stopped = true
	func() {
		anon := t.enter() // the unwinding coroutine runs deferred code
		defer t.leave(anon)
		defer func() { recover() }()
		t.stop()
	}()
	t.finished = true
}

func (t *Task) String() string {
	s := t.describe("Task")
	s = s[:len(s)-1] + fmt.Sprintf(" name='%s'", t.Name)
	if t.waiter != nil {
		s += " wait_for=" + t.waiter.describe("Future")
	}
	return s + ">"
}

// AllTasks returns the tasks of the loop that are not done, oldest first (asyncio's all_tasks).
func (l *Loop) AllTasks() []*Task { return l.sortedTasks() }

func (l *Loop) sortedTasks() []*Task {
	ts := make([]*Task, 0, len(l.tasks))
	for _, t := range l.tasks {
		ts = append(ts, t)
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].ID < ts[j].ID })
	return ts
}

// CurrentTask returns the task whose coroutine is running now, or nil (asyncio's current_task).
func (l *Loop) CurrentTask() *Task { return l.currentTask }

// Co is a running coroutine's handle on its task: the way to Await.
type Co struct {
	t       *Task
	yield   func(*Future) bool
	stopped bool
}

// Loop returns the loop the coroutine runs on.
func (co *Co) Loop() *Loop { return co.t.loop }

// Task returns the task running the coroutine.
func (co *Co) Task() *Task { return co.t }

// Await suspends the coroutine until a is done and returns its result (Python's await). A
// coroutine function is run inline, as awaiting a coroutine does; a *Future or *Task already done
// returns at once. If the task is cancelled meanwhile, Await returns a *CancelledError.
func (co *Co) Await(a Awaitable) (any, error) {
	var f *Future
	switch v := a.(type) {
	case *Future:
		f = v
	case *Task:
		f = &v.Future
	default:
		fn, _, ok, err := co.t.loop.asCoroutine(a)
		if !ok {
			return nil, ErrNotAwaitable
		}
		if err != nil {
			return nil, err
		}
		return fn(co)
	}
	if f == nil {
		return nil, ErrNotAwaitable
	}
	if f.loop != co.t.loop {
		return nil, fmt.Errorf("RuntimeError: Task %s got Future %s attached to a different loop", co.t.Name, f)
	}
	if f == &co.t.Future {
		return nil, fmt.Errorf("RuntimeError: Task cannot await on itself: %s", co.t)
	}
	if !f.Done() {
		// co.suspend(f), written out (see suspend).
		var err error
		if co.plain() {
			err = co.resumed(f, co.yield(f))
		} else {
			err = co.suspendNoting(f)
		}
		if err != nil {
			return nil, err
		}
	}
	return f.Result()
}

// suspend yields f to the task's step and returns the cancellation to deliver, if any.
//
// Await and Sleep write it out (plain, yield, resumed) instead of calling it: every frame between
// the coroutine and the switch costs a mispredicted return on each resume (see Task.step), and
// suspend is too large for the compiler to inline.
func (co *Co) suspend(f *Future) error {
	if !co.plain() {
		return co.suspendNoting(f)
	}
	return co.resumed(f, co.yield(f))
}

// plain reports whether a suspension needs nothing but the switch: the task is not stopped and
// no await site is recorded.
func (co *Co) plain() bool {
	l := co.t.loop
	return !co.stopped && l.siteHook == nil && !l.debug
}

// suspendNoting is suspend when the task is stopped or the await's site must be recorded.
func (co *Co) suspendNoting(f *Future) error {
	if co.stopped {
		return &CancelledError{Msg: "task destroyed"}
	}
	t := co.t
	t.AwaitSite = t.loop.site()
	return co.resumed(f, co.yield(f))
}

// destroyed is the coroutine's side of Task.destroy: its pending Await returns a cancellation.
func (co *Co) destroyed() error {
	co.stopped = true
	co.t.identifyIfAsked()
	return &CancelledError{Msg: "task destroyed"}
}

// resumed is what a coroutine does when yield returns ok, its task's step having resumed it (or,
// when ok is false, Task.destroy unwinding it): in the common case, nothing.
func (co *Co) resumed(f *Future, ok bool) error {
	if ok && !co.t.identify && co.t.throw == nil {
		return nil
	}
	return co.resumedSlow(f, ok)
}

// resumedSlow identifies the coroutine if it was asked to, and delivers a cancellation if one is
// pending or the task is being destroyed.
func (co *Co) resumedSlow(f *Future, ok bool) error {
	if !ok {
		return co.destroyed()
	}
	t := co.t
	t.identifyIfAsked()
	if err := t.throw; err != nil {
		t.throw = nil
		// As asyncio's __step: a pending cancellation replaces what the awaited future delivers
		// unless that already is a CancelledError, which is kept (with its own message).
		if f != nil && f.Done() {
			if _, ferr := f.Result(); isCancelled(ferr) {
				return ferr
			}
		}
		return err
	}
	return nil
}

// Sleep suspends the coroutine for d (asyncio.sleep). Sleep(0) yields once to the loop.
func (co *Co) Sleep(d time.Duration) error {
	l := co.t.loop
	if d <= 0 {
		if co.plain() { // co.suspend(nil), written out (see suspend)
			return co.resumed(nil, co.yield(nil))
		}
		return co.suspendNoting(nil)
	}
	f := l.createFuture("sleep", nil)
	h, err := l.CallLater(d, func() {
		if !f.Done() {
			f.SetResult(nil)
		}
	}, WithName("sleep"))
	if err != nil {
		return err
	}
	_, err = co.Await(f)
	h.Cancel()
	return err
}

// ensureFuture is asyncio's ensure_future: a future as is, a coroutine wrapped in a task.
func (l *Loop) ensureFuture(a Awaitable) (*Future, error) {
	switch v := a.(type) {
	case *Future:
		return v, nil
	case *Task:
		return &v.Future, nil
	}
	t, err := l.CreateTask(a)
	if err != nil {
		return nil, err
	}
	return &t.Future, nil
}

func isCancelled(err error) bool { return err != nil && errors.Is(err, ErrCancelled) }

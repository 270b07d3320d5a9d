package loop

import (
	"errors"
	"fmt"
	"unsafe"
)

type futureState uint8

const (
	statePending futureState = iota
	stateCancelled
	stateFinished
)

var stateNames = [...]string{"PENDING", "CANCELLED", "FINISHED"}

// Future is asyncio's Future: a result that will exist later. Its done callbacks are always
// scheduled with CallSoon, never called inline, in the order they were added.
type Future struct {
	Info
	loop  *Loop
	state futureState
	// kept: the future was handed out by Task.Waiter, so it is never re-armed (see sockWait).
	// sockWait: the future is a sockWait's, whose done callback is the entry with neither fn
	// nor task (see schedule).
	kept, sockWait bool
	nextCB         int32 // done callback ids handed out so far
	result         any
	err            error
	// The done callbacks in the order they were added: cb0 is the first (valid when its id is
	// not 0), then x.more. Most futures get exactly one (the task awaiting them), which then
	// costs no slice. Invariant: x.more is empty unless cb0 is valid.
	cb0  doneEntry
	task *Task        // set when this future is a task's own
	x    *futureExtra // what few futures need, allocated when first needed
}

// futureExtra holds the fields of a Future that most futures never use. Kept out of line, they
// make a Future 144 bytes instead of 192: a future is created per await in most programs, and
// its size is what the garbage collector is paced by.
type futureExtra struct {
	cancelMsg string
	more      []doneEntry           // the done callbacks after cb0
	onCancel  func(msg string) bool // replaces Cancel's behaviour (gather's outer future)
}

// extra returns f.x, allocating it on first use.
func (f *Future) extra() *futureExtra {
	if f.x == nil {
		f.x = new(futureExtra)
	}
	return f.x
}

// more returns the done callbacks after cb0.
func (f *Future) more() []doneEntry {
	if f.x == nil {
		return nil
	}
	return f.x.more
}

// cancelMsg returns the message the future was cancelled with.
func (f *Future) cancelMsg() string {
	if f.x == nil {
		return ""
	}
	return f.x.cancelMsg
}

// doneEntry is one done callback: a function, or a task to wake (asyncio's Task.__wakeup).
type doneEntry struct {
	id   int32
	fn   func(*Future)
	task *Task
}

// CreateFuture returns a new pending future attached to the loop (asyncio's create_future).
func (l *Loop) CreateFuture(opts ...Opt) *Future { return l.createFuture("", opts) }

// createFuture is CreateFuture with the future named name (when not empty) before opts apply:
// the loop's own futures are named without an option's closure.
func (l *Loop) createFuture(name string, opts []Opt) *Future {
	f := new(Future)
	l.initFuture(f, name, opts)
	return f
}

// initFuture makes the zero Future f a new pending future of l, as createFuture does: for a
// future that lives inside a larger allocation (see sockWait).
func (l *Loop) initFuture(f *Future, name string, opts []Opt) {
	f.loop = l
	f.Name = name
	l.initInfo(&f.Info, KindFuture, 0, opts)
	l.tr.created(&f.Info)
}

// rearm makes the finished future f pending again, with its Info, for a sockWait's next wait.
// It resets the fields after the Info one by one: the Info itself must not be written, not even
// with the same values, as goroutines reading the event stream may be reading it. loop, x and
// sockWait stay; kept and task are false and nil in any future re-armed (see
// TestFutureRearm, which checks that nothing else is left over).
func (f *Future) rearm() {
	f.state, f.nextCB, f.result, f.err, f.cb0 = statePending, 0, nil, nil, doneEntry{}
}

// Loop returns the loop the future belongs to.
func (f *Future) Loop() *Loop { return f.loop }

// Done reports whether the future has a result, an error, or was cancelled.
func (f *Future) Done() bool { return f.state != statePending }

// Cancelled reports whether the future was cancelled.
func (f *Future) Cancelled() bool { return f.state == stateCancelled }

// Result returns the future's result, or its error: a *CancelledError if it was cancelled, an
// ErrInvalidState error if it is still pending. Reading the error marks it as retrieved.
func (f *Future) Result() (any, error) {
	switch f.state {
	case statePending:
		return nil, invalidState("Result is not set.")
	case stateCancelled:
		return nil, &CancelledError{Msg: f.cancelMsg()}
	}
	f.retrieved()
	return f.result, f.err
}

// Exception returns the error the future finished with (nil if it has a result); a
// *CancelledError if it was cancelled; an ErrInvalidState error if it is pending.
func (f *Future) Exception() error {
	switch f.state {
	case statePending:
		return invalidState("Exception is not set.")
	case stateCancelled:
		return &CancelledError{Msg: f.cancelMsg()}
	}
	f.retrieved()
	return f.err
}

func (f *Future) retrieved() {
	if f.err != nil {
		delete(f.loop.unretrieved, f)
	}
}

// SetResult marks the future done with v and schedules its callbacks.
func (f *Future) SetResult(v any) error {
	if f.state != statePending {
		return invalidState(fmt.Sprintf("%s: %s", stateNames[f.state], f))
	}
	f.result = v
	f.state = stateFinished
	return f.finish()
}

// SetException marks the future done with err and schedules its callbacks. Until someone reads
// the error, Report lists it as never retrieved.
func (f *Future) SetException(err error) error {
	if f.state != statePending {
		return invalidState(fmt.Sprintf("%s: %s", stateNames[f.state], f))
	}
	if err == nil {
		return errors.New("TypeError: SetException needs a non-nil error")
	}
	f.err = err
	f.state = stateFinished
	f.loop.unretrieved[f] = struct{}{}
	return f.finish()
}

// Cancel cancels a pending future and schedules its callbacks; it returns false if the future was
// already done. An optional message travels with the *CancelledError.
func (f *Future) Cancel(msg ...string) bool {
	m := ""
	if len(msg) > 0 {
		m = msg[0]
	}
	if f.task != nil {
		return f.task.Cancel(msg...)
	}
	if f.x != nil && f.x.onCancel != nil {
		return f.x.onCancel(m)
	}
	return f.cancel(m)
}

func (f *Future) cancel(msg string) bool {
	if f.state != statePending {
		return false
	}
	f.state = stateCancelled
	if msg != "" {
		f.extra().cancelMsg = msg
	}
	f.finish()
	return true
}

// AddDoneCallback schedules fn(f) with CallSoon once f is done — at once if it already is.
func (f *Future) AddDoneCallback(fn func(*Future)) {
	f.addDone(doneEntry{fn: fn})
}

func (f *Future) addDone(e doneEntry) int32 {
	f.nextCB++
	e.id = f.nextCB
	if f.state != statePending {
		f.schedule(e)
		return e.id
	}
	if f.cb0.id == 0 {
		f.cb0 = e
	} else {
		x := f.extra()
		x.more = append(x.more, e)
	}
	return e.id
}

func (f *Future) removeDone(id int32) {
	if f.cb0.id == 0 {
		return
	}
	more := f.more()
	if f.cb0.id == id {
		if len(more) > 0 {
			f.cb0 = more[0]
			f.x.more = append(more[:0], more[1:]...)
		} else {
			f.cb0 = doneEntry{}
		}
		return
	}
	for i, e := range more {
		if e.id == id {
			f.x.more = append(more[:i], more[i+1:]...)
			return
		}
	}
}

// pendingCallbacks returns how many done callbacks wait for the future.
func (f *Future) pendingCallbacks() int {
	if f.cb0.id == 0 {
		return 0
	}
	return 1 + len(f.more())
}

// finish schedules the done callbacks. As in asyncio, the future is done even when they cannot
// be scheduled because the loop is closed; the caller then gets ErrClosed.
func (f *Future) finish() error {
	f.loop.tr.emit(EvFutureDone, f.ID, int64(f.state), 0)
	first, more := f.cb0, f.more()
	f.cb0 = doneEntry{}
	if f.x != nil {
		f.x.more = nil
	}
	if first.id == 0 {
		return nil
	}
	if f.loop.closed.Load() {
		return ErrClosed
	}
	f.schedule(first)
	for _, e := range more {
		f.schedule(e)
	}
	return nil
}

func (f *Future) schedule(e doneEntry) {
	l := f.loop
	if l.closed.Load() {
		return
	}
	if e.task != nil {
		e.task.wake()
		return
	}
	var d *doneHandle
	if e.fn == nil && f.sockWait {
		// The sockWait's own callback, through its own handle: the same one on every wait that
		// re-arms the sockWait, its Info made the first time.
		d, e.fn = &(*sockWait)(unsafe.Pointer(f)).done, sockWaitDone // f is the sockWait's first field
	} else {
		d = l.newDoneHandle()
	}
	if d.ID == 0 {
		d.loop, d.call = l, callDone
		l.initInfo(&d.Info, KindCallback, donePC(e.fn), nil)
		d.Owner = f.Owner
	}
	d.fn, d.f = e.fn, f
	l.push(&d.Handle)
}

// doneHandle is the handle of a scheduled done callback: it runs fn(f) (see Handle.runSpecial)
// without the closure func() { fn(f) } a plain Handle would need, one allocation per callback.
type doneHandle struct {
	Handle // first: runSpecial finds the doneHandle from its Handle
	fn     func(*Future)
	f      *Future
}

// newDoneHandle returns a zero doneHandle, carved from blocks of its own as newHandle does.
func (l *Loop) newDoneHandle() *doneHandle {
	if l.nspareDone == len(l.spareDone) {
		l.spareDone, l.nspareDone = make([]doneHandle, handleBlock), 0
	}
	d := &l.spareDone[l.nspareDone]
	l.nspareDone++
	return d
}

func (f *Future) String() string {
	if f.task != nil {
		return f.task.String()
	}
	return f.describe("Future")
}

func (f *Future) describe(kind string) string {
	s := "<" + kind + " " + map[futureState]string{statePending: "pending", stateCancelled: "cancelled", stateFinished: "finished"}[f.state]
	if f.state == stateFinished {
		if f.err != nil {
			s += fmt.Sprintf(" exception=%v", f.err)
		} else {
			s += fmt.Sprintf(" result=%v", f.result)
		}
	}
	if n := f.pendingCallbacks(); n > 0 && f.task == nil {
		s += fmt.Sprintf(" cb=[%d]", n)
	}
	return s + ">"
}

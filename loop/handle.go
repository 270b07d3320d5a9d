package loop

import (
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"time"
	"unsafe"
)

// Owner tags scheduled work with whoever created it; zero means nobody. The notebook kernel sets it
// to the cell run that created the work, and everything scheduled while that work runs inherits it.
type Owner int64

// Kind says what an object of the loop is.
type Kind uint8

// Kinds of objects the loop tracks.
const (
	KindCallback Kind = iota + 1 // CallSoon / CallSoonThreadSafe
	KindTimer                    // CallLater / CallAt
	KindReader                   // AddReader
	KindWriter                   // AddWriter
	KindFuture                   // CreateFuture, and the future inside every Task
	KindTask                     // CreateTask
	KindStep                     // the callback that resumes a task (asyncio's Task.__step)
)

var kindNames = [...]string{"?", "callback", "timer", "reader", "writer", "future", "task", "step"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", k)
}

// Site is a place in source code: a Go file and line, or a notebook cell and line.
type Site struct {
	File string
	Line int
}

func (s Site) String() string {
	if s.File == "" {
		return ""
	}
	if s.Line == 0 {
		return s.File // a cell known, its line not
	}
	return fmt.Sprintf("%s:%d", s.File, s.Line)
}

// Info is what every handle, timer, watcher, future and task carries for introspection. It never
// changes after creation, so other goroutines may read it through the event stream.
type Info struct {
	ID    uint64
	Kind  Kind
	Owner Owner
	Name  string // given by the creator; empty means "derive it from the function"
	Site  *Site  // where it was created, when the loop records sites (debug mode or a site hook)
	pc    uintptr
}

// Label returns the name to show: the given one, else the function's name.
func (in *Info) Label() string {
	if in.Name != "" {
		return in.Name
	}
	if in.pc == 0 {
		return in.Kind.String()
	}
	f := runtime.FuncForPC(in.pc)
	if f == nil {
		return in.Kind.String()
	}
	name := f.Name()
	if name == "reflect.makeFuncStub" {
		// An interpreted function (yaegi wraps it with reflect.MakeFunc): its Go name says nothing.
		return in.Kind.String()
	}
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	return name
}

// Opt adjusts the Info of something being scheduled.
type Opt func(*Info)

// WithName names a handle, timer, watcher or task (asyncio's name= argument).
func WithName(name string) Opt { return func(in *Info) { in.Name = name } }

// WithOwner sets the owner explicitly instead of inheriting the current one.
func WithOwner(o Owner) Opt { return func(in *Info) { in.Owner = o } }

// WithSite sets the creation site explicitly.
func WithSite(s Site) Opt { return func(in *Info) { in.Site = &s } }

func funcPC(fn any) uintptr {
	if fn == nil {
		return 0
	}
	return reflect.ValueOf(fn).Pointer()
}

// callbackPC is funcPC for the func() of every CallSoon, without the conversion to an interface
// and the reflection. A func value points at a closure record whose first word is the code
// pointer; that word is what reflect's Value.Pointer returns for a func.
func callbackPC(fn func()) uintptr {
	if fn == nil {
		return 0
	}
	return **(**uintptr)(unsafe.Pointer(&fn))
}

// donePC is callbackPC for a done callback.
func donePC(fn func(*Future)) uintptr {
	if fn == nil {
		return 0
	}
	return **(**uintptr)(unsafe.Pointer(&fn))
}

// Handle is a callback scheduled on the loop (asyncio.Handle). Cancel prevents it from running.
type Handle struct {
	Info
	fn        func()
	loop      *Loop
	cancelled bool
	call      callHow // how runReady runs it: fn, unless the loop's own work says otherwise
	// Where the tracer put its Info when it was last scheduled (see tracer.runEnd). They fit,
	// with call, in the padding after cancelled: a Handle stays 80 bytes.
	traceSlot  uint16
	traceChunk uint32
}

// callHow says how the loop runs a handle of its own without a closure in fn. A closure is an
// allocation per handle, and the loop's per-operation handles (a socket wait's retry, a future's
// done callback) would each need one. A task's step is run through its Kind (see taskOfStep).
type callHow uint8

const (
	callFn    callHow = iota // h.fn(): CallSoon, timers, AddReader and everything users schedule
	callDone                 // a done callback: the *doneHandle's fn(f) (see Future.schedule)
	callSock                 // a Sock* operation's reader or writer: its sockWait's retry (watch[0])
	callSock1                // the same, for the sockWait's watch[1] (see sockWaitOfWatch)
)

// runSpecial runs h when its call is not callFn. Kept out of runReady: runReady is the loop's
// hottest code, and these cases are only its cold path's.
func (h *Handle) runSpecial() {
	switch h.call {
	case callDone:
		d := (*doneHandle)(unsafe.Pointer(h)) // h is the first field of its doneHandle
		fn, f := d.fn, d.f
		// It runs once; let the function and the future go, as ran does with fn: the handle
		// may be kept (by the event ring) long after, with the rest of its block.
		d.fn, d.f = nil, nil
		fn(f)
	case callSock, callSock1:
		sockWaitOfWatch(h).retry()
	}
}

// Cancel stops the callback from running; cancelling twice, or after it ran, does nothing.
func (h *Handle) Cancel() {
	if h == nil || h.cancelled {
		return
	}
	h.cancelled = true
	h.loop.tr.emit(EvCancel, h.ID, 0, 0)
}

// Cancelled reports whether Cancel was called.
func (h *Handle) Cancelled() bool { return h.cancelled }

func (h *Handle) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "<Handle")
	if h.cancelled {
		b.WriteString(" cancelled")
	}
	fmt.Fprintf(&b, " %s()", h.Label())
	if h.Site != nil {
		fmt.Fprintf(&b, " created at %s", h.Site)
	}
	b.WriteString(">")
	return b.String()
}

// TimerHandle is a callback scheduled for a time (asyncio.TimerHandle).
type TimerHandle struct {
	Handle
	when  time.Duration
	index int // position in the heap, -1 once popped
}

// When returns the loop time at which the callback is due.
func (t *TimerHandle) When() time.Duration { return t.when }

// Cancel stops the timer; the loop counts it for the heap's compaction rule.
func (t *TimerHandle) Cancel() {
	if t == nil || t.cancelled {
		return
	}
	t.cancelled = true
	t.loop.tr.emit(EvCancel, t.ID, 0, 0)
	if t.index >= 0 {
		t.loop.cancelledTimers++
	}
}

func (t *TimerHandle) String() string {
	s := "<TimerHandle"
	if t.cancelled {
		s += " cancelled"
	}
	s += fmt.Sprintf(" when=%.3f %s()", t.when.Seconds(), t.Label())
	if t.Site != nil {
		s += " created at " + t.Site.String()
	}
	return s + ">"
}

package loop

import (
	"bytes"
	"fmt"
	"runtime"
	"sort"
	"strconv"
)

// ExceptionContext is what the exception handler receives, asyncio's context dict as a struct.
type ExceptionContext struct {
	Message string
	Err     error   // the error or *PanicError, if any
	Handle  *Handle // the callback that failed, if any
	Future  *Future // the future concerned, if any
	Task    *Task   // the task concerned, if any
}

// Owner returns the owner of whatever the context is about.
func (c ExceptionContext) Owner() Owner {
	switch {
	case c.Task != nil:
		return c.Task.Owner
	case c.Future != nil:
		return c.Future.Owner
	case c.Handle != nil:
		return c.Handle.Owner
	}
	return 0
}

func (c ExceptionContext) String() string {
	var b bytes.Buffer
	b.WriteString(c.Message)
	if c.Task != nil {
		fmt.Fprintf(&b, "\ntask: %s", c.Task)
	} else if c.Future != nil {
		fmt.Fprintf(&b, "\nfuture: %s", c.Future)
	}
	if c.Err != nil {
		fmt.Fprintf(&b, "\n%v", c.Err)
		if p, ok := c.Err.(*PanicError); ok && len(p.Stack) > 0 {
			fmt.Fprintf(&b, "\n%s", bytes.TrimSpace(p.Stack))
		}
	}
	return b.String()
}

// SetExceptionHandler routes panics of callbacks and tasks, and debug reports, to fn instead of
// the default handler (which writes to the loop's log). nil restores the default.
func (l *Loop) SetExceptionHandler(fn func(*Loop, ExceptionContext)) { l.excHandler = fn }

// CallExceptionHandler passes ctx to the handler, as asyncio's call_exception_handler.
func (l *Loop) CallExceptionHandler(ctx ExceptionContext) { l.report(ctx) }

// DefaultExceptionHandler writes ctx to the loop's log.
func (l *Loop) DefaultExceptionHandler(ctx ExceptionContext) { l.logf("%s", ctx) }

func (l *Loop) report(ctx ExceptionContext) {
	l.tr.emit(EvException, 0, int64(ctx.Owner()), 0)
	if l.excHandler == nil {
		l.DefaultExceptionHandler(ctx)
		return
	}
	defer func() {
		if r := recover(); r != nil { // a broken handler must not take the loop down
			l.logf("Unhandled error in exception handler: %v\n%s", r, ctx)
		}
	}()
	l.excHandler(l, ctx)
}

// Report delivers, deterministically, the warnings asyncio only gives at garbage collection:
// "Task exception was never retrieved" for finished futures and tasks of owner o (0: all) whose
// error nobody read, and "coroutine ... was never awaited" for *Coro values of owner o never
// started. Each is reported once. The kernel calls it when a cell ends; Close calls it for all.
func (l *Loop) Report(o Owner) {
	var futs []*Future
	for f := range l.unretrieved {
		if o == 0 || f.Owner == o {
			futs = append(futs, f)
		}
	}
	sort.Slice(futs, func(i, j int) bool { return futs[i].ID < futs[j].ID })
	for _, f := range futs {
		delete(l.unretrieved, f)
		ctx := ExceptionContext{Err: f.err, Future: f}
		if f.task != nil {
			ctx.Task = f.task
			ctx.Message = "Task exception was never retrieved"
		} else {
			ctx.Message = "Future exception was never retrieved"
		}
		l.report(ctx)
	}
	var cs []*Coro
	for c := range l.coros {
		if o == 0 || c.Owner == o {
			cs = append(cs, c)
		}
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].ID < cs[j].ID })
	for _, c := range cs {
		l.neverAwaited(c)
	}
}

func (l *Loop) neverAwaited(c *Coro) {
	delete(l.coros, c)
	if c.started {
		return
	}
	c.started = true
	msg := fmt.Sprintf("RuntimeWarning: coroutine '%s' was never awaited", c.Label())
	if c.Site != nil {
		msg += "\nCoroutine created at " + c.Site.String()
	}
	l.report(ExceptionContext{Message: msg})
}

// goid returns the current goroutine's id. It parses runtime.Stack, so it costs about a
// microsecond or more; the loop calls it in debug mode, once per RunForever, and once per task
// that runs long or asks (see anonTask).
func goid() int64 {
	var buf [64]byte
	n := runtime.Stack(buf[:], false)
	b := bytes.TrimPrefix(buf[:n], []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); i > 0 {
		b = b[:i]
	}
	id, _ := strconv.ParseInt(string(b), 10, 64)
	return id
}

// onLoopGoroutine reports whether the caller is the goroutine running the loop, the coroutine of
// the task the loop is stepping, or (found the slow way) another goroutine doing the loop's work.
func (l *Loop) onLoopGoroutine() bool {
	if l.onRunningGoroutine() {
		return true
	}
	g := goid()
	return g == l.loopG || g == l.taskG.Load() || loopOf(g) == l
}

// onRunningGoroutine is the O(1) test that serves almost every call: the caller's goroutine token
// is that of the goroutine running the loop, or, in debug mode, of the coroutine of the task
// being stepped. The tokens are set only while those goroutines are alive, and no other live
// goroutine has the same token, so a match is certain; a miss (a coroutine not yet known, an
// architecture without gtoken, a wrong goroutine) is decided by goid.
func (l *Loop) onRunningGoroutine() bool {
	tok := gtoken()
	return tok != 0 && (tok == l.loopTok.Load() || tok == l.taskTok.Load())
}

package loop

import "time"

// Gather runs the awaitables concurrently and returns a future of all their results, as a []any in
// argument order (asyncio.gather). Coroutines are wrapped in tasks. The first error or
// cancellation of a child becomes the outer future's, and the other children keep running;
// cancelling the outer future cancels every child.
func (l *Loop) Gather(aws ...Awaitable) (*Future, error) {
	if err := l.check(); err != nil {
		return nil, err
	}
	// As asyncio.gather, each child gets its done callback as soon as it is ensured, so a child
	// already done schedules it before the next child's first step. The callbacks never run
	// inline, so outer exists by the time any of them runs (unless Gather failed: outer is nil).
	var outer *Future
	children := make([]*Future, len(aws))
	cancelRequested := false
	finished := 0
	done := func(f *Future) {
		finished++
		if outer == nil || outer.Done() {
			if !f.Cancelled() {
				f.Exception() // mark it retrieved, as asyncio does
			}
			return
		}
		if f.Cancelled() {
			_, err := f.Result()
			outer.SetException(err)
			return
		}
		if err := f.Exception(); err != nil {
			outer.SetException(err)
			return
		}
		if finished == len(children) {
			res := make([]any, len(children))
			for i, c := range children {
				res[i], _ = c.Result()
			}
			if cancelRequested {
				outer.SetException(&CancelledError{})
				return
			}
			outer.SetResult(res)
		}
	}
	for i, a := range aws {
		f, err := l.ensureFuture(a)
		if err != nil {
			for _, c := range children[:i] {
				c.Cancel()
			}
			return nil, err
		}
		children[i] = f
		f.AddDoneCallback(done)
	}
	outer = l.createFuture("gather", nil)
	if len(children) == 0 {
		outer.SetResult([]any{})
		return outer, nil
	}
	outer.extra().onCancel = func(msg string) bool {
		if outer.Done() {
			return false
		}
		ret := false
		for _, c := range children {
			if c.Cancel(msg) {
				ret = true
			}
		}
		if ret {
			cancelRequested = true
		}
		return ret
	}
	return outer, nil
}

// WaitFor awaits a with a timeout (asyncio.wait_for): when the time is up, a is cancelled, waited
// for, and WaitFor returns ErrTimeout. If the caller's task is cancelled, a is cancelled too.
func (co *Co) WaitFor(a Awaitable, timeout time.Duration) (any, error) {
	l := co.t.loop
	f, err := l.ensureFuture(a)
	if err != nil {
		return nil, err
	}
	if timeout <= 0 {
		if f.Done() {
			return f.Result()
		}
		if err := co.cancelAndWait(f); err != nil {
			return nil, err
		}
		if res, err := f.Result(); !isCancelled(err) {
			return res, err
		}
		return nil, ErrTimeout
	}
	waiter := l.createFuture("wait_for", nil)
	release := func(*Future) {
		if !waiter.Done() {
			waiter.SetResult(nil)
		}
	}
	th, err := l.CallLater(timeout, func() { release(nil) }, WithName("wait_for timeout"))
	if err != nil {
		return nil, err
	}
	defer th.Cancel()
	id := f.addDone(doneEntry{fn: release})
	if _, err := co.Await(waiter); err != nil { // our own task was cancelled
		if f.Done() {
			return f.Result()
		}
		f.removeDone(id)
		if err2 := co.cancelAndWait(f); err2 != nil {
			return nil, err2
		}
		return nil, err
	}
	if f.Done() {
		return f.Result()
	}
	f.removeDone(id)
	if err := co.cancelAndWait(f); err != nil {
		return nil, err
	}
	if res, err := f.Result(); !isCancelled(err) {
		return res, err
	}
	return nil, ErrTimeout
}

// cancelAndWait cancels f and waits until it is done (asyncio 3.11's _cancel_and_wait). If the
// caller's task is cancelled meanwhile, it stops waiting and returns that cancellation.
func (co *Co) cancelAndWait(f *Future) error {
	l := co.t.loop
	waiter := l.createFuture("cancel_and_wait", nil)
	id := f.addDone(doneEntry{fn: func(*Future) {
		if !waiter.Done() {
			waiter.SetResult(nil)
		}
	}})
	defer f.removeDone(id)
	f.Cancel()
	_, err := co.Await(waiter)
	return err
}

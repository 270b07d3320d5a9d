package loop

import "runtime/debug"

// RunInExecutor runs blocking work off the loop, on its own goroutine, and returns a future the
// loop resolves with its result (asyncio's run_in_executor). A panic in fn becomes the future's
// *PanicError. While such work is in flight, virtual time does not jump past it.
func (l *Loop) RunInExecutor(fn func() (any, error), opts ...Opt) (*Future, error) {
	if err := l.check(); err != nil {
		return nil, err
	}
	// The default name is set by an option, before CreateFuture publishes the future's Info:
	// readers of the event stream on other goroutines may read it from then on.
	opts = append(opts[:len(opts):len(opts)], func(in *Info) {
		if in.Name == "" {
			in.Name = "executor " + (&Info{pc: funcPC(fn), Kind: KindFuture}).Label()
		}
	})
	f := l.CreateFuture(opts...)
	l.executorJobs.Add(1)
	l.executorWG.Add(1)
	go func() {
		defer l.executorWG.Done()
		res, err := runGuarded(fn)
		// The job counts as in flight until the loop takes its result in, on the loop goroutine:
		// virtual time then never jumps before the result arrives, nor sleeps on a job whose
		// result it has already run (as it could when this goroutine dropped the count after
		// posting, and had not yet when the loop went idle).
		h, _ := l.CallSoonThreadSafe(func() {
			l.executorJobs.Add(-1)
			if f.Done() {
				return // cancelled meanwhile
			}
			if err != nil {
				f.SetException(err)
			} else {
				f.SetResult(res)
			}
		}, WithName("executor result"), WithOwner(f.Owner))
		if h == nil { // the loop is closed: the result will never be taken in
			l.executorJobs.Add(-1)
		}
	}()
	return f, nil
}

func runGuarded(fn func() (any, error)) (res any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{Value: r, Stack: debug.Stack()}
		}
	}()
	return fn()
}

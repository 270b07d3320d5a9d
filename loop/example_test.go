package loop_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/loopbook/loopbook/loop"
)

// call_soon callbacks run in the order they were scheduled; a call_later(0) timer becomes ready
// after the poll, so it runs after them in the same iteration; what a callback schedules waits for
// the next iteration.
func ExampleLoop_CallSoon() {
	l, err := loop.New()
	if err != nil {
		panic(err)
	}
	defer l.Close()
	l.CallLater(0, func() { fmt.Println("call_later(0)") })
	l.CallSoon(func() { fmt.Println("call_soon 1") })
	l.CallSoon(func() {
		fmt.Println("call_soon 2")
		l.CallSoon(func() {
			fmt.Println("call_soon from a callback")
			l.Stop()
		})
	})
	l.RunForever()
	// Output:
	// call_soon 1
	// call_soon 2
	// call_later(0)
	// call_soon from a callback
}

// A coroutine is wrapped in a task; RunUntilComplete runs the loop until it returns.
func ExampleLoop_RunUntilComplete() {
	l, err := loop.New()
	if err != nil {
		panic(err)
	}
	defer l.Close()
	r, err := l.RunUntilComplete(loop.Coroutine(func(co *loop.Co) (any, error) {
		if err := co.Sleep(0); err != nil {
			return nil, err
		}
		return 42, nil
	}))
	fmt.Println(r, err)
	// Output: 42 <nil>
}

// A closed loop refuses everything with asyncio's "Event loop is closed"; closing it again does
// nothing.
func ExampleLoop_Close() {
	l, err := loop.New()
	if err != nil {
		panic(err)
	}
	fmt.Println(l.Close())
	_, err = l.CallSoon(func() {})
	fmt.Println(err)
	fmt.Println(errors.Is(err, loop.ErrClosed))
	_, err = l.RunUntilComplete(loop.Coroutine(func(co *loop.Co) (any, error) { return nil, nil }))
	fmt.Println(err)
	fmt.Println(l.Close())
	// Output:
	// <nil>
	// Event loop is closed
	// true
	// Event loop is closed
	// <nil>
}

// A task suspends at Await until a timer sets the future's result.
func ExampleCo_Await() {
	l, err := loop.New()
	if err != nil {
		panic(err)
	}
	defer l.Close()
	fut := l.CreateFuture()
	l.CallLater(10*time.Millisecond, func() {
		fmt.Println("timer sets the result")
		fut.SetResult("hello")
	})
	r, err := l.RunUntilComplete(loop.Coroutine(func(co *loop.Co) (any, error) {
		fmt.Println("task awaits the future")
		v, err := co.Await(fut)
		if err != nil {
			return nil, err
		}
		fmt.Println("task got", v)
		return v, nil
	}))
	fmt.Println(r, err)
	// Output:
	// task awaits the future
	// timer sets the result
	// task got hello
	// hello <nil>
}

// Gather runs its children concurrently, stepping them in argument order, and gives their results
// in argument order.
func ExampleLoop_Gather() {
	l, err := loop.New()
	if err != nil {
		panic(err)
	}
	defer l.Close()
	worker := func(name string, steps int) loop.Coroutine {
		return func(co *loop.Co) (any, error) {
			for i := 0; i < steps; i++ {
				fmt.Printf("%s step%d\n", name, i)
				if err := co.Sleep(0); err != nil {
					return nil, err
				}
			}
			return name + " done", nil
		}
	}
	g, err := l.Gather(worker("a", 3), worker("b", 1), worker("c", 2))
	if err != nil {
		panic(err)
	}
	r, err := l.RunUntilComplete(g)
	fmt.Printf("%q %v\n", r, err)
	// Output:
	// a step0
	// b step0
	// c step0
	// a step1
	// c step1
	// a step2
	// ["a done" "b done" "c done"] <nil>
}

// When the timeout expires, WaitFor cancels the awaited task, waits for it, and returns
// ErrTimeout (asyncio's TimeoutError). Virtual time makes the second pass at once.
func ExampleCo_WaitFor() {
	l, err := loop.New(loop.Options{VirtualTime: true})
	if err != nil {
		panic(err)
	}
	defer l.Close()
	slow := loop.Coroutine(func(co *loop.Co) (any, error) {
		if err := co.Sleep(time.Hour); err != nil {
			fmt.Println("slow:", err)
			return nil, err
		}
		return "finished", nil
	})
	_, err = l.RunUntilComplete(loop.Coroutine(func(co *loop.Co) (any, error) {
		r, err := co.WaitFor(slow, time.Second)
		fmt.Println(r, err, errors.Is(err, loop.ErrTimeout))
		fmt.Printf("at %.0fs\n", l.Seconds())
		return nil, nil
	}))
	fmt.Println(err)
	// Output:
	// slow: CancelledError
	// <nil> TimeoutError true
	// at 1s
	// <nil>
}

// In virtual time the clock jumps to the next timer when nothing else can happen: timers of 1, 2
// and 3 seconds fire at once, in order, each seeing its own due time.
func ExampleLoop_SetVirtualTime() {
	l, err := loop.New()
	if err != nil {
		panic(err)
	}
	defer l.Close()
	l.SetVirtualTime(true)
	for _, s := range []int{3, 1, 2} {
		l.CallLater(time.Duration(s)*time.Second, func() {
			fmt.Printf("%ds timer at %.0f\n", s, l.Seconds())
			if s == 3 {
				l.Stop()
			}
		})
	}
	start := time.Now()
	l.RunForever()
	fmt.Println("took under a second:", time.Since(start) < time.Second)
	// Output:
	// 1s timer at 1
	// 2s timer at 2
	// 3s timer at 3
	// took under a second: true
}

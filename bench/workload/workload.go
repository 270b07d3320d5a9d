// Package workload holds the loop micro-workloads shared by the go test benchmarks
// (loop/bench_test.go) and the cross-runtime runner (bench/loopbench), so the numbers
// both report come from the same code. Each workload mirrors one in bench/peers/micro.py and
// bench/peers/micro.js: same shape, same counts, same stop condition.
//
// Every function expects a fresh loop that is not running, runs it until the workload is done,
// and leaves it stopped but open; the caller closes it.
package workload

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/loopbook/loopbook/loop"
	"golang.org/x/sys/unix"
)

// Chain runs n callbacks, each scheduling the next with CallSoon, so every hop is one full loop
// iteration (asyncio's call_soon chain). The last one stops the loop.
func Chain(l *loop.Loop, n int) error {
	left := n
	var err error
	var hop func()
	hop = func() {
		left--
		if left <= 0 {
			l.Stop()
			return
		}
		if _, e := l.CallSoon(hop); e != nil {
			err = e
			l.Stop()
		}
	}
	if _, e := l.CallSoon(hop); e != nil {
		return e
	}
	if e := l.RunForever(); e != nil {
		return e
	}
	return err
}

// WatchIdle registers a reader on one end of a fresh socketpair that nobody ever writes to. The
// loop skips the poll when nothing is watched, so this is what makes every iteration pay for a
// zero-timeout epoll_wait, as asyncio (whose self-pipe is always registered) and a real server do.
// The returned function removes the watch and closes both ends.
func WatchIdle(l *loop.Loop) (func(), error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		return nil, fmt.Errorf("socketpair: %w", err)
	}
	// Not SOCK_CLOEXEC in the call: macOS lacks it. Nothing forks meanwhile in a benchmark.
	unix.CloseOnExec(fds[0])
	unix.CloseOnExec(fds[1])
	if _, err := l.AddReader(fds[0], func() {}); err != nil {
		unix.Close(fds[0])
		unix.Close(fds[1])
		return nil, err
	}
	return func() {
		l.RemoveReader(fds[0])
		unix.Close(fds[0])
		unix.Close(fds[1])
	}, nil
}

// Burst schedules n callbacks up front and then runs the loop until all have run; the last stops
// it. It returns how long the scheduling part took (the rest is dispatch).
func Burst(l *loop.Loop, n int) (time.Duration, error) {
	left := n
	cb := func() {
		left--
		if left == 0 {
			l.Stop()
		}
	}
	start := time.Now()
	for i := 0; i < n; i++ {
		if _, err := l.CallSoon(cb); err != nil {
			return 0, err
		}
	}
	sched := time.Since(start)
	return sched, l.RunForever()
}

// TimerSeed is the seed of the random delays in Timers, the same number the Python and Node
// peers use (their generators differ, so only the distribution is shared, not the sequence).
const TimerSeed = 42

// MaxTimerDelay bounds the random delays of Timers.
const MaxTimerDelay = 10 * time.Millisecond

// Timers schedules n CallLater timers with random delays in [0, MaxTimerDelay) and runs the loop
// until every one has fired. It returns how long the scheduling part took.
func Timers(l *loop.Loop, n int) (time.Duration, error) {
	rng := rand.New(rand.NewPCG(TimerSeed, TimerSeed))
	left := n
	fire := func() {
		left--
		if left == 0 {
			l.Stop()
		}
	}
	start := time.Now()
	for i := 0; i < n; i++ {
		d := time.Duration(rng.Int64N(int64(MaxTimerDelay)))
		if _, err := l.CallLater(d, fire); err != nil {
			return 0, err
		}
	}
	sched := time.Since(start)
	return sched, l.RunForever()
}

// AwaitPingPong measures a compiled task's await/resume: two tasks take turns, each creating a
// fresh future, resolving the one its partner waits on, and awaiting its own. Every one of the n
// awaits truly suspends (the future is pending when awaited) and is resumed by the loop one
// iteration later, so a hop is: future creation, SetResult, suspend, one loop iteration, resume.
func AwaitPingPong(l *loop.Loop, n int) error {
	p := &pingPong{l: l, left: n}
	main := func(co *loop.Co) (any, error) {
		a, err := l.CreateTask(p.player(0))
		if err != nil {
			return nil, err
		}
		b, err := l.CreateTask(p.player(1))
		if err != nil {
			return nil, err
		}
		if _, err := co.Await(a); err != nil {
			return nil, err
		}
		_, err = co.Await(b)
		return nil, err
	}
	_, err := l.RunUntilComplete(loop.Coroutine(main))
	return err
}

type pingPong struct {
	l    *loop.Loop
	left int             // awaits still to do, shared by both players
	wait [2]*loop.Future // the future each player is parked on, nil once resolved
}

// release resolves the future player i's partner waits on, if any.
func (p *pingPong) release(i int) {
	if f := p.wait[1-i]; f != nil {
		p.wait[1-i] = nil
		f.SetResult(nil)
	}
}

func (p *pingPong) player(i int) loop.Coroutine {
	return func(co *loop.Co) (any, error) {
		for p.left > 0 {
			p.left--
			mine := p.l.CreateFuture()
			p.wait[i] = mine
			p.release(i)
			if _, err := co.Await(mine); err != nil {
				return nil, err
			}
		}
		// The partner is parked on its last future: let it see that the work is done.
		p.release(i)
		return nil, nil
	}
}

// ManyTasks is how many tasks the "-100" await variants run at once: with that many tasks ready
// in every iteration, the iteration's own cost (poll, bookkeeping, its events) is shared by all
// of them, and what remains is the cost of an await itself. These variants are reported beside
// the single-pair and single-task figures, never instead of them.
const ManyTasks = 100

// AwaitPingPongMany is AwaitPingPong with ManyTasks/2 pairs of players at once; n awaits in all.
func AwaitPingPongMany(l *loop.Loop, n int) error {
	const pairs = ManyTasks / 2
	var players []loop.Coroutine
	for k := 0; k < pairs; k++ {
		p := &pingPong{l: l, left: share(n, pairs, k)}
		players = append(players, p.player(0), p.player(1))
	}
	return runAll(l, players)
}

// Sleep0Many is Sleep0 with ManyTasks tasks yielding at once; n Sleep(0) calls in all.
func Sleep0Many(l *loop.Loop, n int) error {
	var sleepers []loop.Coroutine
	for k := 0; k < ManyTasks; k++ {
		count := share(n, ManyTasks, k)
		sleepers = append(sleepers, func(co *loop.Co) (any, error) {
			for i := 0; i < count; i++ {
				if err := co.Sleep(0); err != nil {
					return nil, err
				}
			}
			return nil, nil
		})
	}
	return runAll(l, sleepers)
}

// share is part k's share of n split into parts as evenly as can be.
func share(n, parts, k int) int {
	if k < n%parts {
		return n/parts + 1
	}
	return n / parts
}

// runAll runs the coroutines as tasks, all at once, until every one has returned.
func runAll(l *loop.Loop, coros []loop.Coroutine) error {
	_, err := l.RunUntilComplete(loop.Coroutine(func(co *loop.Co) (any, error) {
		var tasks []*loop.Task
		for _, c := range coros {
			t, err := l.CreateTask(c)
			if err != nil {
				return nil, err
			}
			tasks = append(tasks, t)
		}
		for _, t := range tasks {
			if _, err := co.Await(t); err != nil {
				return nil, err
			}
		}
		return nil, nil
	}))
	return err
}

// Sleep0 runs one task that calls co.Sleep(0) n times: a bare yield to the loop and back, with no
// future involved (asyncio.sleep(0)).
func Sleep0(l *loop.Loop, n int) error {
	_, err := l.RunUntilComplete(loop.Coroutine(func(co *loop.Co) (any, error) {
		for i := 0; i < n; i++ {
			if err := co.Sleep(0); err != nil {
				return nil, err
			}
		}
		return nil, nil
	}))
	return err
}

// CreateTaskBatch is how many tasks CreateTasks starts per loop iteration. Each task owns a
// parked goroutine until its first step, so starting all n at once would hold n stacks.
const CreateTaskBatch = 1024

// CreateTasks creates n tasks whose coroutines return at once, CreateTaskBatch per iteration,
// and runs the loop until all are done: the cost of create_task plus a task's first and last step.
func CreateTasks(l *loop.Loop, n int) error {
	if n <= 0 {
		return nil
	}
	left, made := n, 0
	var err error
	body := loop.Coroutine(func(co *loop.Co) (any, error) {
		left--
		if left == 0 {
			l.Stop()
		}
		return nil, nil
	})
	var spawn func()
	spawn = func() {
		for k := 0; k < CreateTaskBatch && made < n; k++ {
			if _, e := l.CreateTask(body); e != nil {
				err = e
				l.Stop()
				return
			}
			made++
		}
		if made < n {
			if _, e := l.CallSoon(spawn); e != nil {
				err = e
				l.Stop()
			}
		}
	}
	if _, e := l.CallSoon(spawn); e != nil {
		return e
	}
	if e := l.RunForever(); e != nil {
		return e
	}
	if err == nil && left != 0 {
		err = errors.New("workload: loop stopped before every task ran")
	}
	return err
}

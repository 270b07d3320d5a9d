package loop_test

// Benchmarks of the loop's hot paths. The workloads live in bench/workload so that the
// cross-runtime runner (bench/run.sh) measures exactly the same code against asyncio, uvloop and
// Node; see BENCHMARKS.md for the comparison. Run them pinned to one CPU to match the runner:
//
//	taskset -c 0 go test ./loop -run '^$' -bench . -benchtime 1000000x
//
// There are no timing assertions here: these report, they do not judge.

import (
	"fmt"
	"testing"
	"time"

	"github.com/loopbook/loopbook/bench/echo"
	"github.com/loopbook/loopbook/bench/workload"
	"github.com/loopbook/loopbook/loop"
)

// benchLoop makes a loop that the benchmark closes when it ends.
func benchLoop(b *testing.B) *loop.Loop {
	b.Helper()
	l, err := loop.New()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { l.Close() })
	return l
}

// reportPerUnit adds a per-unit time metric (ns/hop, ns/timer...) next to ns/op, for benchmarks
// whose op is not the unit the budget is stated in, or to make the unit explicit.
func reportPerUnit(b *testing.B, units int, unit string) {
	if units > 0 {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(units), "ns/"+unit)
	}
}

// BenchmarkCallSoonChain: each callback schedules the next, so one op is one hop, a whole loop
// iteration. "nofd" watches nothing, so the loop skips the poll; "fd" watches an idle socketpair,
// which costs a zero-timeout epoll_wait per iteration, as in asyncio (its self-pipe) and in any
// server.
func BenchmarkCallSoonChain(b *testing.B) {
	for _, variant := range []string{"nofd", "fd"} {
		b.Run(variant, func(b *testing.B) {
			l := benchLoop(b)
			if variant == "fd" {
				undo, err := workload.WatchIdle(l)
				if err != nil {
					b.Fatal(err)
				}
				defer undo()
			}
			b.ReportAllocs()
			b.ResetTimer()
			if err := workload.Chain(l, b.N); err != nil {
				b.Fatal(err)
			}
			reportPerUnit(b, b.N, "hop")
		})
	}
}

// BenchmarkCallSoonBurst: b.N callbacks are scheduled first, then run in one iteration. One op is
// one CallSoon plus its dispatch; sched-ns/op is the scheduling part alone.
func BenchmarkCallSoonBurst(b *testing.B) {
	l := benchLoop(b)
	b.ReportAllocs()
	b.ResetTimer()
	sched, err := workload.Burst(l, b.N)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(sched.Nanoseconds())/float64(b.N), "sched-ns/op")
}

// timersPerRun is the size of one BenchmarkTimers op: the budget is stated for 100k timers.
const timersPerRun = 100_000

// BenchmarkTimers: one op is a whole run of 100k CallLater timers with random delays below 10 ms
// (seed 42), from the first CallLater until the last timer has fired. Scheduling takes longer than
// the largest delay, so this measures heap work and dispatch, not sleeping.
func BenchmarkTimers(b *testing.B) {
	b.ReportAllocs()
	var sched time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		l, err := loop.New()
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		s, err := workload.Timers(l, timersPerRun)
		if err != nil {
			b.Fatal(err)
		}
		sched += s
		b.StopTimer()
		l.Close()
		b.StartTimer()
	}
	reportPerUnit(b, b.N*timersPerRun, "timer")
	b.ReportMetric(float64(sched.Nanoseconds())/float64(b.N*timersPerRun), "sched-ns/timer")
}

// BenchmarkTaskAwait measures a compiled task's await/resume, one op per hop. "pingpong": two
// tasks take turns, each resolving the future its partner awaits and awaiting a fresh pending one
// of its own, so every Await truly suspends and the loop resumes it one iteration later (the
// hop includes CreateFuture and SetResult). "sleep0": one task yields with co.Sleep(0), no future.
// The "-100" variants do the same with 100 tasks at once (50 pairs, or 100 sleepers), so that an
// iteration's own cost is shared: an additional figure, not the one the budget is stated for.
func BenchmarkTaskAwait(b *testing.B) {
	run := map[string]func(*loop.Loop, int) error{
		"pingpong":     workload.AwaitPingPong,
		"sleep0":       workload.Sleep0,
		"pingpong-100": workload.AwaitPingPongMany,
		"sleep0-100":   workload.Sleep0Many,
	}
	for _, variant := range []string{"pingpong", "sleep0", "pingpong-100", "sleep0-100"} {
		b.Run(variant, func(b *testing.B) {
			l := benchLoop(b)
			b.ReportAllocs()
			b.ResetTimer()
			if err := run[variant](l, b.N); err != nil {
				b.Fatal(err)
			}
			reportPerUnit(b, b.N, "hop")
		})
	}
}

// BenchmarkCreateTask: one op is CreateTask of a coroutine that returns at once, plus its only
// step and its completion; tasks are started in batches so that few goroutines are parked at once.
func BenchmarkCreateTask(b *testing.B) {
	l := benchLoop(b)
	b.ReportAllocs()
	b.ResetTimer()
	if err := workload.CreateTasks(l, b.N); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkEcho: one op is one 64-byte round trip over loopback TCP, client goroutines in this
// process keeping one request in flight per connection. "loop" is the loop server of bench/echo
// (SockAccept, one task per connection doing SockRecvInto and SockSendAll); "net" is the
// goroutine-per-connection server it is compared with. Client and server share the process and
// its CPUs, so use it for profiles and relative numbers; bench/run.sh gives the pinned figures.
func BenchmarkEcho(b *testing.B) {
	const size = 64
	for _, server := range []string{"loop", "net"} {
		for _, conns := range []int{1, 50} {
			b.Run(fmt.Sprintf("%s/conns=%d", server, conns), func(b *testing.B) {
				srv, err := echo.Start(server, "127.0.0.1:0")
				if err != nil {
					b.Fatal(err)
				}
				cs, err := echo.Dial(srv.Addr, conns)
				if err != nil {
					srv.Close()
					b.Fatal(err)
				}
				b.ResetTimer()
				err = echo.PingPong(cs, size, b.N)
				b.StopTimer()
				if secs := b.Elapsed().Seconds(); secs > 0 {
					b.ReportMetric(float64(b.N)/secs, "req/s")
				}
				// The client side closes first: the net server waits for its connections to end.
				echo.CloseAll(cs)
				if cerr := srv.Close(); err == nil {
					err = cerr
				}
				if err != nil {
					b.Fatal(err)
				}
			})
		}
	}
}

// BenchmarkCallSoonDebug is the nofd chain of BenchmarkCallSoonChain in debug mode, where every
// CallSoon first checks that it runs on the loop's goroutine (or a task's). The loop has a site
// hook, as in the notebook kernel, so the Go caller's site is not looked up and the check is what
// the debug mode adds. "depth=100" calls CallSoon under 100 more frames, as interpreted code does
// (a yaegi call stack is deep): a check that walks or prints the stack pays for every frame.
func BenchmarkCallSoonDebug(b *testing.B) {
	site := &loop.Site{File: "cell", Line: 1}
	for _, depth := range []int{0, 100} {
		b.Run(fmt.Sprintf("depth=%d", depth), func(b *testing.B) {
			l, err := loop.New(loop.Options{Debug: true})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { l.Close() })
			l.SetSiteHook(func() *loop.Site { return site })
			left := b.N
			var hop func()
			schedule := func() {
				if _, err := l.CallSoon(hop); err != nil {
					b.Error(err)
					l.Stop()
				}
			}
			hop = func() {
				left--
				if left <= 0 {
					l.Stop()
					return
				}
				atDepth(depth, schedule)
			}
			b.ReportAllocs()
			b.ResetTimer()
			if _, err := l.CallSoon(hop); err != nil {
				b.Fatal(err)
			}
			if err := l.RunForever(); err != nil {
				b.Fatal(err)
			}
			reportPerUnit(b, b.N, "hop")
		})
	}
}

// atDepth calls fn under depth more frames.
//
//go:noinline
func atDepth(depth int, fn func()) {
	if depth <= 0 {
		fn()
		return
	}
	atDepth(depth-1, fn)
}

package loop_test

// Twins: each program in testdata/asyncio/<case>.py was run under CPython 3.11 asyncio and its
// output recorded in <case>.out. The Go twin below does the same things with this package and
// must print the same lines in the same order. Where Go spells something differently (error
// texts, booleans), the Python program prints a normalised form; the order is never relaxed.

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/loopbook/loopbook/loop"
)

// twinEnv is what a twin works with: the loop, the output it prints, and a way to fail the test
// on errors asyncio would not have raised.
type twinEnv struct {
	t   testing.TB
	l   *loop.Loop
	out bytes.Buffer
}

// p prints one line, as the Python program's print does.
func (e *twinEnv) p(format string, args ...any) { fmt.Fprintf(&e.out, format+"\n", args...) }

// ok fails the test on an unexpected error.
func (e *twinEnv) ok(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Errorf("unexpected error: %v", err)
	}
}

func (e *twinEnv) soon(fn func()) {
	e.t.Helper()
	_, err := e.l.CallSoon(fn)
	e.ok(err)
}

func (e *twinEnv) later(d time.Duration, fn func()) *loop.TimerHandle {
	e.t.Helper()
	h, err := e.l.CallLater(d, fn)
	e.ok(err)
	return h
}

func (e *twinEnv) at(when time.Duration, fn func()) *loop.TimerHandle {
	e.t.Helper()
	h, err := e.l.CallAt(when, fn)
	e.ok(err)
	return h
}

func (e *twinEnv) task(c loop.Coroutine) *loop.Task {
	e.t.Helper()
	t, err := e.l.CreateTask(c)
	e.ok(err)
	return t
}

// say returns a callback that prints s, Python's call_soon(p, s).
func (e *twinEnv) say(s string) func() { return func() { e.p("%s", s) } }

// worker is the programs' `async def worker(name, n)`: n steps separated by sleep(0).
func (e *twinEnv) worker(name string, n int, done string) loop.Coroutine {
	return func(co *loop.Co) (any, error) {
		for i := 0; i < n; i++ {
			e.p("%s step%d", name, i)
			if err := co.Sleep(0); err != nil {
				return nil, err
			}
		}
		e.p("%s %s", name, done)
		return name, nil
	}
}

// run is run_until_complete for a coroutine whose failure would be a test failure.
func (e *twinEnv) run(c loop.Coroutine) any {
	e.t.Helper()
	r, err := e.l.RunUntilComplete(c)
	e.ok(err)
	return r
}

func pyBool(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

// pyErr formats an error as the programs' err() helper does.
func pyErr(err error) string {
	var ce *loop.CancelledError
	var re *loop.RuntimeError
	switch {
	case errors.As(err, &ce):
		return "CancelledError(" + ce.Msg + ")"
	case errors.Is(err, loop.ErrTimeout):
		return "TimeoutError"
	case errors.As(err, &re):
		return "RuntimeError: " + re.Error()
	case err == nil:
		return "<nil>"
	}
	return err.Error()
}

// doneCB prints "<name> done-callback cancelled=<bool>".
func (e *twinEnv) doneCB(name string) func(*loop.Future) {
	return func(f *loop.Future) { e.p("%s done-callback cancelled=%s", name, pyBool(f.Cancelled())) }
}

type twinCase struct {
	name string
	fn   func(e *twinEnv)
}

var twinCases = []twinCase{
	{name: "soon_later_tasks", fn: twinSoonLaterTasks},
	{name: "stop_in_batch", fn: twinStopInBatch},
	{name: "stop_before_run", fn: twinStopBeforeRun},
	{name: "cancel", fn: twinCancel},
	{name: "done_callbacks", fn: twinDoneCallbacks},
	{name: "timers_equal", fn: twinTimersEqual},
	{name: "timers_compact", fn: twinTimersCompact},
	{name: "timers_cancel_count", fn: twinTimersCancelCount},
	{name: "gather", fn: twinGather},
	{name: "wait_for", fn: twinWaitFor},
	{name: "wait_for_cancelled", fn: twinWaitForCancelled},
	{name: "run_errors", fn: twinRunErrors},
}

func TestAsyncioTwins(t *testing.T) {
	seen := map[string]bool{}
	for _, tc := range twinCases {
		seen[tc.name] = true
		// Each twin runs in real time, as the Python program did, and in virtual time, which must
		// not change any order.
		for _, virtual := range []bool{false, true} {
			mode := "real"
			if virtual {
				mode = "virtual"
			}
			t.Run(tc.name+"/"+mode, func(t *testing.T) {
				want, err := os.ReadFile(filepath.Join("testdata", "asyncio", tc.name+".out"))
				if err != nil {
					t.Fatalf("no recording: %v (see testdata/asyncio/README.md)", err)
				}
				got, logs := runTwin(t, tc.fn, virtual)
				d := twinDiff(twinLines(string(want)), twinLines(got))
				if d != "" {
					t.Errorf("twin of testdata/asyncio/%s.py diverges from CPython asyncio (-asyncio +loop):\n%s", tc.name, d)
				}
				if logs != "" {
					t.Errorf("the loop reported problems asyncio did not:\n%s", logs)
				}
			})
		}
	}
	// Every recorded program has a twin.
	pys, _ := filepath.Glob(filepath.Join("testdata", "asyncio", "*.py"))
	for _, py := range pys {
		if name := strings.TrimSuffix(filepath.Base(py), ".py"); !seen[name] {
			t.Errorf("testdata/asyncio/%s.py has no Go twin", name)
		}
	}
}

// runTwin runs fn on a new loop and returns what it printed and what the loop reported.
func runTwin(t testing.TB, fn func(*twinEnv), virtual bool) (out, logs string) {
	var logbuf bytes.Buffer
	l, err := loop.New(loop.Options{VirtualTime: virtual, Log: &logbuf})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	e := &twinEnv{t: t, l: l}
	fn(e)
	l.Close()
	return e.out.String(), logbuf.String()
}

func twinLines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// twinDiff returns a line diff of want and got (empty if equal): the first differing line, then
// the changes in context, lines prefixed "-" (only in want), "+" (only in got) or " " (both).
func twinDiff(want, got []string) string {
	if len(want) == len(got) {
		same := true
		for i := range want {
			if want[i] != got[i] {
				same = false
				break
			}
		}
		if same {
			return ""
		}
	}
	first := 0
	for first < len(want) && first < len(got) && want[first] == got[first] {
		first++
	}
	// Longest common subsequence, then walk it.
	n, m := len(want), len(got)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if want[i] == got[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var b strings.Builder
	wantAt := "(end)"
	if first < n {
		wantAt = fmt.Sprintf("%q", want[first])
	}
	gotAt := "(end)"
	if first < m {
		gotAt = fmt.Sprintf("%q", got[first])
	}
	fmt.Fprintf(&b, "first difference at line %d: asyncio %s, loop %s\n", first+1, wantAt, gotAt)
	type edit struct {
		op   byte // ' ', '-', '+'
		line string
	}
	var script []edit
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && want[i] == got[j]:
			script = append(script, edit{' ', want[i]})
			i++
			j++
		case i < n && (j == m || lcs[i+1][j] >= lcs[i][j+1]):
			script = append(script, edit{'-', want[i]})
			i++
		default:
			script = append(script, edit{'+', got[j]})
			j++
		}
	}
	// Print the changes with three lines of context.
	const context = 3
	show := make([]bool, len(script))
	for k, ed := range script {
		if ed.op != ' ' {
			for c := max(0, k-context); c <= min(len(script)-1, k+context); c++ {
				show[c] = true
			}
		}
	}
	for k, ed := range script {
		if !show[k] {
			if k > 0 && show[k-1] {
				b.WriteString("  ...\n")
			}
			continue
		}
		fmt.Fprintf(&b, "%c %s\n", ed.op, ed.line)
	}
	return b.String()
}

// The comparison must notice a reordering, a missing line and an extra line.
func TestTwinDiffDetectsDifferences(t *testing.T) {
	want := []string{"a", "b", "c", "d"}
	if d := twinDiff(want, []string{"a", "b", "c", "d"}); d != "" {
		t.Errorf("equal outputs differ:\n%s", d)
	}
	for _, got := range [][]string{
		{"a", "c", "b", "d"},
		{"a", "b", "c"},
		{"a", "b", "c", "d", "e"},
		{"b", "a", "c", "d"},
		nil,
	} {
		if d := twinDiff(want, got); d == "" {
			t.Errorf("%q vs %q: no difference reported", want, got)
		}
	}
	d := twinDiff(want, []string{"a", "c", "b", "d"})
	if !strings.Contains(d, "first difference at line 2") {
		t.Errorf("diff does not locate the first difference:\n%s", d)
	}
}

// --- soon_later_tasks.py

func twinSoonLaterTasks(e *twinEnv) {
	l := e.l
	t0 := l.Time()
	soonA := func() {
		e.p("soon a")
		e.soon(e.say("soon a2"))
		e.later(0, e.say("later0 a3"))
		e.task(e.worker("task3", 2, "done"))
		e.soon(e.say("soon a4"))
	}
	later0B := func() {
		e.p("later0 b")
		e.later(0, e.say("later0 b2"))
		e.soon(e.say("soon b3"))
	}
	e.soon(soonA)
	e.later(0, later0B)
	e.task(e.worker("task1", 3, "done"))
	e.soon(e.say("soon c"))
	e.later(0, e.say("later0 d"))
	e.task(e.worker("task2", 2, "done"))
	e.soon(e.say("soon e"))
	e.at(t0+100*time.Millisecond, l.Stop)
	e.ok(l.RunForever())
	e.p("stopped")
	e.ok(l.Close())
}

// --- stop_in_batch.py

func twinStopInBatch(e *twinEnv) {
	l := e.l
	b := func() {
		e.p("b calls stop")
		l.Stop()
		e.soon(e.say("x soon by b"))
		e.later(0, e.say("y later0 by b"))
		e.soon(e.say("z soon by b"))
	}
	d := func() {
		e.p("d after stop, same batch")
		e.soon(e.say("w soon by d"))
	}
	secondStop := func() {
		e.p("second stop")
		l.Stop()
		e.soon(e.say("v soon by second stop"))
	}
	e.soon(e.say("a"))
	task := e.task(e.worker("task1", 5, "done"))
	e.soon(b)
	e.soon(d)
	e.soon(e.say("c"))
	e.soon(l.Stop)
	e.soon(e.say("after double stop, same batch"))
	e.ok(l.RunForever())
	e.p("run_forever returned 1")
	e.soon(e.say("e scheduled between runs"))
	e.soon(secondStop)
	e.ok(l.RunForever())
	e.p("run_forever returned 2")
	e.soon(l.Stop)
	e.ok(l.RunForever())
	e.p("run_forever returned 3")
	e.later(0, l.Stop)
	e.ok(l.RunForever())
	e.p("run_forever returned 4")
	_, err := l.RunUntilComplete(task)
	e.ok(err)
	e.p("task finished")
	e.ok(l.Close())
}

// --- stop_before_run.py

func twinStopBeforeRun(e *twinEnv) {
	l := e.l
	t0 := l.Time()
	a := func() {
		e.p("a")
		e.soon(e.say("a2 soon by a"))
		e.later(0, e.say("a3 later0 by a"))
	}
	e.soon(a)
	e.later(0, e.say("b later0"))
	far := e.at(t0+30*time.Second, e.say("far timer (never)"))
	task := e.task(e.worker("task1", 3, "done"))
	e.soon(e.say("c"))
	l.Stop()
	e.ok(l.RunForever())
	e.p("run_forever returned 1")
	l.Stop()
	e.ok(l.RunForever())
	e.p("run_forever returned 2")
	l.Stop()
	l.Stop()
	e.ok(l.RunForever())
	e.p("run_forever returned 3")
	l.Stop()
	e.ok(l.RunForever())
	e.p("run_forever returned 4")
	r, err := l.RunUntilComplete(task)
	e.ok(err)
	e.p("result %v", r)
	far.Cancel()
	e.ok(l.Close())
}

// --- cancel.py

func twinCancel(e *twinEnv) {
	l := e.l
	waitsOn := func(fut *loop.Future) loop.Coroutine {
		return func(co *loop.Co) (any, error) {
			e.p("w: awaiting fut")
			if _, err := co.Await(fut); err != nil {
				e.p("w: caught %s, re-raising", pyErr(err))
				return nil, err
			}
			e.p("w: not reached")
			return nil, nil
		}
	}

	case1 := func(co *loop.Co) (any, error) {
		e.p("== 1 cancel while awaiting a future")
		fut := l.CreateFuture()
		fut.AddDoneCallback(e.doneCB("fut"))
		t := e.task(waitsOn(fut))
		t.AddDoneCallback(e.doneCB("w"))
		if err := co.Sleep(0); err != nil {
			return nil, err
		}
		e.p("main: cancel -> %s", pyBool(t.Cancel("m1")))
		e.soon(e.say("soon after cancel"))
		e.p("main: fut.cancelled()=%s t.done()=%s", pyBool(fut.Cancelled()), pyBool(t.Done()))
		if _, err := co.Await(t); err != nil {
			e.p("main: await w raised %s", pyErr(err))
		}
		e.p("main: w.cancelled()=%s cancel again -> %s", pyBool(t.Cancelled()), pyBool(t.Cancel()))
		return nil, nil
	}

	case2 := func(co *loop.Co) (any, error) {
		e.p("== 2 cancel before first step")
		t := e.task(func(co *loop.Co) (any, error) {
			e.p("never: body runs (wrong)")
			return nil, nil
		})
		t.AddDoneCallback(e.doneCB("never"))
		e.soon(e.say("soon before cancel"))
		e.p("main: cancel -> %s", pyBool(t.Cancel("early")))
		e.soon(e.say("soon after cancel"))
		for i := 0; i < 3; i++ {
			e.p("main: tick%d done=%s", i, pyBool(t.Done()))
			if err := co.Sleep(0); err != nil {
				return nil, err
			}
		}
		if _, err := t.Result(); err != nil {
			e.p("main: never.result() raised %s", pyErr(err))
		}
		return nil, nil
	}

	case3 := func(co *loop.Co) (any, error) {
		e.p("== 3 cancel caught, task returns normally")
		t := e.task(func(co *loop.Co) (any, error) {
			e.p("stubborn: sleeping")
			if err := co.Sleep(30 * time.Second); err != nil {
				e.p("stubborn: caught %s", pyErr(err))
			}
			if err := co.Sleep(0); err != nil {
				return nil, err
			}
			e.p("stubborn: continues")
			if err := co.Sleep(0); err != nil {
				return nil, err
			}
			e.p("stubborn: returns")
			return "r3", nil
		})
		t.AddDoneCallback(e.doneCB("stubborn"))
		if err := co.Sleep(0); err != nil {
			return nil, err
		}
		e.p("main: cancel -> %s", pyBool(t.Cancel("m3")))
		r, err := co.Await(t)
		if err != nil {
			return nil, err
		}
		e.p("main: result=%v cancelled=%s", r, pyBool(t.Cancelled()))
		return nil, nil
	}

	case4 := func(co *loop.Co) (any, error) {
		e.p("== 4 cancel propagates to the awaited task")
		fut := l.CreateFuture()
		fut.AddDoneCallback(e.doneCB("fut"))
		it := e.task(func(co *loop.Co) (any, error) {
			e.p("inner: awaiting fut")
			if _, err := co.Await(fut); err != nil {
				e.p("inner: caught %s, re-raising", pyErr(err))
				return nil, err
			}
			return nil, nil
		})
		it.AddDoneCallback(e.doneCB("inner"))
		ot := e.task(func(co *loop.Co) (any, error) {
			e.p("outer: awaiting inner")
			if _, err := co.Await(it); err != nil {
				e.p("outer: caught %s, re-raising", pyErr(err))
				return nil, err
			}
			return nil, nil
		})
		ot.AddDoneCallback(e.doneCB("outer"))
		if err := co.Sleep(0); err != nil {
			return nil, err
		}
		e.p("main: cancel outer -> %s", pyBool(ot.Cancel("m4")))
		e.p("main: fut.cancelled()=%s inner.done()=%s outer.done()=%s",
			pyBool(fut.Cancelled()), pyBool(it.Done()), pyBool(ot.Done()))
		e.soon(e.say("soon after cancel"))
		if _, err := co.Await(ot); err != nil {
			e.p("main: await outer raised %s", pyErr(err))
		}
		e.p("main: inner.cancelled()=%s outer.cancelled()=%s", pyBool(it.Cancelled()), pyBool(ot.Cancelled()))
		return nil, nil
	}

	case5 := func(co *loop.Co) (any, error) {
		e.p("== 5 cancel while yielding")
		t := e.task(func(co *loop.Co) (any, error) {
			for i := 0; i < 10; i++ {
				e.p("spinner: step%d", i)
				if err := co.Sleep(0); err != nil {
					e.p("spinner: caught %s", pyErr(err))
					return nil, err
				}
			}
			return nil, nil
		})
		t.AddDoneCallback(e.doneCB("spinner"))
		for range 2 {
			if err := co.Sleep(0); err != nil {
				return nil, err
			}
		}
		e.p("main: cancel -> %s", pyBool(t.Cancel("m5")))
		e.soon(e.say("soon after cancel"))
		if err := co.Sleep(0); err != nil {
			return nil, err
		}
		e.p("main: spinner.done()=%s", pyBool(t.Done()))
		if err := co.Sleep(0); err != nil {
			return nil, err
		}
		e.p("main: spinner.cancelled()=%s", pyBool(t.Cancelled()))
		return nil, nil
	}

	case6 := func(co *loop.Co) (any, error) {
		e.p("== 6 self-cancel")
		fut := l.CreateFuture()
		fut.AddDoneCallback(e.doneCB("fut"))
		t := e.task(func(co *loop.Co) (any, error) {
			e.p("self: cancel myself")
			l.CurrentTask().Cancel("self")
			e.p("self: still running after cancel()")
			if _, err := co.Await(fut); err != nil {
				e.p("self: caught %s, fut.cancelled()=%s", pyErr(err), pyBool(fut.Cancelled()))
			}
			l.CurrentTask().Cancel("self again")
			e.p("self: returns without awaiting")
			return "ignored", nil
		})
		t.AddDoneCallback(e.doneCB("self"))
		if _, err := co.Await(t); err != nil {
			e.p("main: await self raised %s", pyErr(err))
		}
		e.p("main: self.cancelled()=%s", pyBool(t.Cancelled()))
		return nil, nil
	}

	case7 := func(co *loop.Co) (any, error) {
		e.p("== 7 cancel after the awaited future finished")
		fut := l.CreateFuture()
		t := e.task(waitsOn(fut))
		t.AddDoneCallback(e.doneCB("w"))
		if err := co.Sleep(0); err != nil {
			return nil, err
		}
		e.ok(fut.SetResult("value"))
		e.p("main: cancel -> %s", pyBool(t.Cancel("m7")))
		if _, err := co.Await(t); err != nil {
			e.p("main: await w raised %s", pyErr(err))
		}
		e.p("main: w.cancelled()=%s", pyBool(t.Cancelled()))
		return nil, nil
	}

	case8 := func(co *loop.Co) (any, error) {
		e.p("== 8 cancel twice")
		fut := l.CreateFuture()
		t := e.task(waitsOn(fut))
		if err := co.Sleep(0); err != nil {
			return nil, err
		}
		e.p("main: cancel -> %s", pyBool(t.Cancel("first")))
		e.p("main: cancel again -> %s", pyBool(t.Cancel("second")))
		if _, err := co.Await(t); err != nil {
			e.p("main: await w raised %s", pyErr(err))
		}
		e.p("main: w.cancelled()=%s", pyBool(t.Cancelled()))
		return nil, nil
	}

	for _, c := range []loop.Coroutine{case1, case2, case3, case4, case5, case6, case7, case8} {
		e.run(c)
	}
	e.ok(l.Close())
}

// --- done_callbacks.py

func twinDoneCallbacks(e *twinEnv) {
	l := e.l
	cb := func(name string) func(*loop.Future) {
		return func(f *loop.Future) {
			var state string
			switch {
			case f.Cancelled():
				state = "cancelled"
			case f.Exception() != nil:
				state = fmt.Sprintf("exception=%v", f.Exception())
			default:
				r, _ := f.Result()
				state = fmt.Sprintf("result=%v", r)
			}
			e.p("%s %s", name, state)
		}
	}
	awaiter := func(name string, fut *loop.Future) loop.Coroutine {
		return func(co *loop.Co) (any, error) {
			e.p("%s: awaiting", name)
			r, err := co.Await(fut)
			if err != nil {
				return nil, err
			}
			e.p("%s: woke with %v", name, r)
			return nil, nil
		}
	}

	fut := l.CreateFuture()
	fut.AddDoneCallback(cb("cb1"))
	fut.AddDoneCallback(cb("cb2"))
	e.task(awaiter("task A", fut))
	fut.AddDoneCallback(cb("cb3"))
	fut.AddDoneCallback(func(f *loop.Future) {
		e.p("cb4 adds cb6 to the done future and schedules soon z")
		f.AddDoneCallback(cb("cb6"))
		e.soon(e.say("soon z"))
	})
	setter := func() {
		e.p("setter: set_result(1)")
		e.soon(e.say("soon x (before set_result)"))
		e.ok(fut.SetResult(1))
		e.p("setter: after set_result, nothing ran inline")
		e.soon(e.say("soon y (after set_result)"))
		fut.AddDoneCallback(cb("cb5 (added after done)"))
		e.p("setter: after late add_done_callback, nothing ran inline")
		e.task(awaiter("task B", fut))
	}
	e.soon(e.say("soon 0"))
	e.soon(setter)
	e.soon(e.say("soon 1"))

	f2 := l.CreateFuture()
	f2.AddDoneCallback(cb("f2 cb1"))
	f2.AddDoneCallback(cb("f2 cb2"))
	f3 := l.CreateFuture()
	f3.AddDoneCallback(cb("f3 cb1"))
	e.soon(func() {
		e.p("finisher: cancel f2, set_exception f3")
		f2.Cancel()
		e.soon(e.say("soon between"))
		e.ok(f3.SetException(errors.New("boom")))
		f2.AddDoneCallback(cb("f2 cb3 (late)"))
	})

	t := e.task(func(co *loop.Co) (any, error) {
		e.p("body: step0")
		co.Task().AddDoneCallback(cb("task cb2 (added by itself)"))
		if err := co.Sleep(0); err != nil {
			return nil, err
		}
		e.p("body: returns")
		return "T", nil
	})
	t.AddDoneCallback(cb("task cb1"))

	e.run(func(co *loop.Co) (any, error) {
		for i := 0; i < 6; i++ {
			e.p("main tick%d", i)
			if err := co.Sleep(0); err != nil {
				return nil, err
			}
		}
		t.AddDoneCallback(cb("task cb3 (after done)"))
		e.p("main: added cb3 after done")
		if err := co.Sleep(0); err != nil {
			return nil, err
		}
		e.p("main: end")
		return nil, nil
	})
	e.ok(l.Close())
}

// --- timers_equal.py

func twinTimersEqual(e *twinEnv) {
	l := e.l
	t0 := l.Time()
	T := t0 + 100*time.Millisecond
	hs := map[string]*loop.TimerHandle{}
	early := func() {
		e.p("early: adds eq-x0..eq-x4 at T, cancels eq5")
		for i := 0; i < 5; i++ {
			hs[fmt.Sprintf("x%d", i)] = e.at(T, e.say(fmt.Sprintf("eq-x%d", i)))
		}
		hs["eq5"].Cancel()
	}
	eq2 := func() {
		e.p("eq2: adds eq-late at T (already due) and a call_soon, cancels eq9 and eq12")
		e.at(T, e.say("eq-late"))
		e.soon(e.say("soon by eq2"))
		hs["eq9"].Cancel()
		hs["eq12"].Cancel()
	}
	e.at(t0+150*time.Millisecond, e.say("later1"))
	for i := 0; i < 14; i++ {
		if i == 2 {
			hs["eq2"] = e.at(T, eq2)
			continue
		}
		hs[fmt.Sprintf("eq%d", i)] = e.at(T, e.say(fmt.Sprintf("eq%d", i)))
		switch i {
		case 4:
			e.at(t0+150*time.Millisecond, e.say("later2"))
		case 8:
			e.at(t0+50*time.Millisecond, early)
		case 10:
			e.at(t0+150*time.Millisecond, e.say("later3"))
		}
	}
	for _, name := range []string{"eq0", "eq3", "eq7", "eq11"} {
		hs[name].Cancel()
	}
	U := t0 + 200*time.Millisecond
	for i := 0; i < 13; i++ {
		hs[fmt.Sprintf("u%d", i)] = e.at(U, e.say(fmt.Sprintf("u%d", i)))
	}
	hs["u1"].Cancel()
	hs["u12"].Cancel()
	e.at(t0+250*time.Millisecond, l.Stop)
	e.ok(l.RunForever())
	e.p("stopped")
	e.ok(l.Close())
}

// --- timers_compact.py

func twinTimersCompact(e *twinEnv) {
	l := e.l
	t0 := l.Time()
	T := t0 + 100*time.Millisecond
	var hs []*loop.TimerHandle
	phase := func(n int) {
		e.p("phase: schedules %d timers at T", n)
		for i := 0; i < n; i++ {
			hs = append(hs, e.at(T, e.say(fmt.Sprintf("t%d", i))))
		}
		hs = append(hs, e.at(T+50*time.Millisecond, e.say("after")))
		for i := 1; i < n; i += 2 {
			if i < 2*70 {
				hs[i].Cancel()
			}
		}
	}
	e.at(t0+50*time.Millisecond, func() { phase(120) })
	e.at(t0+200*time.Millisecond, l.Stop)
	e.ok(l.RunForever())
	e.p("stopped")
	e.ok(l.Close())
}

// --- timers_cancel_count.py

func twinTimersCancelCount(e *twinEnv) {
	l := e.l
	t0 := l.Time()
	T1 := t0 + 50*time.Millisecond
	T2 := t0 + 100*time.Millisecond
	phase2 := func() {
		e.p("phase2: schedules 110 timers at T2")
		for i := 0; i < 110; i++ {
			e.at(T2, e.say(fmt.Sprintf("t%d", i)))
		}
	}
	e.at(T1, phase2)
	var cancelled []*loop.TimerHandle
	for i := 0; i < 60; i++ {
		cancelled = append(cancelled, e.at(T1, e.say(fmt.Sprintf("c%d", i))))
	}
	for _, h := range cancelled {
		h.Cancel()
	}
	e.at(t0+200*time.Millisecond, l.Stop)
	e.ok(l.RunForever())
	e.p("stopped")
	e.ok(l.Close())
}

// --- gather.py

func twinGather(e *twinEnv) {
	l := e.l
	child := func(name string, n int, fail bool) loop.Coroutine {
		return func(co *loop.Co) (any, error) {
			for i := 0; i < n; i++ {
				e.p("%s step%d", name, i)
				if err := co.Sleep(0); err != nil {
					e.p("%s caught %s", name, pyErr(err))
					return nil, err
				}
			}
			if fail {
				e.p("%s raises", name)
				return nil, fmt.Errorf("ValueError: %s", name)
			}
			e.p("%s returns", name)
			return strings.ToUpper(name), nil
		}
	}
	gather := func(aws ...loop.Awaitable) *loop.Future {
		g, err := l.Gather(aws...)
		e.ok(err)
		return g
	}
	join := func(r any) string {
		var parts []string
		for _, v := range r.([]any) {
			parts = append(parts, fmt.Sprint(v))
		}
		return strings.Join(parts, " ")
	}
	sleep0 := func(co *loop.Co, n int) error {
		for range n {
			if err := co.Sleep(0); err != nil {
				return err
			}
		}
		return nil
	}

	e.run(func(co *loop.Co) (any, error) {
		e.p("== results in argument order")
		g := gather(child("a", 3, false), child("b", 0, false), child("c", 2, false))
		g.AddDoneCallback(func(*loop.Future) { e.p("gather done-callback") })
		e.soon(e.say("soon after gather"))
		res, err := co.Await(g)
		if err != nil {
			return nil, err
		}
		e.p("gather result %s", join(res))

		e.p("== first error wins, siblings keep running")
		g = gather(child("d", 3, false), child("e", 1, true), child("f", 4, false), child("g", 1, true))
		if _, err := co.Await(g); err != nil {
			e.p("gather raised %s", pyErr(err))
		}
		for i := 0; i < 5; i++ {
			e.p("main tick%d", i)
			if err := co.Sleep(0); err != nil {
				return nil, err
			}
		}

		e.p("== futures and tasks")
		f1 := l.CreateFuture()
		e.ok(f1.SetResult("pre"))
		f2 := l.CreateFuture()
		e.soon(func() { e.ok(f2.SetResult("soon")) })
		t := e.task(child("h", 1, false))
		res, err = co.Await(gather(f1, child("i", 2, false), f2, t))
		if err != nil {
			return nil, err
		}
		e.p("gather result %s", join(res))

		e.p("== cancel gather")
		g = gather(child("j", 5, false), child("k", 1, false), child("l", 5, false))
		if err := sleep0(co, 2); err != nil {
			return nil, err
		}
		e.p("main: cancel gather -> %s", pyBool(g.Cancel("stop")))
		if _, err := co.Await(g); err != nil {
			e.p("main: gather raised %s", pyErr(err))
		}
		e.p("main: gather.cancelled()=%s", pyBool(g.Cancelled()))

		e.p("== a child is cancelled")
		t = e.task(child("m", 5, false))
		g = gather(child("n", 3, false), t)
		if err := sleep0(co, 1); err != nil {
			return nil, err
		}
		e.p("main: cancel m -> %s", pyBool(t.Cancel("only m")))
		if _, err := co.Await(g); err != nil {
			e.p("main: gather raised %s", pyErr(err))
		}
		for i := 0; i < 4; i++ {
			e.p("main tick%d", i)
			if err := co.Sleep(0); err != nil {
				return nil, err
			}
		}

		e.p("== a child already failed")
		f := l.CreateFuture()
		e.ok(f.SetException(errors.New("ValueError: pre")))
		g = gather(f, child("o", 4, false))
		e.soon(e.say("soon after gather"))
		if _, err := co.Await(g); err != nil {
			e.p("gather raised %s", pyErr(err))
		}
		for i := 0; i < 4; i++ {
			e.p("main tick%d", i)
			if err := co.Sleep(0); err != nil {
				return nil, err
			}
		}

		e.p("== empty gather")
		res, err = co.Await(gather())
		if err != nil {
			return nil, err
		}
		e.p("empty gather result %d", len(res.([]any)))
		return nil, nil
	})
	e.ok(l.Close())
}

// --- wait_for.py

func twinWaitFor(e *twinEnv) {
	l := e.l
	var tick func(name string, i int)
	tick = func(name string, i int) {
		e.p("%s tick%d", name, i)
		if i < 5 {
			e.soon(func() { tick(name, i+1) })
		}
	}
	fast := func(co *loop.Co) (any, error) {
		for i := 0; i < 3; i++ {
			e.p("fast step%d", i)
			if err := co.Sleep(0); err != nil {
				return nil, err
			}
		}
		e.p("fast returns")
		return "fast result", nil
	}
	slow := func(name string) loop.Coroutine {
		return func(co *loop.Co) (any, error) {
			e.p("%s sleeping", name)
			if err := co.Sleep(30 * time.Second); err != nil {
				e.p("%s caught %s", name, pyErr(err))
				e.soon(func() { tick(name, 0) })
				return nil, err
			}
			return "never", nil
		}
	}
	stubborn := func(co *loop.Co) (any, error) {
		e.p("stubborn sleeping")
		if err := co.Sleep(30 * time.Second); err != nil {
			e.p("stubborn caught %s", pyErr(err))
			e.soon(func() { tick("stubborn", 0) })
		}
		if err := co.Sleep(0); err != nil {
			return nil, err
		}
		e.p("stubborn returns")
		return "stubborn result", nil
	}
	failing := func(co *loop.Co) (any, error) {
		if err := co.Sleep(0); err != nil {
			return nil, err
		}
		e.p("failing raises")
		return nil, errors.New("ValueError: inner failure")
	}
	report := func(r any, err error) {
		if err != nil {
			e.p("main: wait_for raised %s", pyErr(err))
		} else {
			e.p("main: returned %v", r)
		}
	}

	e.run(func(co *loop.Co) (any, error) {
		e.p("== in time")
		r, err := co.WaitFor(loop.Coroutine(fast), 5*time.Second)
		if err != nil {
			return nil, err
		}
		e.p("main: %v", r)

		e.p("== timeout")
		report(co.WaitFor(slow("slow1"), 50*time.Millisecond))

		e.p("== inner swallows the cancellation")
		report(co.WaitFor(loop.Coroutine(stubborn), 50*time.Millisecond))

		e.p("== inner fails in time")
		report(co.WaitFor(loop.Coroutine(failing), 5*time.Second))

		e.p("== timeout 0, not started")
		report(co.WaitFor(slow("slow0"), 0))

		e.p("== timeout 0, already done")
		f := l.CreateFuture()
		e.ok(f.SetResult("done already"))
		r, err = co.WaitFor(f, 0)
		if err != nil {
			return nil, err
		}
		e.p("main: %v", r)

		e.p("== timeout on a task")
		t := e.task(slow("slow2"))
		if err := co.Sleep(0); err != nil {
			return nil, err
		}
		if r, err := co.WaitFor(t, 50*time.Millisecond); err != nil {
			e.p("main: wait_for raised %s; task cancelled=%s", pyErr(err), pyBool(t.Cancelled()))
		} else {
			e.p("main: returned %v", r)
		}
		for range 3 {
			if err := co.Sleep(0); err != nil {
				return nil, err
			}
		}
		return nil, nil
	})
	e.ok(l.Close())
}

// --- wait_for_cancelled.py

func twinWaitForCancelled(e *twinEnv) {
	var w *loop.Task
	lingering := func(name string, cancelOuterAt int) loop.Coroutine {
		return func(co *loop.Co) (any, error) {
			e.p("%s sleeping", name)
			err := co.Sleep(30 * time.Second)
			if err == nil {
				return "never", nil
			}
			e.p("%s caught %s, cleaning up", name, pyErr(err))
			for i := 0; i < 4; i++ {
				if i == cancelOuterAt {
					e.p("%s cancels the waiter -> %s", name, pyBool(w.Cancel("outer")))
				}
				e.p("%s cleanup%d", name, i)
				if err := co.Sleep(0); err != nil {
					return nil, err
				}
			}
			e.p("%s re-raises", name)
			return nil, err
		}
	}
	waiter := func(name string, timeout time.Duration, cancelOuterAt int) loop.Coroutine {
		return func(co *loop.Co) (any, error) {
			r, err := co.WaitFor(lingering(name, cancelOuterAt), timeout)
			if err != nil {
				e.p("waiter: wait_for raised %s", pyErr(err))
				return nil, err
			}
			e.p("waiter: returned %v", r)
			return nil, nil
		}
	}
	ticks := func(co *loop.Co) error {
		for i := 0; i < 6; i++ {
			e.p("main tick%d", i)
			if err := co.Sleep(0); err != nil {
				return err
			}
		}
		return nil
	}
	e.run(func(co *loop.Co) (any, error) {
		e.p("== waiter cancelled before the timeout")
		w = e.task(waiter("l1", 5*time.Second, -1))
		for range 2 {
			if err := co.Sleep(0); err != nil {
				return nil, err
			}
		}
		e.p("main: cancel waiter -> %s", pyBool(w.Cancel("outer")))
		if _, err := co.Await(w); err != nil {
			e.p("main: waiter raised %s", pyErr(err))
		}
		if err := ticks(co); err != nil {
			return nil, err
		}

		e.p("== waiter cancelled while the timed-out task cleans up")
		w = e.task(waiter("l2", 50*time.Millisecond, 1))
		if _, err := co.Await(w); err != nil {
			e.p("main: waiter raised %s", pyErr(err))
		}
		return nil, ticks(co)
	})
	e.ok(e.l.Close())
}

// --- run_errors.py

func twinRunErrors(e *twinEnv) {
	l := e.l
	perr := func(where string, err error) { e.p("%s: %s", where, pyErr(err)) }

	e.p("== stopped before the future completed")
	t := e.task(e.worker("task1", 4, "returns"))
	e.soon(e.say("soon before stop"))
	e.soon(l.Stop)
	e.soon(e.say("soon after stop"))
	if _, err := l.RunUntilComplete(t); err != nil {
		perr("run_until_complete", err)
	}
	e.p("task1 done=%s", pyBool(t.Done()))
	r, err := l.RunUntilComplete(t)
	e.ok(err)
	e.p("run_until_complete again: %v result", r)
	r, err = l.RunUntilComplete(t)
	e.ok(err)
	e.p("run_until_complete on a done task: %v result", r)
	f := l.CreateFuture()
	e.soon(e.say("soon, then stop"))
	e.soon(l.Stop)
	if _, err := l.RunUntilComplete(f); err != nil {
		perr("run_until_complete(future)", err)
	}
	f.Cancel()

	e.p("== re-entrant run")
	r = e.run(func(co *loop.Co) (any, error) {
		if err := l.RunForever(); err != nil {
			perr("run_forever inside the loop", err)
		}
		inner := l.CreateFuture()
		if _, err := l.RunUntilComplete(inner); err != nil {
			perr("run_until_complete inside the loop", err)
		}
		inner.Cancel()
		e.p("is_running=%s", pyBool(l.IsRunning()))
		return "reenter result", nil
	})
	e.p("%v", r)
	e.p("is_running=%s", pyBool(l.IsRunning()))
	e.soon(func() {
		if err := l.RunForever(); err != nil {
			perr("run_forever in a callback", err)
		}
		l.Stop()
	})
	e.ok(l.RunForever())

	e.p("== close while running")
	e.soon(func() {
		if err := l.Close(); err != nil {
			perr("close in a callback", err)
		}
		e.p("is_closed=%s", pyBool(l.IsClosed()))
		l.Stop()
	})
	e.ok(l.RunForever())
	r = e.run(func(co *loop.Co) (any, error) {
		if err := l.Close(); err != nil {
			perr("close in a task", err)
		}
		return "still open", nil
	})
	e.p("%v", r)

	e.p("== closed loop")
	pending := l.CreateFuture()
	e.ok(l.Close())
	e.p("is_closed=%s", pyBool(l.IsClosed()))
	e.ok(l.Close())
	e.p("close again: no error")
	if _, err := l.CallSoon(e.say("x")); err != nil {
		perr("call_soon", err)
	}
	if _, err := l.CallLater(0, e.say("x")); err != nil {
		perr("call_later", err)
	}
	if _, err := l.CallAt(l.Time()+time.Second, e.say("x")); err != nil {
		perr("call_at", err)
	}
	if _, err := l.CreateTask(func(co *loop.Co) (any, error) {
		e.p("never runs")
		return nil, nil
	}); err != nil {
		perr("create_task", err)
	}
	if err := l.RunForever(); err != nil {
		perr("run_forever", err)
	}
	if _, err := l.RunUntilComplete(pending); err != nil {
		perr("run_until_complete", err)
	}
	l.Stop()
	e.p("stop on a closed loop: no error")
}

package loop_test

// Exception handling, debug mode, the deterministic reports (never awaited, destroyed pending,
// never retrieved), goroutine checks and the lifecycle sentinels.

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loopbook/loopbook/loop"
)

// dbgLoop returns a loop whose reports are collected, and closes it at the end of the test.
func dbgLoop(t *testing.T, opts loop.Options) (*loop.Loop, *[]loop.ExceptionContext) {
	t.Helper()
	l, err := loop.New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	var got []loop.ExceptionContext
	l.SetExceptionHandler(func(hl *loop.Loop, c loop.ExceptionContext) {
		if hl != l {
			t.Errorf("the handler got loop %p, want %p", hl, l)
		}
		got = append(got, c)
	})
	t.Cleanup(func() { l.Close() })
	return l, &got
}

// dbgSpin runs the loop for a few iterations, so that work scheduled before has run.
func dbgSpin(t *testing.T, l *loop.Loop, iterations int) {
	t.Helper()
	if _, err := skRun(t, l, func(co *loop.Co) (any, error) {
		for range iterations {
			if err := co.Sleep(0); err != nil {
				return nil, err
			}
		}
		return nil, nil
	}); err != nil {
		t.Fatalf("spinning the loop: %v", err)
	}
}

func dbgMessages(cs []loop.ExceptionContext) []string {
	var m []string
	for _, c := range cs {
		m = append(m, c.Message)
	}
	return m
}

var errDbgSentinel = errors.New("sentinel failure")

// dbgPanicky panics with v; the reported stack must show it.
func dbgPanicky(v any) { panic(v) }

func TestExceptionHandlerGetsPanics(t *testing.T) {
	cases := []struct {
		name  string
		setup func(t *testing.T, l *loop.Loop) (subject any)
		// message is the report's text; handle/task say what the context must point at.
		message   string
		value     any   // the panic value
		is        error // errors.Is must see it through the PanicError, if set
		wantTask  bool
		retrieved bool // the task's error is read before Report
	}{
		{
			name: "callback panics with a string",
			setup: func(t *testing.T, l *loop.Loop) any {
				h, _ := l.CallSoon(func() { dbgPanicky("boom") }, loop.WithName("bad"))
				return h
			},
			message: "Exception in callback <Handle bad()>", value: "boom",
		},
		{
			name: "callback panics with an error",
			setup: func(t *testing.T, l *loop.Loop) any {
				h, _ := l.CallSoon(func() { dbgPanicky(errDbgSentinel) }, loop.WithName("bad error"))
				return h
			},
			message: "Exception in callback <Handle bad error()>", value: errDbgSentinel, is: errDbgSentinel,
		},
		{
			name: "timer panics",
			setup: func(t *testing.T, l *loop.Loop) any {
				h, _ := l.CallLater(0, func() { dbgPanicky(42) }, loop.WithName("bad timer"))
				return &h.Handle
			},
			message: "Exception in callback <Handle bad timer()>", value: 42,
		},
		{
			name: "task panics and nobody reads its error",
			setup: func(t *testing.T, l *loop.Loop) any {
				tk, _ := l.CreateTask(func(co *loop.Co) (any, error) {
					co.Sleep(0)
					dbgPanicky("task boom")
					return nil, nil
				}, loop.WithName("bad task"))
				return tk
			},
			message: "Task exception was never retrieved", value: "task boom", wantTask: true,
		},
		{
			name: "task panics with an error and it is read",
			setup: func(t *testing.T, l *loop.Loop) any {
				tk, _ := l.CreateTask(func(co *loop.Co) (any, error) { dbgPanicky(errDbgSentinel); return nil, nil })
				return tk
			},
			value: errDbgSentinel, is: errDbgSentinel, wantTask: true, retrieved: true,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l, got := dbgLoop(t, loop.Options{})
			subject := tc.setup(t, l)
			after := 0
			l.CallSoon(func() { l.CallSoon(func() { after++ }) })
			dbgSpin(t, l, 5)
			if after != 1 {
				t.Errorf("the loop did not go on after the panic")
			}
			if tk, ok := subject.(*loop.Task); ok {
				if !tk.Done() {
					t.Fatalf("the panicking task is not done: %v", tk)
				}
				if tc.retrieved {
					err := tk.Exception()
					var pe *loop.PanicError
					if !errors.As(err, &pe) || pe.Value != tc.value {
						t.Errorf("the task's error %#v is not a *PanicError of %v", err, tc.value)
					}
					if tc.is != nil && !errors.Is(err, tc.is) {
						t.Errorf("errors.Is does not see %v through %v", tc.is, err)
					}
					if pe != nil && !strings.Contains(string(pe.Stack), "loop_test.dbgPanicky") {
						t.Errorf("the task's panic stack does not show the panicking function:\n%s", pe.Stack)
					}
				}
			}
			l.Report(0)
			if tc.retrieved {
				if len(*got) != 0 {
					t.Errorf("reports %q after the error was read", dbgMessages(*got))
				}
				return
			}
			if len(*got) != 1 {
				t.Fatalf("reports %q, want one", dbgMessages(*got))
			}
			c := (*got)[0]
			if c.Message != tc.message {
				t.Errorf("message %q, want %q", c.Message, tc.message)
			}
			var pe *loop.PanicError
			if !errors.As(c.Err, &pe) || pe.Value != tc.value || len(pe.Stack) == 0 {
				t.Errorf("Err %#v is not a *PanicError of %v with a stack", c.Err, tc.value)
			} else if !strings.Contains(string(pe.Stack), "loop_test.dbgPanicky") {
				t.Errorf("the stack does not show the panicking code:\n%s", pe.Stack)
			}
			if tc.is != nil && !errors.Is(c.Err, tc.is) {
				t.Errorf("errors.Is does not see %v through %v", tc.is, c.Err)
			}
			if tc.wantTask {
				if c.Task != subject || c.Future == nil || c.Handle != nil {
					t.Errorf("context points at task %v future %v handle %v", c.Task, c.Future, c.Handle)
				}
			} else if c.Handle != subject {
				t.Errorf("context handle %v, want %v", c.Handle, subject)
			}
		})
	}
}

// dbgDoneBoom is a done callback that panics.
func dbgDoneBoom(*loop.Future) { dbgPanicky("done boom") }

// TestDoneCallbackPanics: a done callback runs from a handle of the loop's own (no closure, see
// Future.schedule); one that panics is reported as any callback is, under its function's name,
// and the future's next done callback and the loop go on.
func TestDoneCallbackPanics(t *testing.T) {
	l, got := dbgLoop(t, loop.Options{})
	fut := l.CreateFuture()
	var seen []string
	fut.AddDoneCallback(dbgDoneBoom)
	fut.AddDoneCallback(func(f *loop.Future) {
		v, err := f.Result()
		seen = append(seen, fmt.Sprint(v, err))
	})
	fut.SetResult(7)
	dbgSpin(t, l, 3)
	if !slices.Equal(seen, []string{"7 <nil>"}) {
		t.Errorf("the second done callback saw %q, want [\"7 <nil>\"]", seen)
	}
	if len(*got) != 1 {
		t.Fatalf("reports %q, want one", dbgMessages(*got))
	}
	c := (*got)[0]
	if want := "Exception in callback <Handle loop_test.dbgDoneBoom()>"; c.Message != want {
		t.Errorf("message %q, want %q", c.Message, want)
	}
	var pe *loop.PanicError
	if !errors.As(c.Err, &pe) || pe.Value != "done boom" {
		t.Errorf("Err %#v is not a *PanicError of \"done boom\"", c.Err)
	}
	if c.Handle == nil || c.Handle.Label() != "loop_test.dbgDoneBoom" {
		t.Errorf("context handle %v, want the done callback's", c.Handle)
	}
}

func TestDefaultExceptionHandlerLogs(t *testing.T) {
	cases := []struct {
		name  string
		setup func(l *loop.Loop)
		want  []string
	}{
		{
			name:  "callback panic",
			setup: func(l *loop.Loop) { l.CallSoon(func() { panic("boom") }, loop.WithName("bad")) },
			want:  []string{"Exception in callback <Handle bad()>", "panic: boom", "debug_test.go"},
		},
		{
			name: "nil handler restores the default",
			setup: func(l *loop.Loop) {
				l.SetExceptionHandler(func(*loop.Loop, loop.ExceptionContext) {})
				l.SetExceptionHandler(nil)
				l.CallSoon(func() { panic("again") }, loop.WithName("bad2"))
			},
			want: []string{"Exception in callback <Handle bad2()>", "panic: again"},
		},
		{
			name: "a broken handler does not take the loop down",
			setup: func(l *loop.Loop) {
				l.SetExceptionHandler(func(*loop.Loop, loop.ExceptionContext) { panic("handler broke") })
				l.CallSoon(func() { panic("first") }, loop.WithName("bad3"))
			},
			want: []string{"Unhandled error in exception handler: handler broke", "Exception in callback <Handle bad3()>"},
		},
		{
			name: "CallExceptionHandler",
			setup: func(l *loop.Loop) {
				l.CallSoon(func() { l.CallExceptionHandler(loop.ExceptionContext{Message: "custom report", Err: errDbgSentinel}) })
			},
			want: []string{"custom report\nsentinel failure"},
		},
		{
			name: "a task's error never retrieved",
			setup: func(l *loop.Loop) {
				l.CreateTask(func(co *loop.Co) (any, error) { return nil, errDbgSentinel }, loop.WithName("quiet failure"))
				l.CallSoon(func() { l.CallSoon(func() { l.Report(0) }) })
			},
			want: []string{"Task exception was never retrieved\ntask: <Task finished exception=sentinel failure name='quiet failure'>\nsentinel failure"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var log bytes.Buffer
			l, err := loop.New(loop.Options{Log: &log})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			tc.setup(l)
			dbgSpin(t, l, 3)
			for _, w := range tc.want {
				if !strings.Contains(log.String(), w) {
					t.Errorf("the log does not contain %q:\n%s", w, log.String())
				}
			}
		})
	}
}

var dbgSlowRe = regexp.MustCompile(`Executing <Handle (.+?)\(\)( created at (\S+):(\d+))?> took (\d+\.\d{3}) seconds`)

func TestDebugSlowCallback(t *testing.T) {
	cases := []struct {
		name      string
		debug     bool // Options.Debug
		setDebug  bool // SetDebug(true) after New
		threshold time.Duration
		task      bool // the slow code is a task's step, not a callback
		wantName  string
		wantSite  bool
	}{
		{name: "slow callback in debug mode", debug: true, threshold: 10 * time.Millisecond, wantName: "slowpoke", wantSite: true},
		{name: "SetDebug turns it on", setDebug: true, threshold: 10 * time.Millisecond, wantName: "slowpoke", wantSite: true},
		{name: "slow task step", debug: true, threshold: 10 * time.Millisecond, task: true, wantName: "slow task"},
		{name: "debug off", threshold: 10 * time.Millisecond},
		{name: "under the threshold", debug: true, threshold: time.Hour},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var log bytes.Buffer
			l, err := loop.New(loop.Options{Debug: tc.debug, Log: &log})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			if tc.setDebug {
				l.SetDebug(true)
			}
			if got := l.Debug(); got != (tc.debug || tc.setDebug) {
				t.Errorf("Debug() = %v", got)
			}
			l.SetSlowCallbackDuration(tc.threshold)
			if got := l.SlowCallbackDuration(); got != tc.threshold {
				t.Errorf("SlowCallbackDuration() = %v, want %v", got, tc.threshold)
			}
			slow := func() { time.Sleep(30 * time.Millisecond) }
			if tc.task {
				if _, err := l.CreateTask(func(co *loop.Co) (any, error) { slow(); return nil, nil }, loop.WithName("slow task")); err != nil {
					t.Fatal(err)
				}
			} else {
				if _, err := l.CallSoon(slow, loop.WithName("slowpoke")); err != nil {
					t.Fatal(err)
				}
			}
			l.CallSoon(func() {}, loop.WithName("quick"))
			dbgSpin(t, l, 2)
			ms := dbgSlowRe.FindAllStringSubmatch(log.String(), -1)
			if tc.wantName == "" {
				if len(ms) != 0 || log.Len() != 0 {
					t.Errorf("unexpected log:\n%s", log.String())
				}
				return
			}
			// Only the 30 ms callback can be reported: the others do nothing.
			var found []string
			for _, m := range ms {
				found = append(found, m[1])
				if m[1] != tc.wantName {
					continue
				}
				if secs, _ := strconv.ParseFloat(m[5], 64); secs < 0.030 {
					t.Errorf("reported %s seconds for a 30 ms callback", m[5])
				}
				if tc.wantSite && !strings.HasSuffix(m[3], "debug_test.go") {
					t.Errorf("creation site %q, want this file", m[3])
				}
			}
			if !slices.Contains(found, tc.wantName) {
				t.Errorf("no slow-callback report for %s in:\n%s", tc.wantName, log.String())
			}
		})
	}
}

func dbgNeverRun(co *loop.Co) (any, error) { return "ran", nil }

func TestCoroNeverAwaited(t *testing.T) {
	cases := []struct {
		name  string
		debug bool
		run   func(t *testing.T, l *loop.Loop) // creates coroutine objects and does things with them
		// reports expected from Report(1), then from Close.
		fromReport, fromClose []string
	}{
		{
			name: "reported per owner, once",
			run: func(t *testing.T, l *loop.Loop) {
				l.SetOwner(1)
				l.Coro(dbgNeverRun, loop.WithName("mine"))
				l.SetOwner(2)
				l.Coro(dbgNeverRun)
				l.SetOwner(0)
			},
			fromReport: []string{"RuntimeWarning: coroutine 'mine' was never awaited"},
			fromClose:  []string{"RuntimeWarning: coroutine 'loop_test.dbgNeverRun' was never awaited"},
		},
		{
			name:  "debug mode says where it was created",
			debug: true,
			run: func(t *testing.T, l *loop.Loop) {
				l.SetOwner(1)
				l.Coro(dbgNeverRun, loop.WithName("mine"))
			},
			fromReport: []string{"RuntimeWarning: coroutine 'mine' was never awaited\nCoroutine created at "},
		},
		{
			name: "awaited ones are not reported",
			run: func(t *testing.T, l *loop.Loop) {
				l.SetOwner(1)
				a, b, c := l.Coro(dbgNeverRun), l.Coro(dbgNeverRun), l.Coro(dbgNeverRun)
				r, err := l.RunUntilComplete(a)
				if r != "ran" || err != nil {
					t.Errorf("RunUntilComplete(coro) = %v, %v", r, err)
				}
				if _, err := l.CreateTask(b); err != nil {
					t.Error(err)
				}
				if _, err := skRun(t, l, func(co *loop.Co) (any, error) { return co.Await(c) }); err != nil {
					t.Error(err)
				}
				if _, err := l.RunUntilComplete(a); err == nil || !strings.Contains(err.Error(), "cannot reuse already awaited coroutine") {
					t.Errorf("awaiting a coroutine twice: %v", err)
				}
			},
		},
		{
			name: "RunUntilComplete on a closed loop",
			run: func(t *testing.T, l *loop.Loop) {
				l.Close()
				c := l.Coro(dbgNeverRun, loop.WithName("too late"))
				if _, err := l.RunUntilComplete(c); !errors.Is(err, loop.ErrClosed) {
					t.Errorf("RunUntilComplete = %v", err)
				}
			},
			// Reported by RunUntilComplete itself, as asyncio does.
			fromReport: []string{"RuntimeWarning: coroutine 'too late' was never awaited"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l, got := dbgLoop(t, loop.Options{Debug: tc.debug})
			tc.run(t, l)
			if !l.IsClosed() {
				l.Report(1)
				l.Report(1)
			}
			n := len(*got)
			if n != len(tc.fromReport) {
				t.Fatalf("Report(1) gave %q, want %q", dbgMessages(*got), tc.fromReport)
			}
			l.Close()
			rest := (*got)[n:]
			if len(rest) != len(tc.fromClose) {
				t.Fatalf("Close gave %q, want %q", dbgMessages(rest), tc.fromClose)
			}
			for i, want := range append(slices.Clone(tc.fromReport), tc.fromClose...) {
				if m := (*got)[i].Message; !strings.HasPrefix(m, want) {
					t.Errorf("report %d: %q, want %q", i, m, want)
				}
				if tc.debug && !strings.Contains((*got)[i].Message, "debug_test.go:") {
					t.Errorf("report %d has no creation site: %q", i, (*got)[i].Message)
				}
			}
		})
	}
}

func TestTaskPendingAtClose(t *testing.T) {
	type trace struct {
		started, unwound bool
		errs             []error
	}
	cases := []struct {
		name  string
		start func(l *loop.Loop, tr *trace) []*loop.Task
		run   bool // run the loop until the tasks are suspended
	}{
		{
			name: "awaiting a future",
			start: func(l *loop.Loop, tr *trace) []*loop.Task {
				f := l.CreateFuture(loop.WithName("never"))
				tk, _ := l.CreateTask(func(co *loop.Co) (any, error) {
					tr.started = true
					defer func() { tr.unwound = true }()
					_, err := co.Await(f)
					tr.errs = append(tr.errs, err)
					return nil, err
				}, loop.WithName("waiter"))
				return []*loop.Task{tk}
			},
			run: true,
		},
		{
			name: "sleeping for an hour",
			start: func(l *loop.Loop, tr *trace) []*loop.Task {
				tk, _ := l.CreateTask(func(co *loop.Co) (any, error) {
					tr.started = true
					defer func() { tr.unwound = true }()
					err := co.Sleep(time.Hour)
					tr.errs = append(tr.errs, err)
					return nil, err
				}, loop.WithName("sleeper"))
				return []*loop.Task{tk}
			},
			run: true,
		},
		{
			name: "ignores the cancellation and awaits again",
			start: func(l *loop.Loop, tr *trace) []*loop.Task {
				tk, _ := l.CreateTask(func(co *loop.Co) (any, error) {
					tr.started = true
					defer func() { tr.unwound = true }()
					for range 3 {
						_, err := co.Await(l.CreateFuture())
						tr.errs = append(tr.errs, err)
					}
					return nil, nil
				}, loop.WithName("stubborn"))
				return []*loop.Task{tk}
			},
			run: true,
		},
		{
			name: "a task awaiting another",
			start: func(l *loop.Loop, tr *trace) []*loop.Task {
				inner, _ := l.CreateTask(func(co *loop.Co) (any, error) {
					return co.Await(l.CreateFuture())
				}, loop.WithName("inner"))
				outer, _ := l.CreateTask(func(co *loop.Co) (any, error) {
					tr.started = true
					defer func() { tr.unwound = true }()
					_, err := co.Await(inner)
					tr.errs = append(tr.errs, err)
					return nil, err
				}, loop.WithName("outer"))
				return []*loop.Task{inner, outer}
			},
			run: true,
		},
		{
			name: "never started",
			start: func(l *loop.Loop, tr *trace) []*loop.Task {
				tk, _ := l.CreateTask(func(co *loop.Co) (any, error) {
					tr.started = true
					return nil, nil
				}, loop.WithName("unstarted"))
				return []*loop.Task{tk}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l, got := dbgLoop(t, loop.Options{})
			var tr trace
			tasks := tc.start(l, &tr)
			if tc.run {
				dbgSpin(t, l, 3)
				if !tr.started {
					t.Fatal("the task did not start")
				}
			}
			for _, tk := range tasks {
				if tk.Done() {
					t.Fatalf("%v is done before Close", tk)
				}
			}
			if err := l.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if len(*got) != len(tasks) {
				t.Fatalf("Close reported %q, want one report per pending task", dbgMessages(*got))
			}
			for i, c := range *got {
				if c.Message != "Task was destroyed but it is pending!" || c.Task != tasks[i] {
					t.Errorf("report %d: %q about %v, want the pending %v", i, c.Message, c.Task, tasks[i])
				}
			}
			if !tc.run {
				if tr.started {
					t.Errorf("a task that never started ran its coroutine at Close")
				}
				return
			}
			if !tr.unwound {
				t.Errorf("the coroutine was not unwound: its deferred code did not run")
			}
			if len(tr.errs) == 0 {
				t.Errorf("the pending Await did not return")
			}
			for i, err := range tr.errs {
				if !errors.Is(err, loop.ErrCancelled) {
					t.Errorf("Await %d at Close returned %v, want a cancellation", i, err)
				}
			}
		})
	}
}

func TestTaskExceptionNeverRetrieved(t *testing.T) {
	failing := func(co *loop.Co) (any, error) {
		if err := co.Sleep(0); err != nil {
			return nil, err
		}
		return nil, errDbgSentinel
	}
	cases := []struct {
		name   string
		run    func(l *loop.Loop, co *loop.Co) (*loop.Future, error) // returns what failed
		report loop.Owner
		want   string // "" for no report
	}{
		{
			name: "nobody reads it",
			run: func(l *loop.Loop, co *loop.Co) (*loop.Future, error) {
				tk, err := l.CreateTask(failing, loop.WithName("lonely"))
				if err != nil {
					return nil, err
				}
				for !tk.Done() {
					co.Sleep(0)
				}
				return &tk.Future, nil
			},
			want: "Task exception was never retrieved",
		},
		{
			name: "awaited by another task",
			run: func(l *loop.Loop, co *loop.Co) (*loop.Future, error) {
				tk, _ := l.CreateTask(failing)
				if _, err := co.Await(tk); !errors.Is(err, errDbgSentinel) {
					return nil, fmt.Errorf("Await = %v", err)
				}
				return &tk.Future, nil
			},
		},
		{
			name: "Exception read",
			run: func(l *loop.Loop, co *loop.Co) (*loop.Future, error) {
				tk, _ := l.CreateTask(failing)
				for !tk.Done() {
					co.Sleep(0)
				}
				if err := tk.Exception(); !errors.Is(err, errDbgSentinel) {
					return nil, fmt.Errorf("Exception = %v", err)
				}
				return &tk.Future, nil
			},
		},
		{
			name: "gathered",
			run: func(l *loop.Loop, co *loop.Co) (*loop.Future, error) {
				tk, _ := l.CreateTask(failing)
				g, err := l.Gather(tk)
				if err != nil {
					return nil, err
				}
				if _, err := co.Await(g); !errors.Is(err, errDbgSentinel) {
					return nil, fmt.Errorf("gather = %v", err)
				}
				return &tk.Future, nil
			},
		},
		{
			name: "cancelled, not failed",
			run: func(l *loop.Loop, co *loop.Co) (*loop.Future, error) {
				tk, _ := l.CreateTask(failing)
				tk.Cancel()
				for !tk.Done() {
					co.Sleep(0)
				}
				return &tk.Future, nil
			},
		},
		{
			name: "another owner's report",
			run: func(l *loop.Loop, co *loop.Co) (*loop.Future, error) {
				tk, _ := l.CreateTask(failing, loop.WithOwner(5))
				for !tk.Done() {
					co.Sleep(0)
				}
				return &tk.Future, nil
			},
			report: 6,
		},
		{
			name: "its owner's report",
			run: func(l *loop.Loop, co *loop.Co) (*loop.Future, error) {
				tk, _ := l.CreateTask(failing, loop.WithOwner(5))
				for !tk.Done() {
					co.Sleep(0)
				}
				return &tk.Future, nil
			},
			report: 5,
			want:   "Task exception was never retrieved",
		},
		{
			name: "a plain future",
			run: func(l *loop.Loop, co *loop.Co) (*loop.Future, error) {
				f := l.CreateFuture()
				f.SetException(errDbgSentinel)
				return f, nil
			},
			want: "Future exception was never retrieved",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l, got := dbgLoop(t, loop.Options{})
			var failed *loop.Future
			if _, err := skRun(t, l, func(co *loop.Co) (any, error) {
				var err error
				failed, err = tc.run(l, co)
				return nil, err
			}); err != nil {
				t.Fatal(err)
			}
			l.Report(tc.report)
			l.Report(tc.report)
			if tc.want == "" {
				if len(*got) != 0 {
					t.Errorf("reports %q, want none", dbgMessages(*got))
				}
				return
			}
			if len(*got) != 1 {
				t.Fatalf("reports %q, want exactly one", dbgMessages(*got))
			}
			c := (*got)[0]
			if c.Message != tc.want || c.Future != failed || !errors.Is(c.Err, errDbgSentinel) {
				t.Errorf("report %q about %v with %v; want %q about %v", c.Message, c.Future, c.Err, tc.want, failed)
			}
		})
	}
}

// dbgCall is a loop method call to try.
type dbgCall struct {
	name string
	call func(l *loop.Loop) error
}

// dbgMisuse lists loop methods that only the loop's goroutine may call.
func dbgMisuse(fd int) []dbgCall {
	return []dbgCall{
		{"CallSoon", func(l *loop.Loop) error { _, err := l.CallSoon(func() {}); return err }},
		{"CallLater", func(l *loop.Loop) error { _, err := l.CallLater(time.Hour, func() {}); return err }},
		{"CallAt", func(l *loop.Loop) error { _, err := l.CallAt(l.Time()+time.Hour, func() {}); return err }},
		{"CreateTask", func(l *loop.Loop) error {
			_, err := l.CreateTask(func(co *loop.Co) (any, error) { return nil, nil })
			return err
		}},
		{"AddReader", func(l *loop.Loop) error { _, err := l.AddReader(fd, func() {}); return err }},
		{"AddWriter", func(l *loop.Loop) error { _, err := l.AddWriter(fd, func() {}); return err }},
		{"RunInExecutor", func(l *loop.Loop) error {
			_, err := l.RunInExecutor(func() (any, error) { return nil, nil })
			return err
		}},
		{"Gather", func(l *loop.Loop) error { _, err := l.Gather(); return err }},
	}
}

func TestDebugWrongGoroutine(t *testing.T) {
	c, _ := skPair(t)
	fd := c.Fileno()
	misuse := dbgMisuse(fd)
	l, got := dbgLoop(t, loop.Options{Debug: true})
	wrong := map[string]error{}
	var extra []error // RunForever and RunUntilComplete from elsewhere
	fromCallback := map[string]error{}
	fromFirstStep := map[string]error{}
	fromLaterStep := map[string]error{}
	cleanup := func() { l.RemoveReader(fd); l.RemoveWriter(fd) }
	var before loop.Snapshot
	l.CallSoon(func() {
		before = l.Snapshot()
		go func() {
			for _, m := range misuse {
				wrong[m.name] = m.call(l)
			}
			extra = append(extra, l.RunForever())
			_, err := l.RunUntilComplete(func(co *loop.Co) (any, error) { return nil, nil })
			extra = append(extra, err)
			// Only the thread-safe entry point works from here.
			if _, err := l.CallSoonThreadSafe(func() {
				after := l.Snapshot()
				if len(after.Ready) != len(before.Ready) || len(after.Timers) != len(before.Timers) ||
					len(after.Watchers) != len(before.Watchers) || len(after.Tasks) != len(before.Tasks) {
					t.Errorf("refused calls changed the loop: before %+v, after %+v", before, after)
				}
				for _, m := range misuse {
					fromCallback[m.name] = m.call(l)
					cleanup()
				}
				l.CreateTask(func(co *loop.Co) (any, error) {
					for _, m := range misuse {
						fromFirstStep[m.name] = m.call(l)
						cleanup()
					}
					co.Sleep(0)
					for _, m := range misuse {
						fromLaterStep[m.name] = m.call(l)
						cleanup()
					}
					l.Stop()
					return nil, nil
				})
			}); err != nil {
				t.Errorf("CallSoonThreadSafe: %v", err)
			}
		}()
	})
	guard, _ := l.CallLater(skGuard, func() { t.Error("guard"); l.Stop() })
	if err := l.RunForever(); err != nil {
		t.Fatal(err)
	}
	guard.Cancel()
	for _, m := range misuse {
		if err := wrong[m.name]; !errors.Is(err, loop.ErrWrongGoroutine) {
			t.Errorf("%s from another goroutine = %v, want ErrWrongGoroutine", m.name, err)
		}
		if err := fromCallback[m.name]; err != nil {
			t.Errorf("%s from a callback = %v", m.name, err)
		}
		if err := fromFirstStep[m.name]; err != nil {
			t.Errorf("%s from a task's first step = %v", m.name, err)
		}
		if err := fromLaterStep[m.name]; err != nil {
			t.Errorf("%s from a task's later step = %v", m.name, err)
		}
	}
	for i, err := range extra {
		if !errors.Is(err, loop.ErrWrongGoroutine) {
			t.Errorf("run call %d from another goroutine = %v, want ErrWrongGoroutine", i, err)
		}
	}
	if len(*got) != 0 {
		t.Errorf("reports: %q", dbgMessages(*got))
	}
}

func TestCallSoonThreadSafe(t *testing.T) {
	cases := []struct {
		name              string
		debug             bool
		goroutines, calls int
	}{
		{"one goroutine", false, 1, 2000},
		{"many goroutines", false, 16, 500},
		{"many goroutines, debug mode", true, 16, 500},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l, got := dbgLoop(t, loop.Options{Debug: tc.debug})
			total := tc.goroutines * tc.calls
			runs := make([][]int, tc.goroutines) // runs[g] lists the calls of g, in the order they ran
			ran := 0
			var wg sync.WaitGroup
			start := make(chan struct{})
			for g := range tc.goroutines {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					for i := range tc.calls {
						_, err := l.CallSoonThreadSafe(func() {
							runs[g] = append(runs[g], i)
							if ran++; ran == total {
								l.Stop()
							}
						})
						if err != nil {
							t.Errorf("CallSoonThreadSafe: %v", err)
							return
						}
					}
				}()
			}
			// Half the goroutines' calls may land before the loop runs, the rest while it polls.
			l.CallSoon(func() { close(start) })
			guard, _ := l.CallLater(skGuard, func() { t.Errorf("only %d of %d calls ran", ran, total); l.Stop() })
			if err := l.RunForever(); err != nil {
				t.Fatal(err)
			}
			guard.Cancel()
			wg.Wait()
			dbgSpin(t, l, 2) // nothing more may arrive
			if ran != total {
				t.Errorf("%d callbacks ran, want %d", ran, total)
			}
			for g, r := range runs {
				want := make([]int, tc.calls)
				for i := range want {
					want[i] = i
				}
				if !slices.Equal(r, want) {
					t.Errorf("goroutine %d: its %d calls ran %d times, or out of order", g, tc.calls, len(r))
				}
			}
			if len(*got) != 0 {
				t.Errorf("reports: %q", dbgMessages(*got))
			}
		})
	}
}

func TestLifecycleSentinels(t *testing.T) {
	t.Run("closed loop", func(t *testing.T) {
		c, _ := skPair(t)
		l, _ := dbgLoop(t, loop.Options{})
		pending := l.CreateFuture()
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		calls := dbgMisuse(c.Fileno())
		calls = append(calls,
			dbgCall{"RunForever", func(l *loop.Loop) error { return l.RunForever() }},
			dbgCall{"RunUntilComplete", func(l *loop.Loop) error { _, err := l.RunUntilComplete(pending); return err }},
			dbgCall{"CallSoonThreadSafe", func(l *loop.Loop) error { _, err := l.CallSoonThreadSafe(func() {}); return err }},
		)
		for _, m := range calls {
			err := m.call(l)
			if !errors.Is(err, loop.ErrClosed) || err.Error() != "Event loop is closed" {
				t.Errorf("%s on a closed loop = %v, want ErrClosed", m.name, err)
			}
		}
		if l.Inspect(func(*loop.Loop) {}) {
			t.Errorf("Inspect on a closed loop returned true")
		}
		for i := range 2 {
			if err := l.Close(); err != nil {
				t.Errorf("Close again (%d) = %v", i, err)
			}
		}
		if !l.IsClosed() || l.IsRunning() {
			t.Errorf("IsClosed %v IsRunning %v", l.IsClosed(), l.IsRunning())
		}
	})

	cases := []struct {
		name string
		// inside runs on the loop (in a callback or a task) and returns the error to check.
		inside func(l *loop.Loop, co *loop.Co) error
		want   error
	}{
		{"RunForever in a callback", nil, loop.ErrAlreadyRunning},
		{"RunForever in a task", func(l *loop.Loop, co *loop.Co) error { return l.RunForever() }, loop.ErrAlreadyRunning},
		{"RunUntilComplete in a task", func(l *loop.Loop, co *loop.Co) error {
			f := l.CreateFuture()
			defer f.Cancel()
			_, err := l.RunUntilComplete(f)
			return err
		}, loop.ErrAlreadyRunning},
		{"Close in a task", func(l *loop.Loop, co *loop.Co) error { return l.Close() }, loop.ErrCloseRunning},
		{"Close in a callback", func(l *loop.Loop, co *loop.Co) error {
			var err error
			done := l.CreateFuture()
			l.CallSoon(func() { err = l.Close(); done.SetResult(nil) })
			co.Await(done)
			return err
		}, loop.ErrCloseRunning},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l, _ := dbgLoop(t, loop.Options{})
			var err error
			if tc.inside == nil {
				l.CallSoon(func() { err = l.RunForever() })
				dbgSpin(t, l, 2)
			} else if _, rerr := skRun(t, l, func(co *loop.Co) (any, error) { err = tc.inside(l, co); return nil, nil }); rerr != nil {
				t.Fatal(rerr)
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
			if l.IsClosed() || l.IsRunning() {
				t.Errorf("afterwards: closed %v running %v", l.IsClosed(), l.IsRunning())
			}
			dbgSpin(t, l, 1) // still usable
		})
	}

	t.Run("stopped before the future completed", func(t *testing.T) {
		l, _ := dbgLoop(t, loop.Options{})
		f := l.CreateFuture()
		l.CallSoon(l.Stop)
		if _, err := l.RunUntilComplete(f); !errors.Is(err, loop.ErrStoppedBeforeComplete) {
			t.Fatalf("RunUntilComplete = %v, want ErrStoppedBeforeComplete", err)
		}
		if f.Done() {
			t.Fatal("the future completed")
		}
		l.CallSoon(func() { f.SetResult(42) })
		if r, err := l.RunUntilComplete(f); r != 42 || err != nil {
			t.Errorf("the next run = %v, %v", r, err)
		}
	})
}

func TestRunning(t *testing.T) {
	if l, err := loop.Running(); !errors.Is(err, loop.ErrNoRunningLoop) || l != nil {
		t.Fatalf("Running outside a loop = %v, %v", l, err)
	}
	for _, debug := range []bool{false, true} {
		t.Run(fmt.Sprintf("debug=%v", debug), func(t *testing.T) {
			l, _ := dbgLoop(t, loop.Options{Debug: debug})
			l2, _ := dbgLoop(t, loop.Options{Debug: debug})
			type seen struct {
				l   *loop.Loop
				err error
			}
			at := map[string]seen{}
			record := func(where string) {
				got, err := loop.Running()
				at[where] = seen{got, err}
			}
			other := make(chan seen, 1)
			l.CallSoon(func() {
				record("callback")
				go func() {
					got, err := loop.Running()
					other <- seen{got, err}
				}()
				// A second loop run from inside the first: Running names the innermost one.
				l2.CallSoon(func() { record("nested loop"); l2.Stop() })
				if err := l2.RunForever(); err != nil {
					t.Errorf("nested RunForever: %v", err)
				}
				record("after the nested loop")
			})
			if _, err := skRun(t, l, func(co *loop.Co) (any, error) {
				record("task, first step")
				co.Sleep(0)
				record("task, later step")
				return co.Await(func(co *loop.Co) (any, error) { record("awaited coroutine"); return nil, nil })
			}); err != nil {
				t.Fatal(err)
			}
			// As asyncio's get_running_loop, which coroutines call far more than callbacks do.
			for _, w := range []struct {
				where string
				l     *loop.Loop
			}{
				{"callback", l}, {"nested loop", l2}, {"after the nested loop", l},
				{"task, first step", l}, {"task, later step", l}, {"awaited coroutine", l},
			} {
				t.Run(w.where, func(t *testing.T) {
					if s := at[w.where]; s.l != w.l || s.err != nil {
						t.Errorf("Running in %s = %p, %v; want %p", w.where, s.l, s.err, w.l)
					}
				})
			}
			select {
			case s := <-other:
				if !errors.Is(s.err, loop.ErrNoRunningLoop) {
					t.Errorf("Running on another goroutine = %v, %v", s.l, s.err)
				}
			case <-time.After(skGuard):
				t.Error("the goroutine did not report")
			}
			if got, err := loop.Running(); !errors.Is(err, loop.ErrNoRunningLoop) {
				t.Errorf("Running after the run = %v, %v", got, err)
			}
		})
	}
}

// TestRunningConcurrentLoops: tasks on loops that run at the same time on different goroutines
// each find their own loop, in their first step (before a task's coroutine has identified its
// goroutine) and in later ones, while other goroutines ask too and find none.
func TestRunningConcurrentLoops(t *testing.T) {
	const loops, tasks, steps = 4, 50, 3
	var wrong atomic.Int64
	stopAsking := make(chan struct{})
	var askers sync.WaitGroup
	for range 2 {
		askers.Add(1)
		go func() {
			defer askers.Done()
			for {
				select {
				case <-stopAsking:
					return
				default:
				}
				if l, err := loop.Running(); l != nil || err == nil {
					wrong.Add(1)
				}
			}
		}()
	}
	var wg sync.WaitGroup
	for range loops {
		l, _ := dbgLoop(t, loop.Options{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := l.RunUntilComplete(loop.Coroutine(func(co *loop.Co) (any, error) {
				var ts []*loop.Task
				for range tasks {
					tk, err := l.CreateTask(func(co *loop.Co) (any, error) {
						for range steps {
							if got, err := loop.Running(); got != l || err != nil {
								wrong.Add(1)
							}
							if _, ok := l.CallerOwner(); !ok {
								wrong.Add(1)
							}
							if err := co.Sleep(0); err != nil {
								return nil, err
							}
						}
						return nil, nil
					})
					if err != nil {
						return nil, err
					}
					ts = append(ts, tk)
				}
				for _, tk := range ts {
					if _, err := co.Await(tk); err != nil {
						return nil, err
					}
				}
				return nil, nil
			}))
			if err != nil {
				t.Errorf("run: %v", err)
			}
		}()
	}
	wg.Wait()
	close(stopAsking)
	askers.Wait()
	if n := wrong.Load(); n != 0 {
		t.Errorf("%d wrong answers from Running or CallerOwner", n)
	}
}

// The goroutine check answers most calls by comparing goroutine tokens, which the runtime hands
// on to new goroutines once one ends. Goroutines started after the loop's earlier goroutine ended
// (some of them taking over its token) must still be refused while the loop runs elsewhere, and
// the loop's own goroutine and task coroutines accepted.
func TestDebugWrongGoroutineAcrossRuns(t *testing.T) {
	l, got := dbgLoop(t, loop.Options{Debug: true})
	for round := 0; round < 10; round++ {
		ran := make(chan error, 1)
		go func() { // runs the loop once, then ends
			_, err := l.RunUntilComplete(func(co *loop.Co) (any, error) {
				if _, err := l.CallSoon(func() {}); err != nil {
					return nil, err
				}
				return nil, co.Sleep(0)
			})
			ran <- err
		}()
		if err := <-ran; err != nil {
			t.Fatalf("round %d, loop on another goroutine: %v", round, err)
		}
		var accepted atomic.Int32
		_, err := l.RunUntilComplete(func(co *loop.Co) (any, error) {
			if _, err := l.CallSoon(func() {}); err != nil {
				return nil, err
			}
			var wg sync.WaitGroup
			for i := 0; i < 20; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := l.CallSoon(func() {}); !errors.Is(err, loop.ErrWrongGoroutine) {
						accepted.Add(1)
					}
				}()
			}
			wg.Wait() // the loop is held here, so a wrongly accepted call could not race with it
			return nil, co.Sleep(0)
		})
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if n := accepted.Load(); n != 0 {
			t.Fatalf("round %d: %d calls from other goroutines were accepted", round, n)
		}
	}
	if len(*got) != 0 {
		t.Errorf("reports: %q", dbgMessages(*got))
	}
}

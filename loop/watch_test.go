package loop

import (
	"testing"
	"time"
)

// Loop-level tests of AddReader/AddWriter, run on every backend through New(Options{Poller}).

// forEachLoop runs fn as one subtest per backend, on a fresh loop whose exception handler fails
// the test: nothing here should make the loop report anything.
func forEachLoop(t *testing.T, fn func(t *testing.T, l *Loop)) {
	t.Helper()
	for _, name := range Backends() {
		t.Run(name, func(t *testing.T) {
			l, err := New(Options{Poller: name})
			if err != nil {
				t.Fatalf("New(%q): %v", name, err)
			}
			if got := l.poller.name(); got != name {
				t.Fatalf("New(Options{Poller: %q}) uses %q", name, got)
			}
			l.SetExceptionHandler(func(_ *Loop, c ExceptionContext) { t.Errorf("loop reported: %s", c) })
			t.Cleanup(func() {
				if err := l.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			fn(t, l)
		})
	}
}

// runLoopGuarded runs l until a callback stops it, failing the test if nothing has after waitGuard.
func runLoopGuarded(t *testing.T, l *Loop) {
	t.Helper()
	deadline, err := l.CallLater(waitGuard, func() {
		t.Errorf("the loop ran for %v without being stopped", waitGuard)
		l.Stop()
	})
	if err != nil {
		t.Fatalf("CallLater: %v", err)
	}
	if err := l.RunForever(); err != nil {
		t.Fatalf("RunForever: %v", err)
	}
	deadline.Cancel()
}

// watchSettle is how long a test keeps the loop running to see that something does not happen.
const watchSettle = 20 * time.Millisecond

// mustWatch(t)(l.AddReader(...)) returns the handle, failing the test on an error.
func mustWatch(t *testing.T) func(*Handle, error) *Handle {
	return func(h *Handle, err error) *Handle {
		t.Helper()
		if err != nil {
			t.Fatalf("watch: %v", err)
		}
		return h
	}
}

func TestWatchReaderLevelTriggered(t *testing.T) {
	forEachLoop(t, func(t *testing.T, l *Loop) {
		a, b := testUnixPair(t)
		b.write("unread")
		fires, afterRemove := 0, 0
		removed := false
		mustWatch(t)(l.AddReader(a.fd, func() {
			if removed {
				afterRemove++
				return
			}
			fires++
			if fires == 3 { // fired in three iterations without a read: level-triggered
				if !l.RemoveReader(a.fd) {
					t.Errorf("RemoveReader of a watched fd returned false")
				}
				removed = true
				l.CallLater(watchSettle, l.Stop)
			}
		}))
		runLoopGuarded(t, l)
		if fires != 3 || afterRemove != 0 {
			t.Errorf("reader fired %d times, then %d times after RemoveReader; want 3 and 0", fires, afterRemove)
		}
		if l.watchers.len() != 0 {
			t.Errorf("watchers left after RemoveReader: %v", l.watchers)
		}
	})
}

func TestWatchReaderReplaced(t *testing.T) {
	forEachLoop(t, func(t *testing.T, l *Loop) {
		a, b := testUnixPair(t)
		b.write("x")
		first, second := 0, 0
		h1 := mustWatch(t)(l.AddReader(a.fd, func() { first++ }))
		h2 := mustWatch(t)(l.AddReader(a.fd, func() {
			second++
			if second == 2 {
				l.RemoveReader(a.fd)
				l.CallLater(watchSettle, l.Stop)
			}
		}))
		if !h1.Cancelled() {
			t.Errorf("the replaced reader's handle is not cancelled")
		}
		if h2.Cancelled() {
			t.Errorf("the new reader's handle is cancelled")
		}
		runLoopGuarded(t, l)
		if first != 0 || second != 2 {
			t.Errorf("replaced reader fired %d times, new one %d; want 0 and 2", first, second)
		}
	})
}

func TestWatchRemoveUnwatched(t *testing.T) {
	forEachLoop(t, func(t *testing.T, l *Loop) {
		a, _ := testUnixPair(t)
		if l.RemoveReader(a.fd) || l.RemoveWriter(a.fd) {
			t.Errorf("RemoveReader/RemoveWriter of an fd never watched returned true")
		}
		reads, writes := 0, 0
		mustWatch(t)(l.AddWriter(a.fd, func() { writes++ }))
		if l.RemoveReader(a.fd) {
			t.Errorf("RemoveReader of an fd watched only for writing returned true")
		}
		// The failed RemoveReader must not have disturbed the writer.
		l.CallLater(watchSettle, l.Stop)
		runLoopGuarded(t, l)
		if writes == 0 {
			t.Errorf("writer did not fire after an unrelated RemoveReader")
		}
		if !l.RemoveWriter(a.fd) {
			t.Errorf("RemoveWriter of a watched fd returned false")
		}
		if l.RemoveWriter(a.fd) {
			t.Errorf("second RemoveWriter returned true")
		}
		// Both directions, then one removed: the other keeps firing.
		mustWatch(t)(l.AddReader(a.fd, func() { reads++ }))
		mustWatch(t)(l.AddWriter(a.fd, func() { writes++ }))
		if !l.RemoveReader(a.fd) {
			t.Errorf("RemoveReader of a watched fd returned false")
		}
		writes = 0
		l.CallLater(watchSettle, l.Stop)
		runLoopGuarded(t, l)
		if reads != 0 || writes == 0 {
			t.Errorf("after removing the reader of a reader+writer: reads %d, writes %d; want 0 and > 0", reads, writes)
		}
	})
}

func TestWatchWriter(t *testing.T) {
	forEachLoop(t, func(t *testing.T, l *Loop) {
		a, _ := testTCPPair(t)
		fires, afterRemove := 0, 0
		removed := false
		mustWatch(t)(l.AddWriter(a.fd, func() {
			if removed {
				afterRemove++
				return
			}
			fires++
			if fires == 3 {
				removed = l.RemoveWriter(a.fd)
				l.CallLater(watchSettle, l.Stop)
			}
		}))
		runLoopGuarded(t, l)
		if !removed || fires != 3 || afterRemove != 0 {
			t.Errorf("writer fired %d times, then %d after RemoveWriter (removed %t); want 3, 0, true", fires, afterRemove, removed)
		}
	})
}

func TestWatchCancelledHandle(t *testing.T) {
	forEachLoop(t, func(t *testing.T, l *Loop) {
		a, b := testUnixPair(t)
		b.write("x")
		fires := 0
		var h *Handle
		h = mustWatch(t)(l.AddReader(a.fd, func() {
			fires++
			h.Cancel() // still readable: the loop drops the watcher when it next fires
		}))
		// A handle cancelled before it ever ran never runs, and is dropped the same way.
		other, c := testUnixPair(t)
		c.write("y")
		never := 0
		mustWatch(t)(l.AddReader(other.fd, func() { never++ })).Cancel()
		l.CallLater(watchSettle, l.Stop)
		runLoopGuarded(t, l)
		if fires != 1 || never != 0 {
			t.Errorf("cancelled readers fired %d and %d times, want 1 and 0", fires, never)
		}
		if l.RemoveReader(a.fd) || l.RemoveReader(other.fd) {
			t.Errorf("cancelled watchers were not removed by the loop")
		}
		if l.watchers.len() != 0 {
			t.Errorf("watchers left: %v", l.watchers)
		}
	})
}

func TestWatchBadFD(t *testing.T) {
	forEachLoop(t, func(t *testing.T, l *Loop) {
		a, _ := testUnixPair(t)
		fd := a.fd
		a.close()
		if h, err := l.AddReader(fd, func() {}); err == nil {
			t.Errorf("AddReader of a closed fd succeeded (%v), want an error", h)
		}
		if l.RemoveReader(fd) || l.watchers.len() != 0 {
			t.Errorf("a failed AddReader left a watcher behind")
		}
	})
}

func TestWatchFDClosedWhileRegistered(t *testing.T) {
	forEachLoop(t, func(t *testing.T, l *Loop) {
		reported, known := closedFdReported[l.poller.name()]
		if !known {
			t.Fatalf("backend %q: document what it does with an fd closed while registered in closedFdReported", l.poller.name())
		}
		a, b := testUnixPair(t)
		fd := a.fd
		b.write("pending")
		fires := 0
		mustWatch(t)(l.AddReader(fd, func() {
			fires++
			if fires == 1 {
				a.close() // closed under the loop's feet, still watched
			}
		}))
		// The loop must keep running timers: five ticks, then stop.
		ticks := 0
		var tick func()
		tick = func() {
			ticks++
			if ticks == 5 {
				l.Stop()
				return
			}
			l.CallLater(time.Millisecond, tick)
		}
		l.CallLater(time.Millisecond, tick)
		runLoopGuarded(t, l)
		if ticks != 5 {
			t.Errorf("timers ticked %d times with a closed fd watched, want 5", ticks)
		}
		// epoll and kqueue forget the fd, so the reader never fires again; poll keeps reporting
		// it (POLLNVAL), so the reader runs and would meet EBADF, as under asyncio's PollSelector.
		if reported && fires < 2 {
			t.Errorf("reader fired %d times after its fd was closed; this backend keeps reporting it", fires-1)
		}
		if !reported && fires != 1 {
			t.Errorf("reader fired %d times after its fd was closed; this backend forgets it", fires-1)
		}
		// Removing the watcher of the closed fd succeeds without an error report.
		if !l.RemoveReader(fd) {
			t.Errorf("RemoveReader of the closed fd returned false")
		}
	})
}

// TestCodePCs: callbackPC and donePC read a func value's code pointer without reflection; they
// must agree with funcPC (reflection) for closures, functions and method values.
func TestCodePCs(t *testing.T) {
	var w watcher
	x := 0
	cbs := []func(){func() {}, func() { x++ }, t.Helper, w.reset, nil}
	for i, fn := range cbs {
		if fn == nil {
			if callbackPC(fn) != 0 {
				t.Errorf("callbackPC(nil) != 0")
			}
			continue
		}
		if got, want := callbackPC(fn), funcPC(fn); got != want {
			t.Errorf("callback %d: callbackPC = %#x, funcPC = %#x", i, got, want)
		}
	}
	dones := []func(*Future){func(*Future) {}, func(*Future) { x++ }, w.done}
	for i, fn := range dones {
		if got, want := donePC(fn), funcPC(fn); got != want {
			t.Errorf("done callback %d: donePC = %#x, funcPC = %#x", i, got, want)
		}
	}
}

func (w *watcher) reset()       { w.readFires = 0 }
func (w *watcher) done(*Future) { w.writeFires = 0 }

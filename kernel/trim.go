package kernel

import (
	"runtime/debug"
	"sync"
	"time"
)

// An idle kernel gives back the memory it no longer uses. Starting the interpreter and running a
// cell leave garbage behind (parsing, compiling, the symbol tables' copies); the Go runtime
// returns freed pages to the operating system only gradually, so a kernel that has just gone
// idle would keep several megabytes it does not need while the notebook sits open. A while after
// the last request ended, with nothing running, the kernel collects and returns them at once
// (debug.FreeOSMemory). A cell's leftover work (timers, tasks) does not count as activity: the
// trim costs one garbage collection, a few milliseconds, once per idle period.

// trimAfter is how long the kernel must have been idle before it trims.
const trimAfter = 500 * time.Millisecond

// trimmer runs debug.FreeOSMemory once per idle period.
type trimmer struct {
	mu    sync.Mutex
	gen   int  // bumped by every busy
	busy  bool // a request is being handled
	timer *time.Timer
	trim  func() // debug.FreeOSMemory; tests may count calls
}

func newTrimmer() *trimmer { return &trimmer{trim: debug.FreeOSMemory} }

// start marks the kernel busy: a pending trim is called off.
func (t *trimmer) start() {
	t.mu.Lock()
	t.gen++
	t.busy = true
	if t.timer != nil {
		t.timer.Stop()
		t.timer = nil
	}
	t.mu.Unlock()
}

// idle marks the kernel idle: it trims after trimAfter unless it gets busy again.
func (t *trimmer) idle() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.busy = false
	gen := t.gen
	if t.timer != nil {
		t.timer.Stop()
	}
	t.timer = time.AfterFunc(trimAfter, func() {
		t.mu.Lock()
		ok := !t.busy && t.gen == gen
		t.mu.Unlock()
		if ok {
			t.trim()
		}
	})
}

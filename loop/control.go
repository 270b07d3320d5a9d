package loop

import (
	"sync"
	"sync/atomic"
	"time"
)

// control lets another goroutine pause the loop at iteration boundaries, step it by one
// iteration or one callback, and slow it down — the teaching controls. The loop checks a single
// atomic flag per boundary when none of this is in use.
type control struct {
	active atomic.Bool // paused, stepping, slow motion or requests pending

	mu       sync.Mutex
	paused   bool
	stepIter int  // iterations to let through while paused
	stepCB   int  // callbacks to let through while paused
	stepping bool // an iteration let through by StepIteration is running: its callbacks pass
	slow     time.Duration
	kick     chan struct{} // closed and replaced to wake the waiting loop
	requests []func(*Loop) // run on the loop goroutine at the next boundary, also while paused

	// next is the callback the loop holds while it waits before running it (paused between
	// callbacks): taken off the ready queue already, it is still the first thing that will
	// run, so snapshots list it first. Loop goroutine only.
	next *Handle
}

func (c *control) update() {
	c.active.Store(c.paused || c.slow > 0 || len(c.requests) > 0)
	if c.kick != nil {
		close(c.kick)
		c.kick = nil
	}
}

// Pause makes the loop stop at its next iteration boundary (or before its next callback) until
// Resume. It is safe from any goroutine, and stepping never leaves the loop's state half-changed:
// the loop only stops where asyncio's own invariants hold.
func (l *Loop) Pause() {
	l.ctl.mu.Lock()
	l.ctl.paused = true
	l.ctl.update()
	l.ctl.mu.Unlock()
}

// Resume lets a paused loop run on.
func (l *Loop) Resume() {
	l.ctl.mu.Lock()
	l.ctl.paused = false
	l.ctl.stepIter, l.ctl.stepCB, l.ctl.stepping = 0, 0, false
	l.ctl.update()
	l.ctl.mu.Unlock()
	l.poller.wakeup()
}

// Paused reports whether the loop is held by Pause.
func (l *Loop) Paused() bool {
	l.ctl.mu.Lock()
	defer l.ctl.mu.Unlock()
	return l.ctl.paused
}

// StepIteration lets a paused loop run one whole iteration and pause again.
func (l *Loop) StepIteration() {
	l.ctl.mu.Lock()
	l.ctl.stepIter++
	l.ctl.update()
	l.ctl.mu.Unlock()
}

// StepCallback lets a paused loop run until one more callback has run, and pause again.
func (l *Loop) StepCallback() {
	l.ctl.mu.Lock()
	l.ctl.stepCB++
	l.ctl.update()
	l.ctl.mu.Unlock()
}

// SetSlowMotion makes the loop wait d before every callback (0 turns it off).
func (l *Loop) SetSlowMotion(d time.Duration) {
	l.ctl.mu.Lock()
	l.ctl.slow = d
	l.ctl.update()
	l.ctl.mu.Unlock()
}

// Inspect runs fn on the loop goroutine at the next iteration boundary, or at once if the loop is
// paused; it returns false if the loop is closed. Goroutine-safe. Use it to take a Snapshot
// from another goroutine.
func (l *Loop) Inspect(fn func(*Loop)) bool {
	if l.closed.Load() {
		return false
	}
	l.ctl.mu.Lock()
	l.ctl.requests = append(l.ctl.requests, fn)
	l.ctl.update()
	l.ctl.mu.Unlock()
	l.poller.wakeup()
	return true
}

// boundary is called by the loop at the start of every iteration.
func (c *control) boundary(l *Loop) {
	if !c.active.Load() {
		return
	}
	c.wait(l, true)
}

// beforeCallback is called before each callback while control is active.
func (c *control) beforeCallback(l *Loop, h *Handle) {
	c.next = h
	c.wait(l, false)
	c.next = nil
	c.mu.Lock()
	slow := c.slow
	c.mu.Unlock()
	if slow > 0 {
		l.tr.publish()
		c.sleep(slow)
	}
}

// wait serves requests and blocks while paused, letting steps through.
func (c *control) wait(l *Loop, atIteration bool) {
	announced := false
	for {
		c.mu.Lock()
		reqs := c.requests
		c.requests = nil
		if len(reqs) > 0 {
			c.update()
		}
		c.mu.Unlock()
		for _, fn := range reqs {
			fn(l)
		}
		c.mu.Lock()
		if atIteration {
			c.stepping = false // a stepped iteration ends at the next boundary
		}
		if !c.paused {
			c.mu.Unlock()
			break
		}
		if atIteration && c.stepIter > 0 {
			c.stepIter--
			c.stepping = true
			c.mu.Unlock()
			break
		}
		if atIteration && c.stepCB > 0 {
			c.mu.Unlock() // let the iteration start; the callback check consumes the step
			break
		}
		if !atIteration && c.stepCB > 0 {
			c.stepCB--
			c.mu.Unlock()
			break
		}
		if !atIteration && (c.stepping || c.stepIter > 0) {
			c.mu.Unlock() // inside an iteration being stepped as a whole
			break
		}
		if c.kick == nil {
			c.kick = make(chan struct{})
		}
		kick := c.kick
		c.mu.Unlock()
		if !announced {
			l.tr.emit(EvPause, 0, 1, 0)
			l.tr.publish()
			announced = true
		}
		<-kick
	}
	if announced {
		l.tr.emit(EvPause, 0, 0, 0)
	}
}

func (c *control) sleep(d time.Duration) {
	c.mu.Lock()
	if c.kick == nil {
		c.kick = make(chan struct{})
	}
	kick := c.kick
	c.mu.Unlock()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-kick:
	}
}

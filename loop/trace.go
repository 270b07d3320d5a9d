package loop

import (
	"sync/atomic"
	"time"
)

// EventKind says what an Event records.
type EventKind uint8

// Event kinds. The comment of each says how the Event's fields are used. Every T is trace time:
// real time since New, also in virtual time. A callback's run began at the T of the event before
// its EvRun that has one (the previous EvRun, the iteration's EvPoll, or its start).
const (
	EvPoll       EventKind = iota + 1 // the poll returned (only when it made a syscall): A = timeout (-1 infinite), B = time spent, Fd = fds ready, T = now
	EvFdReady                         // a watched fd is ready: ID = watcher handle, Fd, Dir
	EvTimerDue                        // a due timer moved to the ready queue: ID
	EvRun                             // a callback ran: ID, Info, T = when it ended
	EvIterEnd                         // an iteration ended: A = its number, B = its start (T), ID = callbacks in its ready batch, Fd = callbacks run, T = its end
	EvSchedule                        // work was scheduled: ID, Info, A = due time for timers (else 0)
	EvCreate                          // a future or task was created: ID, Info
	EvCancel                          // a handle, timer, future or task was cancelled: ID
	EvWatch                           // a watcher was added: ID, Info, Fd, Dir
	EvUnwatch                         // a watcher was removed: ID, Fd, Dir
	EvFutureDone                      // a future or task finished: ID, A = 1 cancelled, 2 finished
	EvAwait                           // a task suspended on a future: ID = task, A = future id
	EvException                       // the exception handler was called: A = owner
	EvPause                           // the loop paused (A = 1) or resumed (A = 0) at a boundary
	EvClose                           // the loop was closed
)

var eventNames = [...]string{"?", "poll", "fd", "timer", "run", "iter", "schedule",
	"create", "cancel", "watch", "unwatch", "done", "await", "exception", "pause", "close"}

func (k EventKind) String() string {
	if int(k) < len(eventNames) {
		return eventNames[k]
	}
	return "?"
}

// Event is one compact record of what the loop did. Info, when set, points at the subject's
// immutable description.
type Event struct {
	Seq  uint64 // position in the stream, from 1; filled in by Events
	Kind EventKind
	Dir  uint8 // 1 read, 2 write
	Fd   int32
	ID   uint64
	A, B int64
	T    time.Duration
	Info *Info
}

// The event stream: the loop appends to a private chunk and publishes full chunks (and the current
// one before it sleeps, pauses or returns) into a ring of atomic pointers. A published chunk never
// changes while a reader may hold it, so readers on other goroutines copy it without locks and
// never block the loop; a reader that falls more than a ring behind is told how many chunks it lost.
//
// Chunks are recycled: when publishing evicts a chunk from the ring and no reader holds it, its
// storage becomes the loop's next private chunk. A reader announces itself (readers.Add) before it
// re-checks that the chunk is still in its slot; the loop evicts (Swap) before it checks readers.
// With sequentially consistent atomics, either the loop sees the reader and allocates a fresh
// chunk, or the reader sees the eviction and skips the chunk as lost — never both miss.
const (
	chunkSize = 256
	ringSize  = 64 // chunks kept: 16k events, about 1 MiB
)

type chunk struct {
	index   uint64
	first   uint64 // Seq of its first event
	events  []event
	readers atomic.Int32
}

// event is an Event as stored: its Seq is implied by its position, which saves the loop a store
// and the ring an eighth of its memory.
type event struct {
	Kind EventKind
	Dir  uint8
	Fd   int32
	ID   uint64
	A, B int64
	T    time.Duration
	Info *Info
}

type tracer struct {
	clock *clock
	buf   []event
	seq   uint64 // Seq of buf's first event
	iter  uint64
	last  time.Duration // time of the latest clock reading
	ran   int64
	start time.Duration // the current iteration's start

	ring      [ringSize]atomic.Pointer[chunk]
	published atomic.Uint64 // chunks published so far

	cur      atomic.Pointer[Handle] // the callback running now (the watchdog's view)
	curStart atomic.Int64           // trace time at which it started
	curIter  atomic.Uint64          // iterations completed, for readers
}

func (t *tracer) init(c *clock) {
	t.clock = c
	t.buf = make([]event, 0, chunkSize)
	t.seq = 1
}

// read reads the real clock and remembers the reading: events are stamped with the latest one.
func (t *tracer) read(c *clock) time.Duration {
	t.last = c.trace()
	return t.last
}

// next returns the slot for a new event; the caller fills it in place, which keeps the hot path
// free of 48-byte copies.
func (t *tracer) next() *event {
	if len(t.buf) == cap(t.buf) {
		t.publish()
	}
	t.buf = t.buf[:len(t.buf)+1]
	return &t.buf[len(t.buf)-1]
}

func (t *tracer) emit(k EventKind, id uint64, a, b int64) {
	*t.next() = event{Kind: k, ID: id, A: a, B: b}
}

func (t *tracer) publish() {
	if len(t.buf) == 0 {
		return
	}
	n := t.published.Load()
	old := t.ring[n%ringSize].Swap(&chunk{index: n, first: t.seq, events: t.buf})
	t.published.Store(n + 1)
	t.seq += uint64(len(t.buf))
	if old != nil && old.readers.Load() == 0 {
		// Its stale Info pointers are overwritten as it refills; clearing them first would cost
		// a write barrier per slot while the GC runs.
		t.buf = old.events[:0]
	} else {
		t.buf = make([]event, 0, chunkSize)
	}
}

func (t *tracer) sched(in *Info, when int64) {
	*t.next() = event{Kind: EvSchedule, ID: in.ID, A: when, Info: in}
}

func (t *tracer) created(in *Info) { *t.next() = event{Kind: EvCreate, ID: in.ID, Info: in} }

func (t *tracer) watch(in *Info, fd int, dir uint8, add bool) {
	k := EvUnwatch
	if add {
		k = EvWatch
	}
	*t.next() = event{Kind: k, ID: in.ID, Fd: int32(fd), Dir: dir, Info: in}
}

// iterStart begins an iteration at the previous iteration's last clock reading: nothing but the
// loop's own bookkeeping happened in between, so no clock read and no event are needed.
func (t *tracer) iterStart() {
	t.iter++
	t.start = t.last
	t.ran = 0
}

func (t *tracer) polled(timeout time.Duration, nev int, spent time.Duration) {
	*t.next() = event{Kind: EvPoll, A: int64(timeout), B: int64(spent), Fd: int32(nev), T: t.last}
}

func (t *tracer) fdReady(id uint64, fd int, dir uint8) {
	*t.next() = event{Kind: EvFdReady, ID: id, Fd: int32(fd), Dir: dir}
}

func (t *tracer) timerDue(id uint64) { *t.next() = event{Kind: EvTimerDue, ID: id} }

func (t *tracer) runStart(h *Handle) {
	t.curStart.Store(int64(t.last))
	t.cur.Store(h)
}

func (t *tracer) runEnd(h *Handle, now time.Duration) {
	t.cur.Store(nil)
	t.last = now
	t.ran++
	*t.next() = event{Kind: EvRun, ID: h.ID, T: now, Info: &h.Info}
}

func (t *tracer) iterEnd(ntodo int) {
	*t.next() = event{Kind: EvIterEnd, A: int64(t.iter), B: int64(t.start), ID: uint64(ntodo), Fd: int32(t.ran), T: t.last}
	t.curIter.Store(t.iter)
}

// Events copies published events from chunk cursor on into buf and returns them with the cursor
// to pass next time and the number of chunks lost because the reader fell behind. Start with
// cursor 0. Goroutine-safe; it never blocks the loop.
func (l *Loop) Events(cursor uint64, buf []Event) (events []Event, next uint64, lost uint64) {
	t := &l.tr
	end := t.published.Load()
	if end > ringSize && cursor < end-ringSize {
		lost = end - ringSize - cursor
		cursor = end - ringSize
	}
	for i := cursor; i < end; i++ {
		slot := &t.ring[i%ringSize]
		c := slot.Load()
		if c == nil || c.index != i {
			lost++
			continue
		}
		c.readers.Add(1)
		if slot.Load() != c { // evicted meanwhile: its storage may be reused
			c.readers.Add(-1)
			lost++
			continue
		}
		for j := range c.events {
			e := &c.events[j]
			buf = append(buf, Event{Seq: c.first + uint64(j), Kind: e.Kind, Dir: e.Dir, Fd: e.Fd,
				ID: e.ID, A: e.A, B: e.B, T: e.T, Info: e.Info})
		}
		c.readers.Add(-1)
	}
	return buf, end, lost
}

// Callback describes the callback the loop is running now, for a watchdog on another goroutine.
type Callback struct {
	Info  *Info
	Since time.Duration // trace time (real time since New) at which it started
	For   time.Duration // how long it has been running
}

// Current returns the callback running now, if any. Goroutine-safe: it works while the loop is
// stuck in a long callback, which is when it matters.
func (l *Loop) Current() (Callback, bool) {
	h := l.tr.cur.Load()
	if h == nil {
		return Callback{}, false
	}
	since := time.Duration(l.tr.curStart.Load())
	if l.tr.cur.Load() != h {
		return Callback{}, false
	}
	return Callback{Info: &h.Info, Since: since, For: l.clock.trace() - since}, true
}

// Iterations returns how many iterations the loop has completed. Goroutine-safe.
func (l *Loop) Iterations() uint64 { return l.tr.curIter.Load() }

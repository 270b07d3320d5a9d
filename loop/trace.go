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
	EvPoll       EventKind = iota + 1 // the poll returned (only when it made a syscall): A = timeout (-1 infinite), B = time spent, Fd = fds ready, T = now; a poll with timeout 0 and no timer pending is not timed (B = 0, T = the reading before it: it never waits, so it is busy time)
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
	infos   []*Info // the Infos of the events that carry one, in order (see event.info)
	readers atomic.Int32
}

// event is an Event as stored: its Seq is implied by its position, which saves the loop a store
// and the ring an eighth of its memory. It holds no pointer: the Info of the events that carry
// one lives in the chunk's parallel infos slice. A pointer-free event is appended with plain
// stores, where a pointer in it made every append (and every recycled chunk) go through the GC's
// bulk write barrier while a collection was marking, and made the GC scan the whole ring.
type event struct {
	Kind EventKind
	Dir  uint8
	info uint16 // 1 + the index of its Info in the chunk's infos, or 0
	Fd   int32
	ID   uint64
	A, B int64
	T    time.Duration
}

type tracer struct {
	clock   *clock
	buf     []event
	infos   []*Info // the Infos of buf's events that carry one
	seq     uint64  // Seq of buf's first event
	chunkNo uint32  // number of the chunk being filled (wraps), for Handle.traceChunk
	iter    uint64
	last    time.Duration // time of the latest clock reading
	ran     int64
	start   time.Duration // the current iteration's start

	ring      [ringSize]atomic.Pointer[chunk]
	published atomic.Uint64 // chunks published so far

	// The watchdog's view of the callback running now: its Info, and the trace time at which it
	// started, or -1 between callbacks. cur is left in place when the callback ends (one store
	// per callback fewer); curStart alone says whether a callback runs. See Current.
	cur      atomic.Pointer[Info]
	curStart atomic.Int64
	curIter  atomic.Uint64 // iterations completed, for readers
}

func (t *tracer) init(c *clock) {
	t.clock = c
	t.buf = make([]event, 0, chunkSize)
	t.infos = make([]*Info, 0, chunkSize)
	t.seq = 1
	t.curStart.Store(-1)
}

// read reads the clock exactly, for loop time (see stamp.go), and moves the timeline on to it. A
// stamp interpolated a little ahead of the clock is not taken back: the timeline stays monotonic.
func (t *tracer) read(c *clock) time.Duration {
	now := c.anchor()
	t.last = max(t.last, now)
	return now
}

// stamp reads the clock for the timeline only: the end of a callback.
func (t *tracer) stamp(c *clock) time.Duration {
	t.last = max(t.last, c.stamp())
	return t.last
}

// add appends an event and returns its index. It stores every field straight into the slot:
// building an event value and copying it in made the copy's wide loads wait for the narrow
// stores that had just built it (a failed store-to-load forwarding, about 15 ns per event).
func (t *tracer) add(k EventKind, dir uint8, info uint16, fd int32, id uint64, a, b int64, at time.Duration) *event {
	if len(t.buf) == cap(t.buf) {
		t.publish()
	}
	i := len(t.buf)
	t.buf = t.buf[:i+1]
	e := &t.buf[i]
	e.Kind, e.Dir, e.info, e.Fd = k, dir, info, fd
	e.ID, e.A, e.B, e.T = id, a, b, at
	return e
}

// addInfo appends an event that carries in: its Info goes to the chunk's infos (one pointer
// store, the only one an event costs). Only these events keep Infos alive.
func (t *tracer) addInfo(in *Info, k EventKind, dir uint8, fd int32, a int64, at time.Duration) uint16 {
	e := t.add(k, dir, 0, fd, in.ID, a, 0, at) // first: it may publish and start a new chunk
	t.infos = append(t.infos, in)
	e.info = uint16(len(t.infos))
	return e.info
}

func (t *tracer) emit(k EventKind, id uint64, a, b int64) {
	t.add(k, 0, 0, 0, id, a, b, 0)
}

func (t *tracer) publish() {
	if len(t.buf) == 0 {
		return
	}
	n := t.published.Load()
	old := t.ring[n%ringSize].Swap(&chunk{index: n, first: t.seq, events: t.buf, infos: t.infos})
	t.published.Store(n + 1)
	t.chunkNo++
	t.seq += uint64(len(t.buf))
	if old != nil && old.readers.Load() == 0 {
		// Its stale Info pointers are overwritten as it refills (those beyond the new fill stay
		// until the next lap); clearing them first would cost a write barrier per slot while the
		// GC marks.
		t.buf, t.infos = old.events[:0], old.infos[:0]
	} else {
		t.buf, t.infos = make([]event, 0, chunkSize), make([]*Info, 0, chunkSize)
	}
}

// sched records that h was scheduled. A handle scheduled again and again (a task's step) refers
// to the Info slot it already has in the chunk, as runEnd does, instead of storing its Info anew.
func (t *tracer) sched(h *Handle, when int64) {
	if len(t.buf) == cap(t.buf) {
		t.publish() // now, so that the slot check and the event are about the same chunk
	}
	if s := h.traceSlot; h.traceChunk == t.chunkNo && s != 0 && int(s) <= len(t.infos) && t.infos[s-1] == &h.Info {
		t.add(EvSchedule, 0, s, 0, h.ID, when, 0, 0)
		return
	}
	h.traceSlot = t.addInfo(&h.Info, EvSchedule, 0, 0, when, 0)
	h.traceChunk = t.chunkNo
}

func (t *tracer) created(in *Info) { t.addInfo(in, EvCreate, 0, 0, 0, 0) }

func (t *tracer) watch(in *Info, fd int, dir uint8, add bool) {
	k := EvUnwatch
	if add {
		k = EvWatch
	}
	t.addInfo(in, k, dir, int32(fd), 0, 0)
}

// iterStart begins an iteration at the previous iteration's last clock reading: nothing but the
// loop's own bookkeeping happened in between, so no clock read and no event are needed.
func (t *tracer) iterStart() {
	t.iter++
	t.start = t.last
	t.ran = 0
}

func (t *tracer) polled(timeout time.Duration, nev int, spent time.Duration) {
	t.add(EvPoll, 0, 0, int32(nev), 0, int64(timeout), int64(spent), t.last)
}

func (t *tracer) fdReady(id uint64, fd int, dir uint8) {
	t.add(EvFdReady, dir, 0, int32(fd), id, 0, 0, 0)
}

func (t *tracer) timerDue(id uint64) { t.add(EvTimerDue, 0, 0, 0, id, 0, 0, 0) }

// runStart publishes the callback about to run: its Info first, then its start, which marks it
// as running (Current reads them in the other order).
func (t *tracer) runStart(h *Handle) {
	if t.cur.Load() != &h.Info { // a task's step handle runs again and again: skip the store
		t.cur.Store(&h.Info)
	}
	t.curStart.Store(int64(t.last))
}

func (t *tracer) runEnd(h *Handle, now time.Duration) {
	t.curStart.Store(-1)
	t.last = now
	t.ran++
	// A callback usually runs soon after it was scheduled: when its EvSchedule is in the same
	// chunk, the EvRun refers to the same Info slot, which saves a pointer store (and its write
	// barrier while the GC marks). The slot check makes a wrapped chunk number harmless.
	if len(t.buf) == cap(t.buf) {
		t.publish() // now, so that the check below and the event are about the same chunk
	}
	if s := h.traceSlot; h.traceChunk == t.chunkNo && s != 0 && int(s) <= len(t.infos) && t.infos[s-1] == &h.Info {
		t.add(EvRun, 0, s, 0, h.ID, 0, 0, now)
		return
	}
	t.addInfo(&h.Info, EvRun, 0, 0, 0, now)
}

func (t *tracer) iterEnd(ntodo int) {
	t.add(EvIterEnd, 0, 0, int32(t.ran), uint64(ntodo), int64(t.iter), int64(t.start), t.last)
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
			var in *Info
			if e.info != 0 {
				in = c.infos[e.info-1]
			}
			buf = append(buf, Event{Seq: c.first + uint64(j), Kind: e.Kind, Dir: e.Dir, Fd: e.Fd,
				ID: e.ID, A: e.A, B: e.B, T: e.T, Info: in})
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
	// The loop stores cur before curStart when a callback starts and sets curStart to -1 when it
	// ends. So if curStart reads the same non-negative value before and after cur, the Info read
	// in between is that of a callback that started at that time and is (or was just) running.
	start := l.tr.curStart.Load()
	if start < 0 {
		return Callback{}, false
	}
	in := l.tr.cur.Load()
	if in == nil || l.tr.curStart.Load() != start {
		return Callback{}, false
	}
	since := time.Duration(start)
	// The start is a stamp, which may run a few nanoseconds ahead of the exact reading.
	return Callback{Info: in, Since: since, For: max(0, l.clock.trace()-since)}, true
}

// Iterations returns how many iterations the loop has completed. Goroutine-safe.
func (l *Loop) Iterations() uint64 { return l.tr.curIter.Load() }

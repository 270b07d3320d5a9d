package loop

import "fmt"

// watcher is the registration of one fd: at most one reader and one writer callback, each
// level-triggered and repeating, as in asyncio's selector loop.
type watcher struct {
	fd         int
	reader     *Handle
	writer     *Handle
	readFires  uint64
	writeFires uint64
	kernel     uint8 // interest registered with the poller; may lag behind interest() until flush
	dirty      bool  // in l.dirty: a deferred removal awaits flushing
	// For readIdle: the value of l.polls when reading was registered with the poller (so later
	// polls covered it), and the last poll that reported the fd readable. Only armWatch adds a
	// direction to the poller's registration (sync only removes), so it alone sets readSince.
	readSince uint64
	readSeen  uint64
}

func (w *watcher) interest() uint8 {
	var i uint8
	if w.reader != nil {
		i |= pollRead
	}
	if w.writer != nil {
		i |= pollWrite
	}
	return i
}

// AddReader calls fn in every iteration in which fd is readable, until RemoveReader (asyncio's
// add_reader). A second AddReader on the same fd replaces the first, whose handle is cancelled.
func (l *Loop) AddReader(fd int, fn func(), opts ...Opt) (*Handle, error) {
	return l.addWatch(fd, pollRead, fn, opts)
}

// AddWriter calls fn in every iteration in which fd is writable, until RemoveWriter.
func (l *Loop) AddWriter(fd int, fn func(), opts ...Opt) (*Handle, error) {
	return l.addWatch(fd, pollWrite, fn, opts)
}

// RemoveReader stops watching fd for reading and reports whether it was watched.
func (l *Loop) RemoveReader(fd int) bool { return l.removeWatch(fd, pollRead) }

// RemoveWriter stops watching fd for writing and reports whether it was watched.
func (l *Loop) RemoveWriter(fd int) bool { return l.removeWatch(fd, pollWrite) }

func (l *Loop) addWatch(fd int, dir uint8, fn func(), opts []Opt) (*Handle, error) {
	return l.addWatchNamed(fd, dir, fn, opts, "")
}

// addWatchNamed is addWatch with the handle named name (when not empty) before opts apply.
func (l *Loop) addWatchNamed(fd int, dir uint8, fn func(), opts []Opt, name string) (*Handle, error) {
	h := new(Handle)
	if err := l.addWatchHandle(h, fd, dir, fn, opts, name); err != nil {
		return nil, err
	}
	return h, nil
}

// addWatchHandle is addWatchNamed with the handle supplied by the caller: a zero Handle, which
// may live inside a larger allocation (see sockWait).
func (l *Loop) addWatchHandle(h *Handle, fd int, dir uint8, fn func(), opts []Opt, name string) error {
	if err := l.check(); err != nil {
		return err
	}
	kind := KindReader
	if dir == pollWrite {
		kind = KindWriter
	}
	h.fn, h.loop = fn, l
	h.Name = name
	l.initInfo(&h.Info, kind, callbackPC(fn), opts)
	return l.armWatch(h, fd, dir)
}

// armWatch registers h, whose Info is set, as fd's reader or writer: addWatchHandle's work after
// the Info, and all of it for a socket wait's reused handle (see sockWait.rearm).
func (l *Loop) armWatch(h *Handle, fd int, dir uint8) error {
	w := l.watchers.get(fd)
	if w == nil {
		w = &watcher{fd: fd}
	}
	prev := w.slot(dir)
	if want := w.interest() | dir; want&^w.kernel != 0 {
		// The poller lacks a direction we need. (A direction whose removal is still deferred is
		// registered already: re-adding it costs nothing — the point of deferring.)
		if err := l.poller.set(fd, w.kernel, w.kernel|want); err != nil {
			return err
		}
		if want&^w.kernel&pollRead != 0 {
			w.readSince = l.polls
		}
		w.kernel |= want
	}
	if *prev != nil {
		(*prev).Cancel()
	}
	*prev = h
	l.watchers.set(fd, w)
	l.tr.watch(&h.Info, fd, dir, true)
	return nil
}

func (w *watcher) slot(dir uint8) **Handle {
	if dir == pollRead {
		return &w.reader
	}
	return &w.writer
}

func (l *Loop) removeWatch(fd int, dir uint8) bool { return l.unwatch(fd, dir, false) }

// unwatch removes a watcher. With deferred set, the poller is only told at the next flush (just
// before the loop polls), so the remove-then-re-add that every Sock* operation does between two
// polls makes no syscall. Only the Sock* operations defer: their sockets tell the loop when they
// are closed (fdClosed), so a reused fd number never inherits a stale registration.
func (l *Loop) unwatch(fd int, dir uint8, deferred bool) bool {
	if l.closed.Load() {
		return false
	}
	w := l.watchers.get(fd)
	if w == nil {
		return false
	}
	slot := w.slot(dir)
	h := *slot
	if h == nil {
		return false
	}
	*slot = nil
	h.Cancel()
	l.tr.watch(&h.Info, fd, dir, false)
	if deferred {
		if !w.dirty {
			w.dirty = true
			l.dirty = append(l.dirty, w)
		}
		return true
	}
	l.sync(w)
	return true
}

// sync brings the poller's registration of w in line with its interest.
func (l *Loop) sync(w *watcher) {
	now := w.interest()
	if now != w.kernel {
		if err := l.poller.set(w.fd, w.kernel, now); err != nil {
			l.report(ExceptionContext{Message: fmt.Sprintf("updating the watch on fd %d failed", w.fd), Err: err})
		}
		w.kernel = now
	}
	if now == 0 && l.watchers.get(w.fd) == w {
		l.watchers.del(w.fd)
	}
}

// flush applies deferred removals; the loop calls it before every poll.
func (l *Loop) flush() {
	for i, w := range l.dirty {
		w.dirty = false
		l.sync(w)
		l.dirty[i] = nil
	}
	l.dirty = l.dirty[:0]
}

// readIdle reports whether this iteration's poll watched fd for reading and found it not
// readable: the poller had the fd registered for reading before that poll, the poll reported
// every ready fd, and fd was not among them. A read now fails with EAGAIN unless data arrived
// after the poll; such data is reported by the next poll (the watch is level-triggered).
func (l *Loop) readIdle(fd int) bool {
	w := l.watchers.get(fd)
	return w != nil && w.kernel&pollRead != 0 && l.pollIter == l.tr.iter && !l.pollPartial &&
		w.readSince < l.polls && w.readSeen != l.polls
}

// fdClosed forgets fd's deferred registration: closing it removed it from the poller.
func (l *Loop) fdClosed(fd int) {
	if w := l.watchers.get(fd); w != nil && w.interest() == 0 {
		w.kernel = 0
		l.watchers.del(fd)
	}
}

// fdTable maps watched fds to their watchers. Descriptors are small numbers, so it is a slice
// indexed by fd (a map lookup per ready fd and per Sock* operation showed in profiles), with a
// map for any fd beyond fdTableMax.
type fdTable struct {
	small []*watcher
	big   map[int]*watcher
	n     int
}

const fdTableMax = 1 << 16

func (t *fdTable) len() int { return t.n }

func (t *fdTable) get(fd int) *watcher {
	if uint(fd) < uint(len(t.small)) {
		return t.small[fd]
	}
	if uint(fd) < fdTableMax {
		return nil
	}
	return t.big[fd]
}

// set records w for fd; w is never nil (del removes).
func (t *fdTable) set(fd int, w *watcher) {
	if uint(fd) < fdTableMax {
		if fd >= len(t.small) {
			t.small = append(t.small, make([]*watcher, max(fd+1, 2*len(t.small), 64)-len(t.small))...)
		}
		if t.small[fd] == nil {
			t.n++
		}
		t.small[fd] = w
		return
	}
	if t.big == nil {
		t.big = make(map[int]*watcher)
	}
	if t.big[fd] == nil {
		t.n++
	}
	t.big[fd] = w
}

func (t *fdTable) del(fd int) {
	if uint(fd) < fdTableMax {
		if uint(fd) < uint(len(t.small)) && t.small[fd] != nil {
			t.small[fd] = nil
			t.n--
		}
		return
	}
	if _, ok := t.big[fd]; ok {
		delete(t.big, fd)
		t.n--
	}
}

// all yields every watcher with its fd; the loop body may delete entries.
func (t *fdTable) all(yield func(int, *watcher) bool) {
	for fd, w := range t.small {
		if w != nil && !yield(fd, w) {
			return
		}
	}
	for fd, w := range t.big {
		if !yield(fd, w) {
			return
		}
	}
}

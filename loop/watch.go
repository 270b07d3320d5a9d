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
	if err := l.check(); err != nil {
		return nil, err
	}
	kind := KindReader
	if dir == pollWrite {
		kind = KindWriter
	}
	h := &Handle{fn: fn, loop: l}
	l.initInfo(&h.Info, kind, funcPC(fn), opts)
	w := l.watchers[fd]
	if w == nil {
		w = &watcher{fd: fd}
	}
	prev := w.slot(dir)
	if want := w.interest() | dir; want&^w.kernel != 0 {
		// The poller lacks a direction we need. (A direction whose removal is still deferred is
		// registered already: re-adding it costs nothing — the point of deferring.)
		if err := l.poller.set(fd, w.kernel, w.kernel|want); err != nil {
			return nil, err
		}
		w.kernel |= want
	}
	if *prev != nil {
		(*prev).Cancel()
	}
	*prev = h
	l.watchers[fd] = w
	l.tr.watch(&h.Info, fd, dir, true)
	return h, nil
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
	w := l.watchers[fd]
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
	if now == 0 && l.watchers[w.fd] == w {
		delete(l.watchers, w.fd)
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

// fdClosed forgets fd's deferred registration: closing it removed it from the poller.
func (l *Loop) fdClosed(fd int) {
	if w := l.watchers[fd]; w != nil && w.interest() == 0 {
		w.kernel = 0
		delete(l.watchers, fd)
	}
}

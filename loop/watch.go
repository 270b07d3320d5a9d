package loop

// watcher is the registration of one fd: at most one reader and one writer callback, each
// level-triggered and repeating, as in asyncio's selector loop.
type watcher struct {
	fd         int
	reader     *Handle
	writer     *Handle
	readFires  uint64
	writeFires uint64
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
	h := &Handle{Info: l.newInfo(kind, fn, opts), fn: fn, loop: l}
	w := l.watchers[fd]
	var old uint8
	if w == nil {
		w = &watcher{fd: fd}
	} else {
		old = w.interest()
	}
	prev := w.slot(dir)
	if err := l.poller.set(fd, old, old|dir); err != nil {
		return nil, err
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

func (l *Loop) removeWatch(fd int, dir uint8) bool {
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
	old := w.interest()
	*slot = nil
	h.Cancel()
	now := w.interest()
	if now == 0 {
		delete(l.watchers, fd)
	}
	if err := l.poller.set(fd, old, now); err != nil {
		l.report(ExceptionContext{Message: "removing a watcher failed", Err: err, Handle: h})
	}
	l.tr.watch(&h.Info, fd, dir, false)
	return true
}

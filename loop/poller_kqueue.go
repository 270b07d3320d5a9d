//go:build darwin || freebsd || netbsd || openbsd || dragonfly

package loop

import (
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

func init() {
	backends = append(backends, backend{"kqueue", openKqueue})
}

// kqUser describes EVFILT_USER on the kernels that have it; poller_kqueue_user.go fills it in for
// darwin, freebsd and dragonfly. On netbsd and openbsd it stays zero and the poller wakes through
// a self-pipe instead, which works on every release: x/sys/unix does not name the filter there,
// and NetBSD only gained it in version 10.
var kqUser struct {
	ok      bool
	filter  int
	trigger uint32 // NOTE_TRIGGER
}

// kqWakeIdent is the ident of the EVFILT_USER wake event. User events live in their own namespace
// (a knote is keyed by ident and filter), so it cannot collide with a watched fd.
const kqWakeIdent = 0

// kqueuePoller is the BSD and macOS backend: level-triggered kqueue (EVFILT_READ and EVFILT_WRITE
// without EV_CLEAR, so a filter stays active while its condition holds), woken by an EVFILT_USER
// event with NOTE_TRIGGER or, where there is none, through a self-pipe.
type kqueuePoller struct {
	kq    int
	pipe  *wakePipe   // the self-pipe, or nil when EVFILT_USER wakes the poller
	woken atomic.Bool // an EVFILT_USER trigger is outstanding; coalesces wakeups
	evs   []unix.Kevent_t
}

func openKqueue() (poller, error) {
	// kqueue has no close-on-exec flag everywhere (kqueue1 is not universal), so hold ForkLock,
	// as the os package does, until the descriptor is marked.
	syscall.ForkLock.RLock()
	kq, err := unix.Kqueue()
	if err == nil {
		unix.CloseOnExec(kq)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return nil, os.NewSyscallError("kqueue", err)
	}
	p := &kqueuePoller{kq: kq, evs: make([]unix.Kevent_t, 128)}
	if kqUser.ok {
		// EV_CLEAR: retrieving the triggered event resets it, which is how wait consumes a wakeup.
		err = p.change(kqWakeIdent, kqUser.filter, unix.EV_ADD|unix.EV_CLEAR, 0)
	} else {
		if p.pipe, err = openWakePipe(); err != nil {
			p.close()
			return nil, err
		}
		// Level-triggered like any watched fd: wait drains the pipe whenever it reports it.
		err = p.change(p.pipe.r, unix.EVFILT_READ, unix.EV_ADD, 0)
	}
	if err != nil {
		p.close()
		return nil, os.NewSyscallError("kevent", err)
	}
	return p, nil
}

func (p *kqueuePoller) name() string { return "kqueue" }

// change submits a single change to the kqueue. Changes go one per call: with no room in the
// event list for receipts, kevent stops at the first change that fails and reports only its error,
// so a delete that fails on a closed fd would silently take a following add down with it. The loop
// changes one direction per set, so this costs no extra calls in practice.
func (p *kqueuePoller) change(ident, filter, flags int, fflags uint32) error {
	var ch [1]unix.Kevent_t
	unix.SetKevent(&ch[0], ident, filter, flags)
	ch[0].Fflags = fflags
	for {
		// With an empty event list kevent applies the changes and returns at once; it does not wait.
		_, err := unix.Kevent(p.kq, ch[:], nil, nil)
		if err != unix.EINTR {
			return err
		}
	}
}

// kqFilters pairs the interest bits with their kqueue filters.
var kqFilters = [...]struct {
	bit    uint8
	filter int
}{{pollRead, unix.EVFILT_READ}, {pollWrite, unix.EVFILT_WRITE}}

func (p *kqueuePoller) set(fd int, old, new uint8) error {
	for i, f := range kqFilters {
		was, is := old&f.bit != 0, new&f.bit != 0
		var err error
		switch {
		case is && !was:
			err = p.change(fd, f.filter, unix.EV_ADD, 0)
		case was && !is:
			err = p.change(fd, f.filter, unix.EV_DELETE, 0)
			if err == unix.ENOENT || err == unix.EBADF {
				// The fd was closed while registered: close already dropped its filters, and if
				// its number was reused the new file never had this one.
				err = nil
			}
		}
		if err != nil {
			if i > 0 {
				// Undo the first direction's change, so that a failed set leaves the old interest
				// (the loop keeps it too). Best effort: this is the error path of an error path.
				p.set(fd, new&^f.bit|old&f.bit, old)
			}
			return os.NewSyscallError("kevent", err)
		}
	}
	return nil
}

func (p *kqueuePoller) wait(out []pollEvent, timeout time.Duration) (int, error) {
	room := min(len(out), len(p.evs))
	if room == 0 {
		return 0, nil
	}
	var ts *unix.Timespec // nil: wait for ever
	if timeout >= 0 {
		t := unix.NsecToTimespec(int64(timeout))
		ts = &t
	}
	n, err := unix.Kevent(p.kq, nil, p.evs[:room], ts)
	if err != nil {
		if err == unix.EINTR {
			return 0, nil
		}
		return 0, os.NewSyscallError("kevent", err)
	}
	k := 0
	for i := 0; i < n; i++ {
		ev := &p.evs[i]
		fd := int(ev.Ident)
		if p.pipe == nil && int(ev.Filter) == kqUser.filter {
			// EV_CLEAR already reset the event as it was returned; let the next wakeup trigger it.
			p.woken.Store(false)
			continue
		}
		if p.pipe != nil && fd == p.pipe.r && int(ev.Filter) == unix.EVFILT_READ {
			p.pipe.drain()
			continue
		}
		// As asyncio's KqueueSelector, readiness is the filter's direction and nothing else.
		// EV_EOF (the peer closed, or a socket error, in fflags) on the read filter means a read
		// would return EOF or the error; on the write filter, a write would fail: either way the
		// callback must run to find out, in that direction only. EV_ERROR does not come back from
		// a wait that submits no changes; if it ever did, it too would name its filter's direction.
		var bits uint8
		switch int(ev.Filter) {
		case unix.EVFILT_READ:
			bits = pollRead
		case unix.EVFILT_WRITE:
			bits = pollWrite
		default:
			continue
		}
		// An fd ready both ways comes back as two events, one per filter; the loop handles each
		// direction on its own, as asyncio's _process_events does.
		out[k] = pollEvent{fd: fd, events: bits}
		k++
	}
	return k, nil
}

func (p *kqueuePoller) wakeup() error {
	if p.pipe != nil {
		return p.pipe.wakeup()
	}
	if !p.woken.CompareAndSwap(false, true) {
		return nil // a wakeup is already on its way
	}
	if err := p.change(kqWakeIdent, kqUser.filter, 0, kqUser.trigger); err != nil {
		p.woken.Store(false) // nothing was triggered: let the next wakeup try again
		return os.NewSyscallError("kevent", err)
	}
	return nil
}

func (p *kqueuePoller) close() error {
	p.woken.Store(true) // as wakePipe.close: a late wakeup must not touch a closed kqueue number
	var err error
	if p.pipe != nil {
		err = p.pipe.close()
	}
	if e := unix.Close(p.kq); e != nil && err == nil {
		err = os.NewSyscallError("close", e)
	}
	return err
}

//go:build linux

package loop

import (
	"encoding/binary"
	"errors"
	"os"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

func init() {
	backends = append(backends, backend{"epoll", openEpoll})
}

// epollPoller is the Linux backend: level-triggered epoll, woken through an eventfd.
//
// A wait that may block parks the loop's goroutine in the Go runtime's own poller, on the epoll
// descriptor itself (an epoll fd is readable while it has events to report), instead of blocking
// the thread in epoll_wait. A thread blocked in a syscall keeps its P in the syscall state: with
// GOMAXPROCS=1 (a process pinned to one CPU), every other goroutine of the process waits until
// sysmon takes the P back, and sysmon, which cannot go to sleep while a P is in a syscall, keeps
// waking every 20 µs to do so, handing the P to a fresh thread each time. Parked in the
// netpoller, the loop leaves its P idle like any goroutine waiting for a socket.
type epollPoller struct {
	epfd   int
	wakefd int
	evs    []unix.EpollEvent
	woken  atomic.Bool     // an eventfd write is outstanding; coalesces wakeups
	file   *os.File        // owns epfd
	raw    syscall.RawConn // file's, when the runtime's poller watches it; else nil

	// park's state. The function given to raw.Read is made once (pollParked, a method value)
	// and passes its results through these fields: a closure made in park escaped to the heap,
	// an allocation every time the loop went to sleep.
	pollParked func(uintptr) bool
	parkMax    int
	parkN      int
	parkErrno  unix.Errno
	deadline   bool // a read deadline is set on file
}

func openEpoll() (poller, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	wakefd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(epfd)
		return nil, os.NewSyscallError("eventfd", err)
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(wakefd)}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wakefd, &ev); err != nil {
		unix.Close(epfd)
		unix.Close(wakefd)
		return nil, os.NewSyscallError("epoll_ctl", err)
	}
	p := &epollPoller{epfd: epfd, wakefd: wakefd, evs: make([]unix.EpollEvent, 128)}
	// os.NewFile registers a non-blocking descriptor with the runtime's poller (O_NONBLOCK does
	// not change epoll_wait, which has its own timeout). The File owns epfd from now on: close
	// goes through it. If the runtime cannot poll it, SetReadDeadline says so and waits block the
	// thread as before.
	if err := unix.SetNonblock(epfd, true); err != nil {
		unix.Close(epfd)
		unix.Close(wakefd)
		return nil, os.NewSyscallError("fcntl", err)
	}
	p.file = os.NewFile(uintptr(epfd), "epoll")
	if raw, err := p.file.SyscallConn(); err == nil && p.file.SetReadDeadline(time.Time{}) == nil {
		p.raw = raw
		p.pollParked = p.pollReady
	}
	return p, nil
}

func (p *epollPoller) name() string { return "epoll" }

func epollBits(interest uint8) uint32 {
	var bits uint32
	if interest&pollRead != 0 {
		bits |= unix.EPOLLIN
	}
	if interest&pollWrite != 0 {
		bits |= unix.EPOLLOUT
	}
	return bits
}

func (p *epollPoller) set(fd int, old, new uint8) error {
	ev := unix.EpollEvent{Events: epollBits(new), Fd: int32(fd)}
	var err error
	switch {
	case new == 0:
		err = unix.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, fd, nil)
		if err == unix.EBADF || err == unix.ENOENT {
			err = nil // closed while registered: epoll already forgot it
		}
	case old == 0:
		err = unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, fd, &ev)
		if err == unix.EEXIST { // a reused fd number that epoll still tracks under the old file
			err = unix.EpollCtl(p.epfd, unix.EPOLL_CTL_MOD, fd, &ev)
		}
	default:
		err = unix.EpollCtl(p.epfd, unix.EPOLL_CTL_MOD, fd, &ev)
		if err == unix.ENOENT { // the fd was closed and its number reused: register afresh
			err = unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, fd, &ev)
		}
	}
	if err != nil {
		return os.NewSyscallError("epoll_ctl", err)
	}
	return nil
}

func (p *epollPoller) wait(out []pollEvent, timeout time.Duration) (int, error) {
	max := min(len(out), len(p.evs))
	if max == 0 {
		return 0, nil
	}
	var n int
	var errno unix.Errno
	if timeout == 0 {
		n, errno = p.pollNow(max)
	} else if p.raw != nil {
		var err error
		n, errno, err = p.park(max, timeout)
		if err != nil {
			return 0, err
		}
	} else {
		var err error
		n, err = unix.EpollWait(p.epfd, p.evs[:max], timeoutMillis(timeout))
		if err != nil {
			errno, _ = err.(unix.Errno)
			if errno == 0 {
				return 0, os.NewSyscallError("epoll_wait", err)
			}
		}
	}
	if errno != 0 {
		if errno == unix.EINTR {
			return 0, nil
		}
		return 0, os.NewSyscallError("epoll_wait", errno)
	}
	k := 0
	for i := 0; i < n; i++ {
		ev := &p.evs[i]
		fd := int(ev.Fd)
		if fd == p.wakefd {
			p.drainWake()
			continue
		}
		var bits uint8
		// As asyncio's EpollSelector: anything but "only writable" means readable, anything but
		// "only readable" means writable, so errors and hang-ups wake both directions.
		if ev.Events&^unix.EPOLLOUT != 0 {
			bits |= pollRead
		}
		if ev.Events&^unix.EPOLLIN != 0 {
			bits |= pollWrite
		}
		out[k] = pollEvent{fd: fd, events: bits}
		k++
	}
	return k, nil
}

// pollNow is a zero-timeout epoll_wait. It never blocks, so it needs none of the scheduler
// hand-off that Syscall6 does; the raw call saves a good part of an iteration's cost. It is
// epoll_wait where the architecture has it, and epoll_pwait with a nil mask, which is the same
// call, where it does not (arm64, riscv64): see sysEpollWait0.
func (p *epollPoller) pollNow(max int) (int, unix.Errno) {
	r, _, e := unix.RawSyscall6(sysEpollWait0, uintptr(p.epfd), uintptr(unsafe.Pointer(&p.evs[0])), uintptr(max), 0, 0, 0)
	return int(r), e
}

// park waits up to timeout (< 0: forever) for events, with the goroutine parked in the runtime's
// poller rather than the thread blocked in epoll_wait (see epollPoller). The runtime watches epfd
// edge-triggered: it reports a new event on epfd after RawConn.Read has cleared its readiness
// and called the function, so an event that comes after the function's look is never missed.
func (p *epollPoller) park(max int, timeout time.Duration) (n int, errno unix.Errno, err error) {
	// Without a timeout there is no deadline; the one a previous park set is cleared once, not
	// on every park (each SetReadDeadline takes the descriptor's lock and resets a timer).
	if timeout > 0 || p.deadline {
		deadline := time.Time{}
		if timeout > 0 {
			deadline = time.Now().Add(timeout)
		}
		if err := p.file.SetReadDeadline(deadline); err != nil {
			return 0, 0, os.NewSyscallError("epoll_wait", err)
		}
		p.deadline = timeout > 0
	}
	p.parkMax = max
	err = p.raw.Read(p.pollParked)
	n, errno = p.parkN, p.parkErrno
	if errors.Is(err, os.ErrDeadlineExceeded) {
		// The timeout passed: report what is ready now, as epoll_wait does when it times out.
		n, errno = p.pollNow(max)
		return n, errno, nil
	}
	if err != nil {
		return 0, 0, os.NewSyscallError("epoll_wait", err)
	}
	return n, errno, nil
}

// pollReady is park's look at epfd, called by raw.Read: it reports whether the wait is over
// (events, or an error other than EINTR); if not, the goroutine parks until epfd is readable.
func (p *epollPoller) pollReady(uintptr) bool {
	p.parkN, p.parkErrno = p.pollNow(p.parkMax)
	return p.parkN > 0 || (p.parkErrno != 0 && p.parkErrno != unix.EINTR)
}

// drainWake consumes the eventfd and only then clears the flag. The other order loses wakeups: a
// wakeup between the two would set the flag and write, the read would swallow its write, and with
// the flag left set every later wakeup would skip its write while the loop slept. In this order, a
// wakeup that finds the flag still set writes nothing, which is safe: it queued its work before
// it tried, and the loop looks at the queue after every wait.
func (p *epollPoller) drainWake() {
	var buf [8]byte
	unix.Read(p.wakefd, buf[:])
	p.woken.Store(false)
}

func (p *epollPoller) wakeup() error {
	if !p.woken.CompareAndSwap(false, true) {
		return nil // a wakeup is already on its way
	}
	var buf [8]byte
	binary.NativeEndian.PutUint64(buf[:], 1)
	if _, err := unix.Write(p.wakefd, buf[:]); err != nil && err != unix.EAGAIN {
		return os.NewSyscallError("write eventfd", err)
	}
	return nil
}

func (p *epollPoller) close() error {
	err1 := unix.Close(p.wakefd)
	err2 := p.file.Close()
	if err1 != nil {
		return os.NewSyscallError("close", err1)
	}
	return err2
}

//go:build linux

package loop

import (
	"encoding/binary"
	"os"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

func init() {
	backends = append(backends, backend{"epoll", openEpoll})
}

// epollPoller is the Linux backend: level-triggered epoll, woken through an eventfd.
type epollPoller struct {
	epfd   int
	wakefd int
	evs    []unix.EpollEvent
	woken  atomic.Bool // an eventfd write is outstanding; coalesces wakeups
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
	return &epollPoller{epfd: epfd, wakefd: wakefd, evs: make([]unix.EpollEvent, 128)}, nil
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
		// A zero-timeout epoll_wait never blocks, so it needs none of the scheduler hand-off that
		// Syscall6 does; the raw call saves a good part of an iteration's cost.
		// epoll_pwait with a nil mask is epoll_wait on every architecture (arm64 has only pwait).
		r, _, e := unix.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(p.epfd), uintptr(unsafe.Pointer(&p.evs[0])), uintptr(max), 0, 0, 0)
		n, errno = int(r), e
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
	err2 := unix.Close(p.epfd)
	if err1 != nil {
		return os.NewSyscallError("close", err1)
	}
	if err2 != nil {
		return os.NewSyscallError("close", err2)
	}
	return nil
}

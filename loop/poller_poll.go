//go:build unix

package loop

import (
	"math"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

func init() {
	// poll(2) exists everywhere but hands the kernel the whole table on every call, so it goes in
	// the fallback list, which ranks after the native backend whatever order init functions run in.
	fallbackBackends = append(fallbackBackends, backend{"poll", openPoll})
}

// pollPoller is the portable backend: poll(2) over a table the poller keeps itself, woken through
// a non-blocking self-pipe. fds[0] is always the pipe's read end; the watched fds follow it.
type pollPoller struct {
	fds   []unix.PollFd
	index map[int]int // watched fd → its position in fds
	wake  *wakePipe
	// next is where the next scan of the watched entries starts. When more fds are ready than
	// wait's caller has room for, the scan resumes after the last one reported, so that no fd
	// starves behind the ones in front of it (epoll and kqueue rotate their ready lists likewise).
	next int
}

func openPoll() (poller, error) {
	w, err := openWakePipe()
	if err != nil {
		return nil, err
	}
	p := &pollPoller{
		fds:   []unix.PollFd{{Fd: int32(w.r), Events: unix.POLLIN}},
		index: make(map[int]int),
		wake:  w,
	}
	return p, nil
}

func (p *pollPoller) name() string { return "poll" }

// setPollEvents sets pf's requested events to interest. It works on the field in place because
// the field's type differs between systems (int16 on most, uint16 on aix).
func setPollEvents(pf *unix.PollFd, interest uint8) {
	pf.Events = 0
	if interest&pollRead != 0 {
		pf.Events |= unix.POLLIN
	}
	if interest&pollWrite != 0 {
		pf.Events |= unix.POLLOUT
	}
}

func (p *pollPoller) set(fd int, old, new uint8) error {
	i, ok := p.index[fd]
	switch {
	case new == 0:
		// The table is ours, not the kernel's, so this cannot fail, whether or not fd is still
		// open: a closed fd simply leaves the table.
		if ok {
			p.remove(i)
		}
	case ok:
		setPollEvents(&p.fds[i], new)
	default:
		// poll would accept any number and report POLLNVAL for it forever; refuse a descriptor that
		// is not open now, as epoll_ctl and kevent do, so every backend fails AddReader alike.
		if fd < 0 || fd > math.MaxInt32 {
			return os.NewSyscallError("poll", unix.EBADF)
		}
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil {
			return os.NewSyscallError("fcntl", err)
		}
		pf := unix.PollFd{Fd: int32(fd)}
		setPollEvents(&pf, new)
		p.index[fd] = len(p.fds)
		p.fds = append(p.fds, pf)
	}
	return nil
}

// remove drops entry i by moving the last entry into its place, which keeps removal O(1).
func (p *pollPoller) remove(i int) {
	last := len(p.fds) - 1
	delete(p.index, int(p.fds[i].Fd))
	if i != last {
		p.fds[i] = p.fds[last]
		p.index[int(p.fds[i].Fd)] = i
	}
	p.fds = p.fds[:last]
}

func (p *pollPoller) wait(out []pollEvent, timeout time.Duration) (int, error) {
	ms := timeoutMillis(timeout)
	if ms > math.MaxInt32 { // poll takes a C int; the loop never asks for more than a day anyway
		ms = math.MaxInt32
	}
	n, err := unix.Poll(p.fds, ms)
	if err != nil {
		if err == unix.EINTR {
			return 0, nil
		}
		return 0, os.NewSyscallError("poll", err)
	}
	if n == 0 {
		return 0, nil
	}
	if p.fds[0].Revents != 0 {
		p.wake.drain()
		n--
	}
	watched := p.fds[1:]
	m := len(watched)
	if p.next >= m {
		p.next = 0
	}
	k := 0
	j := 0
	for ; j < m && n > 0 && k < len(out); j++ {
		pf := &watched[(p.next+j)%m]
		re := pf.Revents
		if re == 0 {
			continue
		}
		n--
		var bits uint8
		// As asyncio's PollSelector: anything but "only writable" means readable, anything but
		// "only readable" means writable. So POLLHUP, POLLERR and POLLNVAL (an fd closed while
		// registered) wake both directions, and the callback's own read or write meets the error.
		if re&^unix.POLLOUT != 0 {
			bits |= pollRead
		}
		if re&^unix.POLLIN != 0 {
			bits |= pollWrite
		}
		out[k] = pollEvent{fd: int(pf.Fd), events: bits}
		k++
	}
	if n > 0 && m > 0 {
		// out filled up before every ready fd was reported: start after the last one next time.
		p.next = (p.next + j) % m
	}
	return k, nil
}

func (p *pollPoller) wakeup() error { return p.wake.wakeup() }

func (p *pollPoller) close() error {
	p.fds, p.index = nil, nil
	return p.wake.close()
}

// wakePipe is a self-pipe that wakes a poller blocked in the kernel: the poll backend's, and the
// kqueue backend's where the kernel has no EVFILT_USER. Its read end is watched for reading.
type wakePipe struct {
	r, w  int
	woken atomic.Bool // a byte is in the pipe, or about to be; coalesces wakeups
}

// openPipe fills p with a non-blocking, close-on-exec pipe (read end first). This portable version
// needs calls after pipe(2), so it holds syscall.ForkLock, as the os package does, to keep a
// concurrent fork+exec from inheriting the pipe before it is marked close-on-exec. Linux replaces
// it with the atomic pipe2(2) in poller_pipe_linux.go; darwin, which forces this version, has no
// pipe2 (and a unix-wide file cannot name unix.Pipe2).
var openPipe = func(p *[2]int) error {
	syscall.ForkLock.RLock()
	err := unix.Pipe(p[:])
	if err == nil {
		unix.CloseOnExec(p[0])
		unix.CloseOnExec(p[1])
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return os.NewSyscallError("pipe", err)
	}
	for _, fd := range p {
		if err := unix.SetNonblock(fd, true); err != nil {
			unix.Close(p[0])
			unix.Close(p[1])
			return os.NewSyscallError("fcntl", err)
		}
	}
	return nil
}

func openWakePipe() (*wakePipe, error) {
	var fds [2]int
	if err := openPipe(&fds); err != nil {
		return nil, err
	}
	return &wakePipe{r: fds[0], w: fds[1]}, nil
}

// wakeup writes one byte unless one is already on its way. Any goroutine may call it.
func (w *wakePipe) wakeup() error {
	if !w.woken.CompareAndSwap(false, true) {
		return nil // a wakeup is already on its way
	}
	b := [1]byte{1}
	for {
		_, err := unix.Write(w.w, b[:])
		switch err {
		case nil, unix.EAGAIN: // EAGAIN: the pipe is full, so the reader is due to wake anyway
			return nil
		case unix.EINTR:
			continue
		}
		// Nothing was written: let the next wakeup try again rather than being swallowed.
		w.woken.Store(false)
		return os.NewSyscallError("write", err)
	}
}

// drain empties the pipe after wait saw it readable, and only then clears the flag (see
// epollPoller.drainWake for why the other order loses wakeups).
func (w *wakePipe) drain() {
	defer w.woken.Store(false)
	var buf [64]byte
	for {
		n, err := unix.Read(w.r, buf[:])
		if err == unix.EINTR {
			continue
		}
		if err != nil || n < len(buf) {
			return
		}
	}
}

func (w *wakePipe) close() error {
	// Leave the flag set, so that a late wakeup from another goroutine (CallSoonThreadSafe racing
	// with Close) fails its CompareAndSwap instead of writing to a closed, perhaps reused, number.
	w.woken.Store(true)
	err1 := unix.Close(w.r)
	err2 := unix.Close(w.w)
	if err1 != nil {
		return os.NewSyscallError("close", err1)
	}
	if err2 != nil {
		return os.NewSyscallError("close", err2)
	}
	return nil
}

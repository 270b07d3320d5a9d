package loop

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// Select waits until some of the sockets are ready — r for reading, w for writing, x for
// exceptional conditions — and returns those that are, like Python's select.select. A negative
// timeout waits for ever; zero only looks. It uses poll(2), so there is no FD_SETSIZE limit.
func Select(r, w, x []*Socket, timeout time.Duration) (rr, ww, xx []*Socket, err error) {
	type entry struct {
		s    *Socket
		list int
	}
	var fds []unix.PollFd
	var entries []entry
	add := func(list int, socks []*Socket, events int16) {
		for _, s := range socks {
			fds = append(fds, unix.PollFd{Fd: int32(s.fd), Events: events})
			entries = append(entries, entry{s, list})
		}
	}
	add(0, r, unix.POLLIN)
	add(1, w, unix.POLLOUT)
	add(2, x, unix.POLLPRI)
	ms := timeoutMillis(timeout)
	deadline := time.Now().Add(timeout)
	for {
		_, err = unix.Poll(fds, ms)
		if err != unix.EINTR {
			break
		}
		if timeout >= 0 {
			ms = timeoutMillis(max(0, time.Until(deadline)))
		}
	}
	if err != nil {
		return nil, nil, nil, os.NewSyscallError("poll", err)
	}
	for i, fd := range fds {
		if fd.Revents == 0 {
			continue
		}
		e := entries[i]
		switch e.list {
		case 0:
			rr = append(rr, e.s)
		case 1:
			ww = append(ww, e.s)
		case 2:
			if fd.Revents&unix.POLLPRI != 0 {
				xx = append(xx, e.s)
			}
		}
	}
	return rr, ww, xx, nil
}

//go:build linux

package echo

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// clientConn is one connection of the epoll client.
type clientConn struct {
	fd   int
	got  int           // bytes of the current reply received so far
	sent time.Duration // when the current request was written, since the run's start
	in   []byte
}

// RunClient drives cfg.Conns connections from one goroutine with level-triggered epoll, keeping
// one request in flight on each, and reports the round trips that complete inside the window
// after cfg.Warmup. One thread and one epoll_wait for many ready sockets keeps the client's cost
// per round trip at about a read and a write, so the server, not the client, should be the
// bottleneck; run it on its own CPU.
func RunClient(cfg ClientConfig) (Result, error) {
	if cfg.Conns <= 0 || cfg.Size <= 0 {
		return Result{}, errors.New("echo: need at least one connection and one byte")
	}
	ta, err := net.ResolveTCPAddr("tcp4", cfg.Addr)
	if err != nil {
		return Result{}, err
	}
	sa := &unix.SockaddrInet4{Port: ta.Port}
	copy(sa.Addr[:], ta.IP.To4())

	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return Result{}, os.NewSyscallError("epoll_create1", err)
	}
	defer unix.Close(epfd)
	conns := make([]clientConn, cfg.Conns)
	defer func() {
		for _, c := range conns {
			if c.fd > 0 {
				unix.Close(c.fd)
			}
		}
	}()
	for i := range conns {
		fd, err := dialRaw(sa)
		if err != nil {
			return Result{}, err
		}
		conns[i] = clientConn{fd: fd, in: make([]byte, cfg.Size)}
		// The event carries the connection's index, not its fd, to find it without a map.
		ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(i)}
		if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
			return Result{}, os.NewSyscallError("epoll_ctl", err)
		}
	}

	msg := bytes.Repeat([]byte{'x'}, cfg.Size)
	start := time.Now()
	send := func(c *clientConn, now time.Duration) error {
		c.sent = now
		for b := msg; len(b) > 0; {
			n, err := unix.Write(c.fd, b)
			if err == unix.EINTR || err == unix.EAGAIN {
				continue // a 64-byte write into an idle socket buffer does not stay blocked
			}
			if err != nil {
				return os.NewSyscallError("write", err)
			}
			b = b[n:]
		}
		return nil
	}
	for i := range conns {
		if err := send(&conns[i], time.Since(start)); err != nil {
			return Result{}, err
		}
	}

	winStart, winEnd := cfg.Warmup, cfg.Warmup+cfg.Duration
	// Preallocate for a generous rate so appends do not reallocate inside the window.
	rtts := make([]uint32, 0, int(cfg.Duration.Seconds()*300e3)+1024)
	evs := make([]unix.EpollEvent, 256)
	for {
		n, err := unix.EpollWait(epfd, evs, 100)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return Result{}, os.NewSyscallError("epoll_wait", err)
		}
		for _, ev := range evs[:n] {
			c := &conns[ev.Fd]
			k, err := unix.Read(c.fd, c.in[c.got:])
			if err == unix.EAGAIN || err == unix.EINTR {
				continue
			}
			if err != nil {
				return Result{}, os.NewSyscallError("read", err)
			}
			if k == 0 {
				return Result{}, fmt.Errorf("echo: server closed connection %d", ev.Fd)
			}
			if c.got += k; c.got < cfg.Size {
				continue
			}
			c.got = 0
			now := time.Since(start)
			if now >= winStart && now < winEnd {
				rtts = append(rtts, uint32(now-c.sent))
			}
			if now < winEnd {
				if err := send(c, now); err != nil {
					return Result{}, err
				}
			}
		}
		if time.Since(start) >= winEnd {
			break
		}
	}
	return summarise(rtts, cfg.Duration), nil
}

// dialRaw makes a blocking connect, then switches the socket to non-blocking with TCP_NODELAY.
func dialRaw(sa unix.Sockaddr) (int, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, os.NewSyscallError("socket", err)
	}
	for {
		err = unix.Connect(fd, sa)
		if err != unix.EINTR {
			break
		}
	}
	if err == nil {
		err = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	}
	if err == nil {
		err = unix.SetNonblock(fd, true)
	}
	if err != nil {
		unix.Close(fd)
		return -1, os.NewSyscallError("connect", err)
	}
	return fd, nil
}

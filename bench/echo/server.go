// Package echo holds the TCP echo servers and clients of the benchmark suite: a server built on
// the loop (SockAccept, then one task per connection doing SockRecvInto and SockSendAll, the
// chapter's coroutine design), a goroutine-per-connection net server to compare with, a
// goroutine client for in-process benchmarks, and (on Linux) a single-threaded epoll client that
// measures request rate and round-trip percentiles over a timed window.
package echo

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"

	"github.com/loopbook/loopbook/loop"
)

// BufSize is the read buffer of every Go server: 16 KiB, as the peers use.
const BufSize = 16 << 10

// Listen opens a non-blocking listening loop.Socket on addr ("127.0.0.1:0" picks a port), with
// SO_REUSEADDR so that back-to-back benchmark rounds can rebind a port still in TIME_WAIT.
func Listen(addr string) (*loop.Socket, error) {
	s, err := loop.NewSocket()
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*loop.Socket, error) {
		s.Close()
		return nil, err
	}
	if err := s.SetReuseAddr(true); err != nil {
		return fail(err)
	}
	if err := s.Bind(addr); err != nil {
		return fail(err)
	}
	if err := s.Listen(1024); err != nil {
		return fail(err)
	}
	if err := s.SetBlocking(false); err != nil {
		return fail(err)
	}
	return s, nil
}

// Acceptor returns the coroutine of the loop server: it accepts connections on ln with
// SockAccept and starts one Conn task for each. It returns when the listener fails or the task is
// cancelled; it never closes ln.
func Acceptor(ln *loop.Socket) loop.Coroutine {
	return func(co *loop.Co) (any, error) {
		l := co.Loop()
		for {
			c, _, err := l.SockAccept(co, ln)
			if err != nil {
				if errors.Is(err, loop.ErrCancelled) {
					return nil, nil
				}
				return nil, err
			}
			// Without TCP_NODELAY a 64-byte reply can sit in Nagle's buffer waiting for an ACK.
			if err := c.SetNoDelay(true); err != nil {
				c.Close()
				continue
			}
			if _, err := l.CreateTask(Conn(c)); err != nil {
				c.Close()
				return nil, err
			}
		}
	}
}

// Conn returns the coroutine serving one connection: receive into a reused buffer, send it all
// back, until the peer closes. Connection errors end the task quietly (a benchmark client resets
// its connections when it exits); the task always closes c.
func Conn(c *loop.Socket) loop.Coroutine {
	return func(co *loop.Co) (any, error) {
		defer c.Close()
		l := co.Loop()
		buf := make([]byte, BufSize)
		for {
			n, err := l.SockRecvInto(co, c, buf)
			if err != nil || n == 0 {
				return nil, nil
			}
			if err := l.SockSendAll(co, c, buf[:n]); err != nil {
				return nil, nil
			}
		}
	}
}

// Server is an echo server running in the background, for in-process benchmarks.
type Server struct {
	// Addr is the address the server listens on.
	Addr string
	stop func() error
}

// Close stops the server and releases its listener; connections still open are dropped.
func (s *Server) Close() error { return s.stop() }

// StartLoop runs the loop echo server on its own goroutine and loop. The loop's reports (tasks
// still pending when it closes) are discarded: a benchmark stops it with connections open.
func StartLoop(addr string) (*Server, error) {
	ln, err := Listen(addr)
	if err != nil {
		return nil, err
	}
	l, err := loop.New(loop.Options{Log: io.Discard})
	if err != nil {
		ln.Close()
		return nil, err
	}
	if _, err := l.CreateTask(Acceptor(ln)); err != nil {
		l.Close()
		ln.Close()
		return nil, err
	}
	done := make(chan error, 1)
	go func() {
		err := l.RunForever()
		// Close on the loop's goroutine: it unwinds the connection tasks, which close their sockets.
		if cerr := l.Close(); err == nil {
			err = cerr
		}
		ln.Close()
		done <- err
	}()
	stop := func() error {
		if _, err := l.CallSoonThreadSafe(l.Stop); err != nil {
			return err
		}
		return <-done
	}
	return &Server{Addr: ln.LocalAddr(), stop: stop}, nil
}

// ServeNet is the comparison server: Go's net package, one goroutine per connection, a 16 KiB
// buffer and TCP_NODELAY (Go's default, set explicitly to match the others). It returns when ln
// is closed.
func ServeNet(ln net.Listener) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			serveNetConn(c)
		}()
	}
}

func serveNetConn(c net.Conn) {
	defer c.Close()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
	buf := make([]byte, BufSize)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// StartNet runs ServeNet in the background. Close stops accepting and waits for the connection
// goroutines, so the caller closes its client connections first.
func StartNet(addr string) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- ServeNet(ln) }()
	stop := func() error {
		if err := ln.Close(); err != nil {
			return err
		}
		return <-done
	}
	return &Server{Addr: ln.Addr().String(), stop: stop}, nil
}

// Start starts the server named kind ("loop" or "net") on addr.
func Start(kind, addr string) (*Server, error) {
	switch kind {
	case "loop":
		return StartLoop(addr)
	case "net":
		return StartNet(addr)
	}
	return nil, fmt.Errorf("echo: unknown server %q (want loop or net)", kind)
}

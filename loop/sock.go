package loop

import (
	"errors"
	"fmt"
)

// The Sock* operations are asyncio's sock_recv, sock_sendall, sock_connect and sock_accept, built
// the way CPython builds them, so the visualiser shows the chapter's steps: try the syscall at
// once; if it would block, create a future, watch the fd with a callback that retries and
// resolves the future, await the future, and stop watching when it is done. The socket must be
// non-blocking.

var errBlockingSocket = errors.New("ValueError: the socket must be non-blocking")

func (l *Loop) checkSock(s *Socket) error {
	if s.closed {
		return sockErr("sock", errBadFd)
	}
	if s.blocking {
		return errBlockingSocket
	}
	s.loop = l
	return nil
}

// watchUntilDone watches fd in direction dir with try until fut is done, then stops watching.
func (l *Loop) watchUntilDone(fut *Future, fd int, dir uint8, try func()) error {
	// As AddReader/AddWriter with WithName(fut.Name), without the option's closure.
	h, err := l.addWatchNamed(fd, dir, try, nil, fut.Name)
	if err != nil {
		return err
	}
	fut.addDone(doneEntry{fn: func(*Future) {
		if h.cancelled {
			return // someone else took the fd over
		}
		l.unwatch(fd, dir, true)
	}})
	return nil
}

// SockRecv reads up to n bytes from s, suspending the coroutine until data or end of stream
// arrives. An empty result means the peer closed the connection.
func (l *Loop) SockRecv(co *Co, s *Socket, n int) ([]byte, error) {
	buf := make([]byte, n)
	k, err := l.SockRecvInto(co, s, buf)
	return buf[:k], err
}

// SockRecvInto reads into buf (asyncio's sock_recv_into); it reuses the caller's buffer.
func (l *Loop) SockRecvInto(co *Co, s *Socket, buf []byte) (int, error) {
	if err := l.checkSock(s); err != nil {
		return 0, err
	}
	n, err := s.RecvInto(buf)
	if !wouldBlock(err) {
		return n, err
	}
	fut := l.createFuture("sock_recv", nil)
	try := func() {
		if fut.Done() {
			return
		}
		n, err := s.RecvInto(buf)
		switch {
		case wouldBlock(err):
			return // spurious: try again next time
		case err != nil:
			fut.SetException(err)
		default:
			fut.SetResult(n)
		}
	}
	if err := l.watchUntilDone(fut, s.fd, pollRead, try); err != nil {
		return 0, err
	}
	v, err := co.Await(fut)
	if err != nil {
		return 0, err
	}
	return v.(int), nil
}

// SockSendAll writes all of data to s, suspending while the socket's buffer is full.
func (l *Loop) SockSendAll(co *Co, s *Socket, data []byte) error {
	if err := l.checkSock(s); err != nil {
		return err
	}
	n, err := s.Send(data)
	if err != nil && !wouldBlock(err) {
		return err
	}
	if n == len(data) {
		return nil
	}
	rest := data[n:]
	fut := l.createFuture("sock_sendall", nil)
	try := func() {
		if fut.Done() {
			return
		}
		n, err := s.Send(rest)
		switch {
		case wouldBlock(err):
			return
		case err != nil:
			fut.SetException(err)
			return
		}
		rest = rest[n:]
		if len(rest) == 0 {
			fut.SetResult(nil)
		}
	}
	if err := l.watchUntilDone(fut, s.fd, pollWrite, try); err != nil {
		return err
	}
	_, err = co.Await(fut)
	return err
}

// SockConnect connects s to "host:port", suspending until the connection is made or refused.
func (l *Loop) SockConnect(co *Co, s *Socket, addr string) error {
	if err := l.checkSock(s); err != nil {
		return err
	}
	err := s.Connect(addr)
	if !wouldBlock(err) {
		return err
	}
	fut := l.createFuture("sock_connect", nil)
	try := func() {
		if fut.Done() {
			return
		}
		if err := s.soError(); err != nil {
			fut.SetException(err)
			return
		}
		fut.SetResult(nil)
	}
	if err := l.watchUntilDone(fut, s.fd, pollWrite, try); err != nil {
		return err
	}
	_, err = co.Await(fut)
	return err
}

// SockAccept waits for a connection on the listening socket s and returns it, non-blocking, with
// the peer's address.
func (l *Loop) SockAccept(co *Co, s *Socket) (*Socket, string, error) {
	if err := l.checkSock(s); err != nil {
		return nil, "", err
	}
	type accepted struct {
		s    *Socket
		addr string
	}
	accept := func() (*Socket, string, error) {
		c, addr, err := s.Accept()
		if err != nil {
			return nil, "", err
		}
		if err := c.SetBlocking(false); err != nil {
			c.Close()
			return nil, "", err
		}
		return c, addr, nil
	}
	c, addr, err := accept()
	if !wouldBlock(err) {
		return c, addr, err
	}
	fut := l.createFuture("sock_accept", nil)
	try := func() {
		if fut.Done() {
			return
		}
		c, addr, err := accept()
		switch {
		case wouldBlock(err):
			return
		case err != nil:
			fut.SetException(err)
		default:
			fut.SetResult(accepted{c, addr})
		}
	}
	if err := l.watchUntilDone(fut, s.fd, pollRead, try); err != nil {
		return nil, "", err
	}
	v, err := co.Await(fut)
	if err != nil {
		return nil, "", err
	}
	a := v.(accepted)
	return a.s, a.addr, nil
}

var errBadFd = fmt.Errorf("socket is closed")

package loop

import (
	"errors"
	"fmt"
	"unsafe"
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

// sockWait is one wait of a Sock* operation: the future the task awaits, the reader or writer
// handle that retries the call, and what the retry needs, in a single allocation. Built from
// separate objects (the future, the handle, the retry closure, a closure for the done callback,
// and the future's extra room and slice for its second done callback, plus the closure that
// schedules the done callback) a wait cost seven allocations; now it costs three: this, the
// retry closure, and the scheduling closure of Future.schedule. An echo server waits once per
// request. The steps and the events they stream stay those of asyncio's sock_recv: create a
// future, add a reader, await, remove the reader when the future is done.
type sockWait struct {
	fut Future // first: sockWaitDone finds the sockWait from the future it is given
	// fut.x: the future gets two done callbacks (sockWaitDone, then the awaiting task's wake-up),
	// so it needs the room futureExtra has; here it costs no allocation of its own.
	x     futureExtra
	more  [1]doneEntry // backing of x.more: the task's wake-up
	watch Handle       // the reader or writer (the handle AddReader/AddWriter would return)
	fd    int
	dir   uint8
	s     *Socket
	buf   []byte // recv: where to read; sendall: what is left to send
}

// newSockWait creates the future of a wait (as CreateFuture, named name) inside a new sockWait.
func (l *Loop) newSockWait(name string, s *Socket) *sockWait {
	sw := &sockWait{s: s, fd: s.fd}
	sw.x.more = sw.more[:0]
	sw.fut.x = &sw.x
	l.initFuture(&sw.fut, name, nil)
	return sw
}

// watchUntilDone watches the wait's fd in direction dir with try until its future is done, then
// stops watching: AddReader/AddWriter (the handle named after the future), and a done callback
// that removes the watcher.
func (l *Loop) watchUntilDone(sw *sockWait, dir uint8, try func()) error {
	sw.dir = dir
	if err := l.addWatchHandle(&sw.watch, sw.fd, dir, try, nil, sw.fut.Name); err != nil {
		return err
	}
	sw.fut.addDone(doneEntry{fn: sockWaitDone}) // a plain function: no closure to allocate
	return nil
}

// sockWaitDone is the done callback of a wait's future (asyncio's _sock_read_done and
// _sock_write_done): it removes the reader or writer, unless someone else took the fd over.
// The removal is deferred to the next poll (see unwatch): the next Sock* operation on the fd
// usually adds it back before then.
func sockWaitDone(f *Future) {
	sw := (*sockWait)(unsafe.Pointer(f)) // f is the first field of its sockWait
	if sw.watch.cancelled {
		return // someone else took the fd over
	}
	f.loop.unwatch(sw.fd, sw.dir, true)
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
	sw := l.newSockWait("sock_recv", s)
	sw.buf = buf
	try := func() {
		fut := &sw.fut
		if fut.Done() {
			return
		}
		n, err := sw.s.RecvInto(sw.buf)
		switch {
		case wouldBlock(err):
			return // spurious: try again next time
		case err != nil:
			fut.SetException(err)
		default:
			fut.SetResult(n)
		}
	}
	if err := l.watchUntilDone(sw, pollRead, try); err != nil {
		return 0, err
	}
	v, err := co.Await(&sw.fut)
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
	sw := l.newSockWait("sock_sendall", s)
	sw.buf = data[n:] // what is left to send
	try := func() {
		fut := &sw.fut
		if fut.Done() {
			return
		}
		n, err := sw.s.Send(sw.buf)
		switch {
		case wouldBlock(err):
			return
		case err != nil:
			fut.SetException(err)
			return
		}
		sw.buf = sw.buf[n:]
		if len(sw.buf) == 0 {
			fut.SetResult(nil)
		}
	}
	if err := l.watchUntilDone(sw, pollWrite, try); err != nil {
		return err
	}
	_, err = co.Await(&sw.fut)
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
	sw := l.newSockWait("sock_connect", s)
	try := func() {
		fut := &sw.fut
		if fut.Done() {
			return
		}
		if err := sw.s.soError(); err != nil {
			fut.SetException(err)
			return
		}
		fut.SetResult(nil)
	}
	if err := l.watchUntilDone(sw, pollWrite, try); err != nil {
		return err
	}
	_, err = co.Await(&sw.fut)
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
	sw := l.newSockWait("sock_accept", s)
	fut := &sw.fut
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
	if err := l.watchUntilDone(sw, pollRead, try); err != nil {
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

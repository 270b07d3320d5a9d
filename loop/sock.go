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
// schedules the done callback) a wait cost seven allocations; now it costs this one: the handle
// runs retry without a closure (see sockWaitOfWatch), and the done callback is scheduled
// without one (see doneHandle). An echo server waits once per request. The steps and the events
// they stream stay those of asyncio's sock_recv: create a future, add a reader, await, remove
// the reader when the future is done.
type sockWait struct {
	fut Future // first: sockWaitDone finds the sockWait from the future it is given
	// fut.x: the future gets two done callbacks (sockWaitDone, then the awaiting task's wake-up),
	// so it needs the room futureExtra has; here it costs no allocation of its own.
	x     futureExtra
	more  [1]doneEntry // backing of x.more: the task's wake-up
	watch Handle       // the reader or writer (the handle AddReader/AddWriter would return)
	fd    int
	dir   uint8
	op    sockOp // what retry tries
	s     *Socket
	buf   []byte // recv: where to read; sendall: what is left to send
}

// sockOp is the operation a sockWait retries when its fd is ready.
type sockOp uint8

const (
	opRecv sockOp = iota
	opSendAll
	opConnect
	opAccept
)

// newSockWait creates the future of a wait for op (as CreateFuture, named name) inside a new
// sockWait.
func (l *Loop) newSockWait(name string, op sockOp, s *Socket) *sockWait {
	sw := &sockWait{s: s, fd: s.fd, op: op}
	sw.x.more = sw.more[:0]
	sw.fut.x = &sw.x
	l.initFuture(&sw.fut, name, nil)
	return sw
}

// sockWaitOfWatch returns the sockWait whose watch h is (h.call is callSock): the loop runs the
// retry through this, as it runs a task's step through taskOfStep. The handle lives inside the
// sockWait, so unsafe.Add stays within the sockWait's own allocation.
func sockWaitOfWatch(h *Handle) *sockWait {
	return (*sockWait)(unsafe.Add(unsafe.Pointer(h), -int(unsafe.Offsetof(sockWait{}.watch))))
}

// watchUntilDone watches the wait's fd in direction dir with retry until its future is done,
// then stops watching: AddReader/AddWriter (the handle named after the future), and a done
// callback that removes the watcher.
func (l *Loop) watchUntilDone(sw *sockWait, dir uint8) error {
	sw.dir = dir
	sw.watch.call = callSock // no fn: the loop calls retry through sockWaitOfWatch
	if err := l.addWatchHandle(&sw.watch, sw.fd, dir, nil, nil, sw.fut.Name); err != nil {
		return err
	}
	sw.fut.addDone(doneEntry{fn: sockWaitDone}) // a plain function: no closure to allocate
	return nil
}

// retry is the reader's or writer's callback (the function CPython's sock_recv and the others
// pass to add_reader or add_writer): try the operation again and, unless it would still block,
// resolve the future with what it did.
func (sw *sockWait) retry() {
	fut := &sw.fut
	if fut.Done() {
		return
	}
	switch sw.op {
	case opRecv:
		n, err := sw.s.RecvInto(sw.buf)
		switch {
		case wouldBlock(err):
			return // spurious: try again next time
		case err != nil:
			fut.SetException(err)
		default:
			fut.SetResult(n)
		}
	case opSendAll:
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
	case opConnect:
		if err := sw.s.soError(); err != nil {
			fut.SetException(err)
			return
		}
		fut.SetResult(nil)
	case opAccept:
		c, addr, err := acceptNonBlocking(sw.s)
		switch {
		case wouldBlock(err):
			return
		case err != nil:
			fut.SetException(err)
		default:
			fut.SetResult(accepted{c, addr})
		}
	}
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
//
// As in asyncio, it first tries the read and waits only when the read would block. It skips
// that try when the loop already knows it would fail: this iteration's poll watched s for
// reading and found nothing, and the peer is not a Socket of this process (so nothing this
// program did since can have sent the data). That is a request/response server's every
// receive after a reply, and the try would be one failed syscall per request. Data that
// arrives from elsewhere after the poll is read one iteration later, which is what uvloop's
// sock_recv, which never tries first, does every time. The steps and events are asyncio's
// either way: a try that fails leaves no trace.
func (l *Loop) SockRecvInto(co *Co, s *Socket, buf []byte) (int, error) {
	if err := l.checkSock(s); err != nil {
		return 0, err
	}
	if !l.readIdle(s.fd) || s.peerInProcess() {
		n, err := s.RecvInto(buf)
		if !wouldBlock(err) {
			return n, err
		}
	}
	sw := l.newSockWait("sock_recv", opRecv, s)
	sw.buf = buf
	if err := l.watchUntilDone(sw, pollRead); err != nil {
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
	sw := l.newSockWait("sock_sendall", opSendAll, s)
	sw.buf = data[n:] // what is left to send
	if err := l.watchUntilDone(sw, pollWrite); err != nil {
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
	sw := l.newSockWait("sock_connect", opConnect, s)
	if err := l.watchUntilDone(sw, pollWrite); err != nil {
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
	c, addr, err := acceptNonBlocking(s)
	if !wouldBlock(err) {
		return c, addr, err
	}
	sw := l.newSockWait("sock_accept", opAccept, s)
	if err := l.watchUntilDone(sw, pollRead); err != nil {
		return nil, "", err
	}
	v, err := co.Await(&sw.fut)
	if err != nil {
		return nil, "", err
	}
	a := v.(accepted)
	return a.s, a.addr, nil
}

// accepted is the result of a sock_accept future: the connection and the peer's address.
type accepted struct {
	s    *Socket
	addr string
}

// acceptNonBlocking accepts a connection on s and makes it non-blocking.
func acceptNonBlocking(s *Socket) (*Socket, string, error) {
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

var errBadFd = fmt.Errorf("socket is closed")

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
// handle that retries the call, the handle of the future's done callback, and what the retry
// needs, in a single allocation. Built from separate objects (the future, the handle, the retry
// closure, a closure for the done callback, and the future's extra room and slice for its second
// done callback, plus the closure that schedules the done callback) a wait cost seven
// allocations. The handle runs retry without a closure (see sockWaitOfWatch), and so does the
// done callback (see Future.schedule).
//
// A task keeps its last sockWait and its next wait of the same kind, from the same owner and
// site, re-arms it instead of allocating (see newSockWait): an echo server waits once per
// request, and that allocation and its garbage collection were a quarter of the loop's own CPU
// time per request. The steps and the events they stream stay those of asyncio's sock_recv:
// create a future, add a reader, await, remove the reader when the future is done. What
// differs is identity: the re-armed future, reader and done callback keep their ids, so a
// task's successive receives show as one future being created, awaited and resolved again.
// Their Infos never change once set, so the event stream's readers, which hold *Info, are not
// affected.
type sockWait struct {
	fut Future // first: the done callback finds the sockWait from the future it is given
	// fut.x: the future gets two done callbacks (sockWaitDone, then the awaiting task's wake-up),
	// so it needs the room futureExtra has; here it costs no allocation of its own.
	x    futureExtra
	more [1]doneEntry // backing of x.more: the task's wake-up
	// The reader or writer (the handle AddReader/AddWriter would return). A re-armed wait uses
	// the other one of the two: the poll that comes before the done callback's run may have
	// queued the previous one again, and that queued run must stay cancelled. Two waits later,
	// that poll's batch is long over.
	watch    [2]Handle
	armed    uint8      // the index of the watch in use
	released bool       // the done callback has run: the loop holds nothing of this wait now
	done     doneHandle // the done callback's handle: sockWaitDone(&fut)
	fd       int
	dir      uint8
	op       sockOp // what retry tries
	s        *Socket
	buf      []byte // recv: where to read; sendall: what is left to send
}

// sockOp is the operation a sockWait retries when its fd is ready.
type sockOp uint8

const (
	opRecv sockOp = iota
	opSendAll
	opConnect
	opAccept
)

// newSockWait returns the sockWait for co's next wait on s: its task's last one re-armed when
// that one may be reused, else a new one whose future is created as CreateFuture does, named name.
func (l *Loop) newSockWait(co *Co, name string, op sockOp, s *Socket) *sockWait {
	t := co.t
	if sw := t.lastWait; sw != nil && sw.reusable(l, op) {
		sw.rearm(l, s)
		return sw
	}
	sw := &sockWait{s: s, fd: s.fd, op: op}
	sw.x.more = sw.more[:0]
	sw.fut.x = &sw.x
	sw.fut.sockWait = true
	l.initFuture(&sw.fut, name, nil)
	t.lastWait = sw
	return sw
}

// reusable reports whether the finished wait sw may serve the next wait of op: the loop is done
// with it (its done callback ran), nobody outside the loop was given its future (see
// Task.Waiter), it succeeded (a failed or cancelled future keeps its error as it is), and the
// Info the new future would get is the one sw's has: same name (op), owner and site.
func (sw *sockWait) reusable(l *Loop, op sockOp) bool {
	f := &sw.fut
	if !sw.released || sw.op != op || f.kept || f.state != stateFinished || f.err != nil ||
		f.Owner != l.owner {
		return false
	}
	site := l.site() // as initInfo finds it
	// Equal in value: the debug mode's sites are new each time, and a hook may make a new *Site
	// for a place it has reported before (the kernel's remembers only the last place).
	return site == f.Site || site != nil && f.Site != nil && *site == *f.Site
}

// rearm makes the finished wait sw a pending one on s, as if newly created (see sockWait).
func (sw *sockWait) rearm(l *Loop, s *Socket) {
	sw.fut.rearm()
	sw.x = futureExtra{more: sw.more[:0]}
	sw.more[0] = doneEntry{}
	sw.armed ^= 1
	sw.released = false
	sw.s, sw.fd, sw.buf = s, s.fd, nil
	l.tr.created(&sw.fut.Info)
}

// sockWaitOfWatch returns the sockWait whose watch h is (h.call is callSock or callSock1, for
// watch[0] or watch[1]): the loop runs the retry through this, as it runs a task's step through
// taskOfStep. The handle lives inside the sockWait, so unsafe.Add stays within the sockWait's
// own allocation.
func sockWaitOfWatch(h *Handle) *sockWait {
	off := unsafe.Offsetof(sockWait{}.watch)
	if h.call == callSock1 {
		off += unsafe.Sizeof(Handle{})
	}
	return (*sockWait)(unsafe.Add(unsafe.Pointer(h), -int(off)))
}

// watchUntilDone adds sw's reader or writer (dir) and the future's done callback that removes
// it: the middle of every Sock* operation that has to wait.
func (l *Loop) watchUntilDone(sw *sockWait, dir uint8) error {
	sw.dir = dir
	h := &sw.watch[sw.armed]
	if h.ID == 0 {
		// No fn: the loop calls retry through sockWaitOfWatch.
		h.call = callSock + callHow(sw.armed)
		if err := l.addWatchHandle(h, sw.fd, dir, nil, nil, sw.fut.Name); err != nil {
			return err
		}
	} else {
		if err := l.check(); err != nil {
			return err
		}
		h.cancelled = false
		if err := l.armWatch(h, sw.fd, dir); err != nil {
			return err
		}
	}
	sw.fut.addDone(doneEntry{}) // the sockWait's own: sockWaitDone, run through sw.done
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
	sw.released = true
	sw.buf = nil // the task keeps its last wait: it should not keep the caller's buffer too
	if sw.watch[sw.armed].cancelled {
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
	sw := l.newSockWait(co, "sock_recv", opRecv, s)
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
	sw := l.newSockWait(co, "sock_sendall", opSendAll, s)
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
	sw := l.newSockWait(co, "sock_connect", opConnect, s)
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
	sw := l.newSockWait(co, "sock_accept", opAccept, s)
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

package loop

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// Socket is a TCP socket over a raw file descriptor, shaped like Python's socket.socket so the
// chapter's blocking and non-blocking listings read the same in Go. It is blocking when created;
// SetBlocking(false) makes its operations return an error matching ErrWouldBlock instead of
// waiting. A Socket is not safe for concurrent use.
type Socket struct {
	fd       int
	blocking bool
	closed   bool
	family   int
	loop     *Loop // the loop whose Sock* operations watched it, told when it closes
	port     int   // its own port, counted in localPorts while open (0: none)
	peer     peerPlace
}

// NewSocket creates a blocking IPv4 TCP socket (socket.socket(AF_INET, SOCK_STREAM)).
func NewSocket() (*Socket, error) { return newSocket(unix.AF_INET) }

// NewSocket6 creates a blocking IPv6 TCP socket.
func NewSocket6() (*Socket, error) { return newSocket(unix.AF_INET6) }

func newSocket(family int) (*Socket, error) {
	fd, err := unix.Socket(family, unix.SOCK_STREAM, 0)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	unix.CloseOnExec(fd)
	return &Socket{fd: fd, blocking: true, family: family}, nil
}

// Fileno returns the socket's file descriptor, for AddReader, AddWriter and Select.
func (s *Socket) Fileno() int { return s.fd }

// Blocking reports whether the socket's operations wait.
func (s *Socket) Blocking() bool { return s.blocking }

// SetBlocking switches the socket between blocking and non-blocking mode (setblocking).
func (s *Socket) SetBlocking(on bool) error {
	if err := unix.SetNonblock(s.fd, !on); err != nil {
		return os.NewSyscallError("fcntl", err)
	}
	s.blocking = on
	return nil
}

// SetNoDelay turns Nagle's algorithm off (TCP_NODELAY) when on is true.
func (s *Socket) SetNoDelay(on bool) error {
	v := 0
	if on {
		v = 1
	}
	return os.NewSyscallError("setsockopt", unix.SetsockoptInt(s.fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, v))
}

// SetReuseAddr sets SO_REUSEADDR, so a server can rebind a port in TIME_WAIT.
func (s *Socket) SetReuseAddr(on bool) error {
	v := 0
	if on {
		v = 1
	}
	return os.NewSyscallError("setsockopt", unix.SetsockoptInt(s.fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, v))
}

// SockError is an error of a socket operation, with Python's errno wording; it matches
// ErrWouldBlock with errors.Is when the operation would have blocked.
type SockError struct {
	Op    string
	Errno unix.Errno
}

func (e *SockError) Error() string {
	if e.wouldBlock() {
		return fmt.Sprintf("BlockingIOError: [Errno %d] %s", int(e.Errno), e.Errno.Error())
	}
	return fmt.Sprintf("%s: [Errno %d] %s", e.Op, int(e.Errno), e.Errno.Error())
}

func (e *SockError) wouldBlock() bool {
	return e.Errno == unix.EAGAIN || e.Errno == unix.EWOULDBLOCK || e.Errno == unix.EINPROGRESS
}

// Is makes errors.Is(err, ErrWouldBlock) true for EAGAIN and EINPROGRESS.
func (e *SockError) Is(target error) bool { return target == ErrWouldBlock && e.wouldBlock() }

// Unwrap exposes the errno, so errors.Is(err, unix.ECONNREFUSED) works.
func (e *SockError) Unwrap() error { return e.Errno }

func sockErr(op string, err error) error {
	if err == nil {
		return nil
	}
	if errno, ok := err.(unix.Errno); ok { // what the unix calls return: no reflection needed
		return &SockError{Op: op, Errno: errno}
	}
	var errno unix.Errno
	if errors.As(err, &errno) {
		return &SockError{Op: op, Errno: errno}
	}
	return fmt.Errorf("%s: %w", op, err)
}

// ResolveAddr turns "host:port" into a socket address, resolving names as the blocking
// socket.connect does. Numeric addresses need no lookup; "localhost" resolves offline.
func ResolveAddr(addr string, family int) (unix.Sockaddr, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return nil, fmt.Errorf("invalid port %q", portStr)
	}
	var ip netip.Addr
	if host == "" {
		if family == unix.AF_INET6 {
			ip = netip.IPv6Unspecified()
		} else {
			ip = netip.IPv4Unspecified()
		}
	} else if ip, err = netip.ParseAddr(host); err != nil {
		ips, lerr := net.DefaultResolver.LookupNetIP(context.Background(), "ip", host)
		if lerr != nil {
			return nil, fmt.Errorf("socket.gaierror: [Errno -2] Name or service not known: %s", host)
		}
		ip = ips[0]
		for _, c := range ips {
			if (family == unix.AF_INET) == c.Unmap().Is4() {
				ip = c
				break
			}
		}
	}
	ip = ip.Unmap()
	if family == unix.AF_INET6 {
		return &unix.SockaddrInet6{Port: port, Addr: ip.As16()}, nil
	}
	if !ip.Is4() {
		return nil, fmt.Errorf("address %s is not IPv4", ip)
	}
	return &unix.SockaddrInet4{Port: port, Addr: ip.As4()}, nil
}

// Connect connects to "host:port". On a non-blocking socket it returns an error matching
// ErrWouldBlock while the connection is in progress (Python's BlockingIOError on connect).
func (s *Socket) Connect(addr string) error {
	sa, err := ResolveAddr(addr, s.family)
	if err != nil {
		return err
	}
	for {
		err = unix.Connect(s.fd, sa)
		if err != unix.EINTR {
			break
		}
	}
	if err == nil || err == unix.EINPROGRESS {
		s.holdPort() // the kernel gave the socket its port when the connection began
	}
	if err == unix.EINPROGRESS && s.blocking {
		return nil
	}
	return sockErr("connect", err)
}

// Bind binds the socket to "host:port" ("127.0.0.1:0" picks a free port).
func (s *Socket) Bind(addr string) error {
	sa, err := ResolveAddr(addr, s.family)
	if err != nil {
		return err
	}
	if err := unix.Bind(s.fd, sa); err != nil {
		return sockErr("bind", err)
	}
	s.holdPort()
	return nil
}

// Listen makes the socket accept connections, with the given backlog.
func (s *Socket) Listen(backlog int) error { return sockErr("listen", unix.Listen(s.fd, backlog)) }

// Accept returns the next connection and the peer's address. The new socket is blocking, as in
// Python.
func (s *Socket) Accept() (*Socket, string, error) {
	for {
		fd, sa, err := unix.Accept(s.fd)
		if err == unix.EINTR || err == unix.ECONNABORTED {
			continue
		}
		if err != nil {
			return nil, "", sockErr("accept", err)
		}
		unix.CloseOnExec(fd)
		c := &Socket{fd: fd, blocking: true, family: s.family}
		if s.port != 0 {
			c.countPort(s.port) // a connection accepted on a port has that port
		} else {
			c.holdPort()
		}
		return c, sockaddrString(sa), nil
	}
}

// Recv reads up to n bytes. An empty result with a nil error means the peer closed the connection.
func (s *Socket) Recv(n int) ([]byte, error) {
	buf := make([]byte, n)
	k, err := s.RecvInto(buf)
	return buf[:k], err
}

// The would-block errors of the calls a loop makes on every Sock* operation are made once: a
// fresh *SockError each time cost an allocation per speculative read.
var (
	errRecvAgain = &SockError{Op: "recv", Errno: unix.EAGAIN}
	errSendAgain = &SockError{Op: "send", Errno: unix.EAGAIN}
)

// wouldBlock is errors.Is(err, ErrWouldBlock), without reflection for the errors Socket returns.
func wouldBlock(err error) bool {
	if e, ok := err.(*SockError); ok {
		return e.wouldBlock()
	}
	return err != nil && errors.Is(err, ErrWouldBlock)
}

// RecvInto reads into buf and returns how many bytes it read (0 at end of stream).
func (s *Socket) RecvInto(buf []byte) (int, error) {
	if rawSockCalls && !s.blocking {
		for {
			n, errno := rawRecv(s.fd, buf)
			switch errno {
			case 0:
				return n, nil
			case unix.EINTR:
				continue
			case unix.EAGAIN:
				return 0, errRecvAgain
			}
			return 0, sockErr("recv", errno)
		}
	}
	for {
		n, err := unix.Read(s.fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, sockErr("recv", err)
		}
		return n, nil
	}
}

// Send writes what it can of b and returns how much that was.
func (s *Socket) Send(b []byte) (int, error) {
	if rawSockCalls && !s.blocking {
		for {
			n, errno := rawSend(s.fd, b)
			switch errno {
			case 0:
				return n, nil
			case unix.EINTR:
				continue
			case unix.EAGAIN:
				return 0, errSendAgain
			}
			return 0, sockErr("send", errno)
		}
	}
	for {
		n, err := unix.SendmsgN(s.fd, b, nil, nil, sendFlags)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, sockErr("send", err)
		}
		return n, nil
	}
}

// SendAll writes all of b; on a blocking socket it waits as long as it takes.
func (s *Socket) SendAll(b []byte) error {
	for len(b) > 0 {
		n, err := s.Send(b)
		if err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// Shutdown closes the writing half (how = unix.SHUT_WR), the reading half, or both.
func (s *Socket) Shutdown(how int) error { return sockErr("shutdown", unix.Shutdown(s.fd, how)) }

// Close closes the socket; closing twice does nothing.
func (s *Socket) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	s.releasePort()
	if s.loop != nil && !s.loop.IsClosed() {
		s.loop.fdClosed(s.fd)
	}
	return sockErr("close", unix.Close(s.fd))
}

// LocalAddr returns the socket's own "host:port" (getsockname).
func (s *Socket) LocalAddr() string {
	sa, err := unix.Getsockname(s.fd)
	if err != nil {
		return ""
	}
	return sockaddrString(sa)
}

// RemoteAddr returns the peer's "host:port" (getpeername).
func (s *Socket) RemoteAddr() string {
	sa, err := unix.Getpeername(s.fd)
	if err != nil {
		return ""
	}
	return sockaddrString(sa)
}

// soError returns the pending socket error (SO_ERROR), as a connect in progress ends with.
func (s *Socket) soError() error {
	v, err := unix.GetsockoptInt(s.fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err != nil {
		return sockErr("getsockopt", err)
	}
	if v != 0 {
		return sockErr("connect", unix.Errno(v))
	}
	return nil
}

func (s *Socket) String() string {
	return fmt.Sprintf("<Socket fd=%d blocking=%t laddr=%s>", s.fd, s.blocking, s.LocalAddr())
}

func sockaddrString(sa unix.Sockaddr) string {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port)).String()
	case *unix.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(a.Addr), uint16(a.Port)).String()
	}
	return ""
}

package loop

import (
	"sync"

	"golang.org/x/sys/unix"
)

// Whether a connection's other end is a Socket of this same process matters to SockRecv: data
// that this process's own steps send arrives at a known moment, and a receive must then see it
// exactly when asyncio's would (see Loop.SockRecvInto). Data from anywhere else arrives when it
// arrives.
//
// The process keeps a count of the TCP ports its Sockets hold as their own end: bound and
// listening sockets, the connections they accept, and connecting sockets (which get a port from
// the kernel when they connect). A connection whose peer's port is among them is taken to be
// in-process. Only ports are compared, not addresses: a coincidence can only make a remote peer
// look local, which costs the optimisation, never the order of events.
var localPorts struct {
	sync.Mutex
	count map[int]int
}

// peerPlace is where a connection's other end lives, once known.
type peerPlace uint8

const (
	peerUnknown   peerPlace = iota
	peerInProcess           // a Socket of this process (or possibly so)
	peerElsewhere           // another process, or a goroutine using package net
)

// holdPort counts s's own port in localPorts, once.
func (s *Socket) holdPort() {
	if s.port != 0 {
		return
	}
	sa, err := unix.Getsockname(s.fd)
	if err != nil {
		return
	}
	s.countPort(sockaddrPort(sa))
}

// countPort counts port as s's own.
func (s *Socket) countPort(port int) {
	if port == 0 {
		return
	}
	localPorts.Lock()
	if localPorts.count == nil {
		localPorts.count = make(map[int]int)
	}
	localPorts.count[port]++
	localPorts.Unlock()
	s.port = port
}

// releasePort undoes holdPort when s closes.
func (s *Socket) releasePort() {
	if s.port == 0 {
		return
	}
	localPorts.Lock()
	if localPorts.count[s.port]--; localPorts.count[s.port] <= 0 {
		delete(localPorts.count, s.port)
	}
	localPorts.Unlock()
	s.port = 0
}

// peerInProcess reports whether s's peer may be a Socket of this process. It asks the kernel
// once per connection; a socket that is not connected yet counts as in-process, uncached.
func (s *Socket) peerInProcess() bool {
	if s.peer == peerUnknown {
		sa, err := unix.Getpeername(s.fd)
		if err != nil {
			return true
		}
		port := sockaddrPort(sa)
		localPorts.Lock()
		local := localPorts.count[port] > 0
		localPorts.Unlock()
		s.peer = peerElsewhere
		if local {
			s.peer = peerInProcess
		}
	}
	return s.peer == peerInProcess
}

func sockaddrPort(sa unix.Sockaddr) int {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return a.Port
	case *unix.SockaddrInet6:
		return a.Port
	}
	return 0
}

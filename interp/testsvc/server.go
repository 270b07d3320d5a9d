package testsvc

import (
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// ioTimeout bounds every read and write a service makes, so that a client that connects and
// goes silent cannot hold a goroutine for longer than a lesson lasts.
const ioTimeout = 30 * time.Second

// Server is one running service. Its methods are safe for concurrent use.
type Server struct {
	kind   string
	ln     net.Listener
	handle func(c net.Conn)

	done      chan struct{} // closed by Close
	closeOnce sync.Once
	wg        sync.WaitGroup // the accept loop and every connection

	mu    sync.Mutex
	conns map[net.Conn]struct{}

	accepted atomic.Int64
}

// all is every server started and not yet closed, for CloseAll.
var all struct {
	sync.Mutex
	servers map[*Server]struct{}
}

// start listens on a free port of 127.0.0.1 and serves each connection with handle on its own
// goroutine. The handler need not close the connection: start does when it returns.
func start(kind string, handle func(s *Server, c net.Conn)) *Server {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		panic("testsvc: " + kind + ": " + err.Error())
	}
	s := &Server{kind: kind, ln: ln, done: make(chan struct{}), conns: map[net.Conn]struct{}{}}
	s.handle = func(c net.Conn) { handle(s, c) }
	all.Lock()
	if all.servers == nil {
		all.servers = map[*Server]struct{}{}
	}
	all.servers[s] = struct{}{}
	all.Unlock()
	s.wg.Add(1)
	go s.accept()
	return s
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			select {
			case <-s.done:
				return
			default:
			}
			// A transient failure (out of fds for a moment): back off rather than spin.
			if !s.sleep(10 * time.Millisecond) {
				return
			}
			continue
		}
		s.accepted.Add(1)
		s.mu.Lock()
		select {
		case <-s.done:
			s.mu.Unlock()
			c.Close()
			return
		default:
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			defer func() {
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
				c.Close()
			}()
			c.SetDeadline(time.Now().Add(ioTimeout))
			s.handle(c)
		}()
	}
}

// sleep waits d, or until the server is closed; it reports whether the server is still open.
func (s *Server) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.done:
		return false
	}
}

// Addr returns the "127.0.0.1:port" the server listens on: what a client connects to.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Kind returns the service's name: "slow-http", "echo", "drip" or "close-early".
func (s *Server) Kind() string { return s.kind }

// Connections returns how many connections the server has accepted so far.
func (s *Server) Connections() int { return int(s.accepted.Load()) }

// String describes the server, e.g. "echo server on 127.0.0.1:41327".
func (s *Server) String() string { return s.kind + " server on " + s.Addr() }

// Close stops the server: it stops listening, hangs up on the clients it is serving, and
// returns once every goroutine of the server has ended. Closing twice does nothing.
func (s *Server) Close() error {
	var err error
	s.closeOnce.Do(func() {
		s.mu.Lock()
		close(s.done)
		for c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		err = s.ln.Close()
		s.wg.Wait()
		all.Lock()
		delete(all.servers, s)
		all.Unlock()
	})
	return err
}

// CloseAll closes every server started and not yet closed, and returns how many it closed.
func CloseAll() int {
	all.Lock()
	list := make([]*Server, 0, len(all.servers))
	for s := range all.servers {
		list = append(list, s)
	}
	all.Unlock()
	for _, s := range list {
		s.Close()
	}
	return len(list)
}

package testsvc

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// Load is what EchoClients measured.
type Load struct {
	Clients int           // clients started
	Replies int           // echoes received intact
	Errors  int           // clients that failed (refused, cut off, wrong echo, timed out)
	Elapsed time.Duration // from the first connect to the last client done
	// LongestWait is the longest time a client waited for its first echo, from its connect:
	// how long the unluckiest client queued behind the others.
	LongestWait time.Duration
	FirstError  string // the first failure, if any
}

// String summarises the run, e.g. "10 clients, 30 echoes, 0 errors in 312ms (longest wait 2ms)".
func (l Load) String() string {
	s := fmt.Sprintf("%d clients, %d echoes, %d errors in %v (longest wait %v)",
		l.Clients, l.Replies, l.Errors, l.Elapsed.Round(time.Millisecond), l.LongestWait.Round(time.Millisecond))
	if l.FirstError != "" {
		s += "; first error: " + l.FirstError
	}
	return s
}

// EchoClients connects clients blocking clients to the echo server at addr, all at once, each
// on its own goroutine. Each client sends rounds short messages, one at a time, reads each echo
// back and checks it, pausing between rounds (a client that thinks between requests), then
// closes. It returns when every client is done and says how long that took.
//
// It blocks, so a cell calls it off the loop — through L.RunInExecutor — when the server it
// measures runs on the loop.
func EchoClients(addr string, clients, rounds int, pause time.Duration) Load {
	var (
		mu  sync.Mutex
		res = Load{Clients: clients}
		wg  sync.WaitGroup
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		res.Errors++
		if res.FirstError == "" {
			res.FirstError = err.Error()
		}
	}
	begin := time.Now()
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			c, err := net.DialTimeout("tcp", addr, ioTimeout)
			if err != nil {
				fail(err)
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(ioTimeout))
			got := make([]byte, 64)
			for r := range rounds {
				if r > 0 {
					time.Sleep(pause)
				}
				msg := []byte(fmt.Sprintf("client %d, round %d\n", i, r))
				if _, err := c.Write(msg); err != nil {
					fail(fmt.Errorf("client %d: %w", i, err))
					return
				}
				if _, err := io.ReadFull(c, got[:len(msg)]); err != nil {
					fail(fmt.Errorf("client %d: %w", i, err))
					return
				}
				if !bytes.Equal(got[:len(msg)], msg) {
					fail(fmt.Errorf("client %d: echo %q, want %q", i, got[:len(msg)], msg))
					return
				}
				mu.Lock()
				res.Replies++
				if r == 0 {
					res.LongestWait = max(res.LongestWait, time.Since(start))
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(begin)
	return res
}

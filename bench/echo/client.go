package echo

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"sync"
)

// Dial opens conns TCP connections to addr with TCP_NODELAY.
func Dial(addr string, conns int) ([]net.Conn, error) {
	cs := make([]net.Conn, 0, conns)
	for i := 0; i < conns; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			CloseAll(cs)
			return nil, err
		}
		c.(*net.TCPConn).SetNoDelay(true)
		cs = append(cs, c)
	}
	return cs, nil
}

// CloseAll closes every connection.
func CloseAll(cs []net.Conn) {
	for _, c := range cs {
		c.Close()
	}
}

// PingPong performs total round trips of size-byte messages spread over the connections, one
// goroutine per connection with one request in flight each, and checks every echo. It is the
// client of the in-process go test benchmark, where b.N fixes the amount of work.
func PingPong(cs []net.Conn, size, total int) error {
	var wg sync.WaitGroup
	errs := make(chan error, len(cs))
	for i, c := range cs {
		n := total / len(cs)
		if i < total%len(cs) {
			n++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := pingPongConn(c, size, n); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

func pingPongConn(c net.Conn, size, n int) error {
	msg := bytes.Repeat([]byte{'x'}, size)
	in := make([]byte, size)
	for i := 0; i < n; i++ {
		if _, err := c.Write(msg); err != nil {
			return err
		}
		if _, err := io.ReadFull(c, in); err != nil {
			return err
		}
		if !bytes.Equal(in, msg) {
			return fmt.Errorf("echo: reply differs from request")
		}
	}
	return nil
}

package testsvc_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/loopbook/loopbook/interp/testsvc"
)

func dial(t *testing.T, s *testsvc.Server) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return c
}

// get sends a raw request and parses the reply with net/http, the strictest reader at hand.
func get(t *testing.T, s *testsvc.Server, request string) (*http.Response, string) {
	t.Helper()
	c := dial(t, s)
	if _, err := io.WriteString(c, request); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("reply to %q: %v", request, err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("body of the reply to %q: %v", request, err)
	}
	return resp, string(body)
}

func TestSlowHTTP(t *testing.T) {
	s := testsvc.SlowHTTP(50 * time.Millisecond)
	defer s.Close()
	if !strings.HasPrefix(s.Addr(), "127.0.0.1:") {
		t.Fatalf("Addr = %q, want 127.0.0.1:port", s.Addr())
	}

	t.Run("OK", func(t *testing.T) {
		resp, body := get(t, s, "GET /hello HTTP/1.0\r\nHost: "+s.Addr()+"\r\n\r\n")
		if resp.StatusCode != 200 || resp.ContentLength != int64(len(body)) {
			t.Fatalf("got status %d, Content-Length %d, body %q", resp.StatusCode, resp.ContentLength, body)
		}
		if want := "waited 50ms before answering GET /hello\n"; body != want {
			t.Fatalf("body %q, want %q", body, want)
		}
	})
	t.Run("DelayQuery", func(t *testing.T) {
		_, body := get(t, s, "GET /?delay=1ms HTTP/1.1\r\n\r\n")
		if want := "waited 1ms before answering GET /?delay=1ms\n"; body != want {
			t.Fatalf("body %q, want %q", body, want)
		}
	})
	t.Run("ErrBadHeader", func(t *testing.T) {
		resp, body := get(t, s, "GET / HTTP/1.0\r\nHost "+s.Addr()+"\r\n\r\n")
		if resp.StatusCode != 400 || !strings.Contains(body, "malformed header line") {
			t.Fatalf("got %d %q, want 400 about the header", resp.StatusCode, body)
		}
	})
	t.Run("ErrBadRequestLine", func(t *testing.T) {
		resp, _ := get(t, s, "GET /\r\n\r\n")
		if resp.StatusCode != 400 {
			t.Fatalf("got %d, want 400", resp.StatusCode)
		}
	})
	t.Run("ErrBadDelay", func(t *testing.T) {
		resp, _ := get(t, s, "GET /?delay=soon HTTP/1.0\r\n\r\n")
		if resp.StatusCode != 400 {
			t.Fatalf("got %d, want 400", resp.StatusCode)
		}
	})
	t.Run("Concurrent", func(t *testing.T) {
		// Ten requests of 50 ms each are served side by side: all of them complete, and the
		// server counted every connection. (No timing assertion: machines are noisy.)
		before := s.Connections()
		done := make(chan string)
		for range 10 {
			go func() {
				_, body := get(t, s, "GET / HTTP/1.0\r\n\r\n")
				done <- body
			}()
		}
		for range 10 {
			if body := <-done; !strings.HasPrefix(body, "waited 50ms") {
				t.Errorf("body %q", body)
			}
		}
		if got := s.Connections() - before; got != 10 {
			t.Fatalf("Connections grew by %d, want 10", got)
		}
	})
}

func TestEcho(t *testing.T) {
	s := testsvc.Echo()
	defer s.Close()
	c := dial(t, s)
	for _, msg := range []string{"hello\n", strings.Repeat("x", 100000)} {
		if _, err := io.WriteString(c, msg); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, len(msg))
		if _, err := io.ReadFull(c, got); err != nil {
			t.Fatal(err)
		}
		if string(got) != msg {
			t.Fatalf("echo of %d bytes differs", len(msg))
		}
	}
	c.(*net.TCPConn).CloseWrite()
	if n, err := c.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("after CloseWrite: read %d, %v; want EOF", n, err)
	}
}

func TestDrip(t *testing.T) {
	s := testsvc.Drip("abc", 10*time.Millisecond)
	defer s.Close()
	c := dial(t, s)
	var reads []string
	buf := make([]byte, 10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			reads = append(reads, string(buf[:n]))
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := strings.Join(reads, ""); got != "abc" {
		t.Fatalf("got %q, want %q", got, "abc")
	}
	if len(reads) != 3 {
		// Each byte is written separately, 10 ms apart; reads may still merge on a very slow
		// machine, so this is only logged.
		t.Logf("reads %q: the bytes arrived in %d pieces", reads, len(reads))
	}
}

func TestCloseEarly(t *testing.T) {
	s := testsvc.CloseEarly()
	defer s.Close()
	c := dial(t, s)
	io.WriteString(c, "GET / HTTP/1.0\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("reading the body: %v, want io.ErrUnexpectedEOF", err)
	}
	if resp.ContentLength != 100 || len(body) >= 100 || len(body) == 0 {
		t.Fatalf("Content-Length %d, body %d bytes: want a body cut short of 100", resp.ContentLength, len(body))
	}
}

func TestClose(t *testing.T) {
	t.Run("HangsUpAndStopsListening", func(t *testing.T) {
		s := testsvc.SlowHTTP(time.Hour)
		c := dial(t, s)
		io.WriteString(c, "GET / HTTP/1.0\r\n\r\n")
		done := make(chan error)
		go func() {
			_, err := c.Read(make([]byte, 1))
			done <- err
		}()
		for s.Connections() == 0 {
			time.Sleep(time.Millisecond)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err == nil {
			t.Fatal("the client read data from a closed server")
		}
		if c, err := net.Dial("tcp", s.Addr()); err == nil {
			c.Close()
			t.Fatal("a closed server still accepts connections")
		}
		if err := s.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
	})
	t.Run("CloseAll", func(t *testing.T) {
		testsvc.CloseAll()
		a, b := testsvc.Echo(), testsvc.Drip("x", time.Hour)
		if n := testsvc.CloseAll(); n != 2 {
			t.Fatalf("CloseAll closed %d, want 2", n)
		}
		for _, s := range []*testsvc.Server{a, b} {
			if c, err := net.Dial("tcp", s.Addr()); err == nil {
				c.Close()
				t.Errorf("%s still accepts connections", s)
			}
		}
		if n := testsvc.CloseAll(); n != 0 {
			t.Fatalf("second CloseAll closed %d, want 0", n)
		}
	})
}

func TestEchoClients(t *testing.T) {
	s := testsvc.Echo()
	defer s.Close()
	got := testsvc.EchoClients(s.Addr(), 5, 3, time.Millisecond)
	if got.Clients != 5 || got.Replies != 15 || got.Errors != 0 {
		t.Fatalf("got %+v, want 5 clients, 15 echoes, no errors", got)
	}
	if !strings.HasPrefix(got.String(), "5 clients, 15 echoes, 0 errors in ") {
		t.Fatalf("String() = %q", got.String())
	}

	t.Run("ErrRefused", func(t *testing.T) {
		gone := testsvc.Echo()
		addr := gone.Addr()
		gone.Close()
		got := testsvc.EchoClients(addr, 2, 1, 0)
		if got.Errors != 2 || got.FirstError == "" || got.Replies != 0 {
			t.Fatalf("got %+v, want 2 errors", got)
		}
	})
	t.Run("ErrNotAnEcho", func(t *testing.T) {
		d := testsvc.Drip("nonsense that is no echo at all\n", 0)
		defer d.Close()
		got := testsvc.EchoClients(d.Addr(), 1, 1, 0)
		if got.Errors != 1 || got.Replies != 0 {
			t.Fatalf("got %+v, want 1 error", got)
		}
	})
}

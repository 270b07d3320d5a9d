package testsvc

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"time"
)

// maxRequest bounds the request head SlowHTTP and CloseEarly read.
const maxRequest = 64 << 10

// SlowHTTP starts an HTTP/1.0 server that answers every request after delay: a stand-in for a
// slow web service. It reads the request head, waits, then replies "200 OK" with a plain-text
// body, a Content-Length, and closes the connection (HTTP/1.0 style: the end of the reply is
// also the end of the stream). The body names the wait and the request, for example
// "waited 2s before answering GET /\n". A target with a delay query (/?delay=300ms) waits that
// long instead; a malformed request gets "400 Bad Request" without waiting.
func SlowHTTP(delay time.Duration) *Server {
	return start("slow-http", func(s *Server, c net.Conn) {
		method, target, err := readRequest(c)
		if err != nil {
			if errors.Is(err, errBadRequest) {
				writeReply(c, "400 Bad Request", err.Error()+"\n")
			}
			return
		}
		d := delay
		if u, perr := url.ParseRequestURI(target); perr == nil {
			if v := u.Query().Get("delay"); v != "" {
				pd, perr := time.ParseDuration(v)
				if perr != nil || pd < 0 {
					writeReply(c, "400 Bad Request", fmt.Sprintf("bad delay %q\n", v))
					return
				}
				d = pd
			}
		}
		if !s.sleep(d) {
			return
		}
		writeReply(c, "200 OK", fmt.Sprintf("waited %v before answering %s %s\n", d, method, target))
	})
}

// Echo starts a server that sends back every byte it receives, until the client closes its
// side (then the server closes too).
func Echo() *Server {
	return start("echo", func(s *Server, c net.Conn) {
		buf := make([]byte, 16<<10)
		for {
			n, err := c.Read(buf)
			if n > 0 {
				c.SetDeadline(time.Now().Add(ioTimeout))
				if _, werr := c.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	})
}

// Drip starts a server that, on every connection, sends text one byte at a time, waiting every
// before each byte, and then closes the connection. It does not wait for a request. A client
// reading it sees the text arrive in pieces: a read returns what has arrived, not what was
// asked for.
func Drip(text string, every time.Duration) *Server {
	return start("drip", func(s *Server, c net.Conn) {
		for i := 0; i < len(text); i++ {
			if !s.sleep(every) {
				return
			}
			if _, err := c.Write([]byte{text[i]}); err != nil {
				return
			}
		}
	})
}

// closeEarlyBody is what CloseEarly sends of a body it announces as longer.
const closeEarlyBody = "This reply stops in the mid"

// closeEarlyLength is the Content-Length CloseEarly announces.
const closeEarlyLength = 100

// CloseEarly starts a server that reads the request head, sends a reply whose Content-Length
// announces 100 bytes of body, sends only the first 27, and closes the connection. A client
// that reads until the end of the stream gets a reply cut short and must check the length to
// notice. A client that closes or sends nothing is simply hung up on.
func CloseEarly() *Server {
	return start("close-early", func(s *Server, c net.Conn) {
		if _, _, err := readRequest(c); err != nil && !errors.Is(err, errBadRequest) {
			return
		}
		fmt.Fprintf(c, "HTTP/1.0 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\n\r\n%s",
			closeEarlyLength, closeEarlyBody)
	})
}

var errBadRequest = errors.New("bad request")

// badRequest is an error that matches errBadRequest and says what was wrong.
type badRequest string

func (e badRequest) Error() string        { return string(e) }
func (e badRequest) Is(target error) bool { return target == errBadRequest }

// readRequest reads an HTTP/1.x request head up to its blank line and returns the method and
// target. It checks what a server must: a request line of three parts ending in HTTP/1.x, and
// header lines of the form "Name: value".
func readRequest(c net.Conn) (method, target string, err error) {
	r := bufio.NewReader(io.LimitReader(c, maxRequest))
	line, err := r.ReadString('\n')
	if err != nil {
		return "", "", err
	}
	parts := strings.Fields(line)
	if len(parts) != 3 || !strings.HasPrefix(parts[2], "HTTP/1.") || !strings.HasSuffix(line, "\r\n") {
		return "", "", badRequest(fmt.Sprintf("malformed request line %q", line))
	}
	method, target = parts[0], parts[1]
	for {
		h, err := r.ReadString('\n')
		if err != nil {
			return "", "", err
		}
		if h == "\r\n" || h == "\n" {
			return method, target, nil
		}
		name, _, ok := strings.Cut(h, ":")
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return "", "", badRequest(fmt.Sprintf("malformed header line %q", h))
		}
	}
}

// writeReply writes a complete HTTP/1.0 reply with a plain-text body.
func writeReply(c net.Conn, status, body string) {
	fmt.Fprintf(c, "HTTP/1.0 %s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\n\r\n%s",
		status, len(body), body)
}

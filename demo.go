package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/loopbook/loopbook/kernel"
	"github.com/loopbook/loopbook/loop"
)

// Main wires the binary. Tests drive Run directly.
type Main struct {
	Stdout io.Writer
	Stderr io.Writer
	// Kernel is how kernels are started; the zero value starts this executable.
	Kernel kernel.Config
}

// Run dispatches on the subcommand.
func (m *Main) Run(ctx context.Context, args []string) error {
	if m.Stderr == nil {
		m.Stderr = m.Stdout
	}
	if len(args) > 0 {
		switch args[0] {
		case "run":
			return m.runNotebook(ctx, args[1:])
		case "demo":
			return m.demo(ctx, args[1:])
		case "healthcheck":
			return m.healthcheck(ctx, args[1:])
		}
	}
	return m.serve(ctx, args)
}

// demo runs the chapter's payoff: a local HTTP server that answers after a delay, and n
// coroutines on one loop each fetching from it through non-blocking sockets.
func (m *Main) demo(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("loopbook", flag.ContinueOnError)
	fs.SetOutput(m.Stdout)
	n := fs.Int("n", 3, "number of concurrent requests")
	delay := fs.Duration("delay", 2*time.Second, "how long the local server takes to answer")
	if err := fs.Parse(args); err != nil {
		return err
	}
	addr, shutdown, err := slowServer(*delay)
	if err != nil {
		return err
	}
	defer shutdown()

	l, err := loop.New()
	if err != nil {
		return err
	}
	defer l.Close()
	go func() { // Ctrl-C stops the loop from another goroutine, the only safe way in.
		<-ctx.Done()
		l.CallSoonThreadSafe(l.Stop)
	}()
	fmt.Fprintf(m.Stdout, "%d requests to a server that takes %s each, on one event loop:\n", *n, *delay)
	start := l.Time()
	var fetches []loop.Awaitable
	for i := range *n {
		fetches = append(fetches, loop.Coroutine(func(co *loop.Co) (any, error) {
			return fetch(co, addr, i)
		}))
	}
	gathered, err := l.Gather(fetches...)
	if err != nil {
		return err
	}
	res, err := l.RunUntilComplete(gathered)
	if err != nil {
		return err
	}
	for _, line := range res.([]any) {
		fmt.Fprintln(m.Stdout, " ", line)
	}
	fmt.Fprintf(m.Stdout, "all %d done in %.2f s (one at a time would take %.0f s)\n",
		*n, (l.Time() - start).Seconds(), (time.Duration(*n) * *delay).Seconds())
	return nil
}

// fetch sends one HTTP request with the loop's socket operations and returns the status line.
func fetch(co *loop.Co, addr string, i int) (any, error) {
	l := co.Loop()
	s, err := loop.NewSocket()
	if err != nil {
		return nil, err
	}
	defer s.Close()
	if err := s.SetBlocking(false); err != nil {
		return nil, err
	}
	if err := l.SockConnect(co, s, addr); err != nil {
		return nil, err
	}
	req := fmt.Sprintf("GET /%d HTTP/1.0\r\nHost: %s\r\n\r\n", i, addr)
	if err := l.SockSendAll(co, s, []byte(req)); err != nil {
		return nil, err
	}
	var reply []byte
	for {
		b, err := l.SockRecv(co, s, 4096)
		if err != nil {
			return nil, err
		}
		if len(b) == 0 {
			break
		}
		reply = append(reply, b...)
	}
	line := string(reply)
	for j := range line {
		if line[j] == '\r' {
			line = line[:j]
			break
		}
	}
	return fmt.Sprintf("request %d: %s at %.2f s", i, line, l.Seconds()), nil
}

// slowServer serves HTTP on 127.0.0.1, answering every request after delay.
func slowServer(delay time.Duration) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(delay)
		fmt.Fprintf(w, "hello from %s\n", r.URL.Path)
	})}
	go srv.Serve(ln)
	return ln.Addr().String(), func() { srv.Close() }, nil
}

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/loopbook/loopbook/notebooks"
	"github.com/loopbook/loopbook/server"
)

// serve is `loopbook`: the notebook server, on 127.0.0.1 unless told otherwise.
func (m *Main) serve(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("loopbook", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	addr := fs.String("addr", "127.0.0.1:8888", "listen address (host:port); a non-loopback host gets an access token")
	dir := fs.String("notebooks", defaultNotebookDir(), "directory of your notebooks")
	idle := fs.Duration("idle", time.Hour, "stop a notebook's kernel after this long without activity (0: never)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unknown command %q (commands: run, demo; see -h)", fs.Arg(0))
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("%s is already in use: stop what listens there, or choose another port with -addr 127.0.0.1:PORT", *addr)
		}
		return err
	}
	cfg := server.Config{NotebookDir: *dir, Shipped: notebooks.FS(), Kernel: m.Kernel, IdleTimeout: *idle}
	host, _, _ := net.SplitHostPort(ln.Addr().String())
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		cfg.Token = server.NewToken()
	}
	srv, err := server.New(cfg)
	if err != nil {
		ln.Close()
		return err
	}
	url := "http://" + ln.Addr().String() + "/"
	if cfg.Token != "" {
		url += "?token=" + cfg.Token
	}
	fmt.Fprintf(m.Stdout, "Loopbook is serving %s\n  open %s\n", *dir, url)
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		srv.Close()
		return err
	case <-ctx.Done():
	}
	fmt.Fprintln(m.Stdout, "saving and stopping kernels…")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	hs.Shutdown(shutdownCtx)
	return srv.Close()
}

// defaultNotebookDir is ~/Loopbook, or ./Loopbook without a home directory.
func defaultNotebookDir() string {
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, "Loopbook")
	}
	return "Loopbook"
}

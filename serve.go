package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/loopbook/loopbook/notebooks"
	"github.com/loopbook/loopbook/server"
)

// serve is `loopbook`: the notebook server, on 127.0.0.1 unless told otherwise.
func (m *Main) serve(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("loopbook", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	addr := fs.String("addr", defaultAddr(), "listen address (host:port; $LOOPBOOK_ADDR); a non-loopback host requires an access token")
	dir := fs.String("notebooks", defaultNotebookDir(), "directory of your notebooks")
	idle := fs.Duration("idle", time.Hour, "stop a notebook's kernel after this long without activity (0: never)")
	token := fs.String("token", os.Getenv("LOOPBOOK_TOKEN"), "access token ($LOOPBOOK_TOKEN; at least 16 characters); default: none on loopback, a random one elsewhere")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unknown command %q (commands: run, demo, healthcheck; see -h)", fs.Arg(0))
	}
	if *token != "" && len(*token) < minTokenLen {
		return fmt.Errorf("the access token must have at least %d characters (try: openssl rand -hex 24)", minTokenLen)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("%s is already in use: stop what listens there, or choose another port with -addr 127.0.0.1:PORT", *addr)
		}
		return err
	}
	cfg := server.Config{NotebookDir: *dir, Shipped: notebooks.FS(), Kernel: m.Kernel, IdleTimeout: *idle, Token: *token}
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	ip := net.ParseIP(host)
	if cfg.Token == "" && (ip == nil || !ip.IsLoopback()) {
		cfg.Token = server.NewToken()
	}
	srv, err := server.New(cfg)
	if err != nil {
		ln.Close()
		return err
	}
	// On all interfaces (0.0.0.0, as in a container), print the address a browser on this
	// machine (or on the host of a container's published port) opens.
	shown := ln.Addr().String()
	if ip != nil && ip.IsUnspecified() {
		shown = net.JoinHostPort("127.0.0.1", port)
	}
	url := "http://" + shown + "/"
	if cfg.Token != "" {
		url += "?token=" + cfg.Token
	}
	fmt.Fprintf(m.Stdout, "Loopbook is serving %s on %s\n  open %s\n", *dir, ln.Addr(), url)
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

// minTokenLen is the shortest access token accepted: a guessable token is no protection.
const minTokenLen = 16

// defaultAddr is $LOOPBOOK_ADDR, else 127.0.0.1:8888. The container image sets
// LOOPBOOK_ADDR=0.0.0.0:8888, so that its health check probes the port the server listens on.
func defaultAddr() string {
	if a := os.Getenv("LOOPBOOK_ADDR"); a != "" {
		return a
	}
	return "127.0.0.1:8888"
}

// healthcheck is `loopbook healthcheck [-addr HOST:PORT]`: it asks a running server's
// /healthz and fails unless the answer is 200 ok. It is the container's HEALTHCHECK (the
// image has no curl); /healthz needs no token. An unspecified host (0.0.0.0, ::) is probed on
// 127.0.0.1.
func (m *Main) healthcheck(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("loopbook healthcheck", flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	addr := fs.String("addr", defaultAddr(), "the server's listen address (host:port; $LOOPBOOK_ADDR)")
	timeout := fs.Duration("timeout", 3*time.Second, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	host, port, err := net.SplitHostPort(*addr)
	if err != nil {
		return fmt.Errorf("healthcheck: -addr %q: %v", *addr, err)
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	url := "http://" + net.JoinHostPort(host, port) + "/healthz"
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != "ok" {
		return fmt.Errorf("healthcheck: %s answered %s %q", url, resp.Status, strings.TrimSpace(string(body)))
	}
	fmt.Fprintln(m.Stdout, "ok")
	return nil
}

// defaultNotebookDir is ~/Loopbook, or ./Loopbook without a home directory.
func defaultNotebookDir() string {
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, "Loopbook")
	}
	return "Loopbook"
}

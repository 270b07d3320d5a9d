package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/loopbook/loopbook/ipynb"
)

// syncBuffer is a bytes.Buffer safe for a server goroutine writing and a test reading.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServe runs `loopbook ARGS…` (the server) until the test ends and returns the URL it
// printed and the address it listens on.
func startServe(t *testing.T, args ...string) (url, addr string) {
	t.Helper()
	return startServeIn(t, t.TempDir(), args...)
}

// startServeIn is startServe with the notebooks in dir, kernels from the test binary.
func startServeIn(t *testing.T, dir string, args ...string) (url, addr string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- (&Main{Stdout: out, Kernel: testKernel()}).Run(ctx, append([]string{"-notebooks", dir}, args...))
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	re := regexp.MustCompile(`on (\S+)\n  open (http://\S+)`)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			return m[2], m[1]
		}
		select {
		case err := <-done:
			t.Fatalf("the server ended: %v\n%s", err, out.String())
		default:
		}
	}
	t.Fatalf("the server printed no URL:\n%s", out.String())
	return "", ""
}

// `loopbook healthcheck` succeeds against a running server (also one that requires a token,
// listening on all interfaces as in the container) and fails when nothing answers.
func TestHealthcheck(t *testing.T) {
	_, addr := startServe(t, "-addr", "127.0.0.1:0")
	var out bytes.Buffer
	if err := (&Main{Stdout: &out}).Run(context.Background(), []string{"healthcheck", "-addr", addr}); err != nil || out.String() != "ok\n" {
		t.Errorf("healthcheck of a running server: %v, printed %q", err, out.String())
	}

	// On 0.0.0.0 the server requires a token; the probe goes to 127.0.0.1 and needs none.
	url, addr := startServe(t, "-addr", "0.0.0.0:0")
	if !strings.HasPrefix(addr, "0.0.0.0:") && !strings.HasPrefix(addr, "[::]:") {
		t.Fatalf("listening on %s, want all interfaces", addr)
	}
	_, port, _ := strings.Cut(strings.TrimPrefix(addr, "[::]"), ":")
	if !regexp.MustCompile(`^http://127\.0\.0\.1:` + port + `/\?token=[0-9a-f]{48}$`).MatchString(url) {
		t.Errorf("printed URL %q: want http://127.0.0.1:%s/?token=<48 hex digits>", url, port)
	}
	t.Setenv("LOOPBOOK_ADDR", "0.0.0.0:"+port) // as the image sets it: healthcheck's default
	out.Reset()
	if err := (&Main{Stdout: &out}).Run(context.Background(), []string{"healthcheck"}); err != nil {
		t.Errorf("healthcheck with LOOPBOOK_ADDR: %v", err)
	}
	resp, err := http.Get(strings.Split(url, "?")[0] + "api/notebooks")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("without the token: %s, want 401", resp.Status)
	}

	// Nothing listens: an error.
	err = (&Main{Stdout: &out}).Run(context.Background(), []string{"healthcheck", "-addr", "127.0.0.1:1", "-timeout", "2s"})
	if err == nil || !strings.Contains(err.Error(), "healthcheck") {
		t.Errorf("healthcheck of nothing: %v, want an error", err)
	}
}

// A fixed token from $LOOPBOOK_TOKEN (how a container is given a known one) replaces the random
// one; a short one is refused.
func TestServeToken(t *testing.T) {
	const tok = "0123456789abcdef-fixed"
	t.Setenv("LOOPBOOK_TOKEN", tok)
	url, _ := startServe(t, "-addr", "0.0.0.0:0")
	if !strings.HasSuffix(url, "/?token="+tok) {
		t.Errorf("printed URL %q, want the token from LOOPBOOK_TOKEN", url)
	}
	// A browser that opens the URL gets the cookie and the start page.
	jar, _ := cookiejar.New(nil)
	resp, err := (&http.Client{Jar: jar}).Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasSuffix(resp.Request.URL.String(), "/") {
		t.Errorf("opening the printed URL: %s at %s", resp.Status, resp.Request.URL)
	}

	err = (&Main{Stdout: &bytes.Buffer{}}).Run(context.Background(), []string{"-addr", "127.0.0.1:0", "-token", "short", "-notebooks", t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "at least 16 characters") {
		t.Errorf("a short token: %v", err)
	}
}

// -idle stops a notebook's kernel process after that long without activity.
func TestServeIdleFlag(t *testing.T) {
	dir := t.TempDir()
	nb := ipynb.New()
	c := nb.NewCell(ipynb.CellCode, "os.Getpid()")
	c.ID = "c0"
	nb.Cells = append(nb.Cells, c)
	if err := ipynb.WriteFile(filepath.Join(dir, "a.ipynb"), nb); err != nil {
		t.Fatal(err)
	}
	url, _ := startServeIn(t, dir, "-addr", "127.0.0.1:0", "-idle", "300ms")
	origin := strings.TrimSuffix(url, "/")
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(origin, "http")+"/ws/a.ipynb", http.Header{"Origin": {origin}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	// read returns the next message's type and data.
	read := func() (string, map[string]any) {
		t.Helper()
		ws.SetReadDeadline(time.Now().Add(20 * time.Second))
		var env struct {
			Type string         `json:"type"`
			Data map[string]any `json:"data"`
		}
		if err := ws.ReadJSON(&env); err != nil {
			t.Fatal(err)
		}
		return env.Type, env.Data
	}
	for typ, d := read(); typ != "kernel:status" || d["state"] != "idle"; typ, d = read() {
	}
	ws.WriteJSON(map[string]any{"type": "cell:run", "data": map[string]any{"cells": []string{"c0"}}})
	pid := 0
	for pid == 0 {
		if typ, d := read(); typ == "cell:output" {
			out, _ := d["output"].(map[string]any)
			data, _ := out["data"].(map[string]any)
			pid, _ = strconv.Atoi(fmt.Sprint(data["text/plain"]))
		}
	}
	for typ, d := read(); typ != "kernel:status" || d["state"] != "none"; typ, d = read() {
	}
	for deadline := time.Now().Add(20 * time.Second); syscall.Kill(pid, 0) == nil; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("kernel %d still runs after -idle 300ms", pid)
		}
	}
}

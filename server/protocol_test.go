package server_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"
	"time"

	"github.com/gorilla/websocket"

	"github.com/loopbook/loopbook/ipynb"
	"github.com/loopbook/loopbook/server"
)

type testServer struct {
	*httptest.Server
	srv *server.Server
	dir string
}

func newTestServer(t *testing.T, cfg server.Config) *testServer {
	t.Helper()
	if cfg.NotebookDir == "" {
		cfg.NotebookDir = t.TempDir()
	}
	cfg.Kernel = testKernel()
	srv, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{Server: httptest.NewServer(srv.Handler()), srv: srv, dir: cfg.NotebookDir}
	t.Cleanup(func() {
		ts.Close()
		srv.Close()
	})
	return ts
}

// notebook writes a notebook with the given code cells (ids c0, c1, …) into the directory.
func (ts *testServer) notebook(t *testing.T, name string, cells ...string) {
	t.Helper()
	nb := ipynb.New()
	for i, src := range cells {
		c := nb.NewCell(ipynb.CellCode, src)
		c.ID = fmt.Sprintf("c%d", i)
		nb.Cells = append(nb.Cells, c)
	}
	if err := ipynb.WriteFile(filepath.Join(ts.dir, name), nb); err != nil {
		t.Fatal(err)
	}
}

type wsConn struct {
	t *testing.T
	*websocket.Conn
}

func (ts *testServer) dial(t *testing.T, name string) *wsConn {
	t.Helper()
	url := "ws" + strings.TrimPrefix(ts.URL, "http") + "/ws/" + name
	h := http.Header{"Origin": {ts.URL}}
	c, resp, err := websocket.DefaultDialer.Dial(url, h)
	if err != nil {
		t.Fatalf("dial: %v (%v)", err, resp)
	}
	t.Cleanup(func() { c.Close() })
	return &wsConn{t, c}
}

func (c *wsConn) send(typ string, data any) {
	c.t.Helper()
	b, _ := json.Marshal(data)
	if err := c.WriteJSON(server.Envelope{Type: typ, Data: b}); err != nil {
		c.t.Fatal(err)
	}
}

func (c *wsConn) next(d time.Duration) server.Envelope {
	c.t.Helper()
	c.SetReadDeadline(time.Now().Add(d))
	var env server.Envelope
	if err := c.ReadJSON(&env); err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return env
}

// until reads messages until one satisfies stop, returning them all as brief lines.
func (c *wsConn) until(stop func(server.Envelope) bool) []string {
	c.t.Helper()
	var lines []string
	deadline := time.Now().Add(20 * time.Second)
	for {
		env := c.next(time.Until(deadline))
		lines = append(lines, brief(env))
		if stop(env) {
			return lines
		}
	}
}

func brief(env server.Envelope) string {
	var m map[string]any
	json.Unmarshal(env.Data, &m)
	switch env.Type {
	case server.MsgKernelStatus:
		return fmt.Sprintf("%s %v", env.Type, m["state"])
	case server.MsgCellOutput:
		o := m["output"].(map[string]any)
		switch o["output_type"] {
		case "stream":
			return fmt.Sprintf("%s %v %v %q", env.Type, m["cell"], o["name"], o["text"])
		case "execute_result":
			return fmt.Sprintf("%s %v result %v", env.Type, m["cell"], o["data"].(map[string]any)["text/plain"])
		case "error":
			return fmt.Sprintf("%s %v error %v", env.Type, m["cell"], o["evalue"])
		}
		return fmt.Sprintf("%s %v %v", env.Type, m["cell"], o["output_type"])
	case server.MsgCellDone:
		return fmt.Sprintf("%s %v %v", env.Type, m["cell"], m["status"])
	case server.MsgCellStarted:
		return fmt.Sprintf("%s %v %v", env.Type, m["cell"], m["count"])
	case server.MsgCellQueued, server.MsgCellDeleted:
		return fmt.Sprintf("%s %v", env.Type, m["cell"])
	case server.MsgCellOwned:
		return fmt.Sprintf("%s %v %v", env.Type, m["cell"], m["owned"])
	case server.MsgError:
		return fmt.Sprintf("%s %v", env.Type, m["message"])
	}
	return env.Type
}

func is(typ string) func(server.Envelope) bool {
	return func(e server.Envelope) bool { return e.Type == typ }
}

// waitIdle reads until the kernel reports idle.
func (c *wsConn) waitIdle() {
	c.t.Helper()
	c.until(func(e server.Envelope) bool {
		var ks server.KernelStatus
		json.Unmarshal(e.Data, &ks)
		return e.Type == server.MsgKernelStatus && ks.State == "idle"
	})
}

// The exact ordered messages of a run.
func TestRunSequence(t *testing.T) {
	ts := newTestServer(t, server.Config{})
	ts.notebook(t, "a.ipynb", `fmt.Println("hi")`+"\n40 + 2")
	c := ts.dial(t, "a.ipynb")
	first := c.next(5 * time.Second)
	var st server.NbState
	json.Unmarshal(first.Data, &st)
	if first.Type != server.MsgNbState || len(st.Cells) != 1 || st.Cells[0].ID != "c0" {
		t.Fatalf("first message %s %+v", first.Type, st)
	}
	c.waitIdle()
	c.send(server.MsgCellRun, server.CellRun{Cells: []string{"c0"}})
	got := c.until(is(server.MsgCellDone))
	want := []string{
		"cell:queued c0",
		"kernel:status busy",
		"cell:started c0 1",
		`cell:output c0 stdout "hi\n"`,
		"cell:output c0 result 42",
		"cell:done c0 ok",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("run sequence:\n got %q\nwant %q", got, want)
	}
	// The file has the outputs once saved.
	c.until(is(server.MsgNbSaved))
	nb, err := ipynb.ReadFile(filepath.Join(ts.dir, "a.ipynb"))
	if err != nil {
		t.Fatal(err)
	}
	if c0 := nb.Cells[0]; c0.ExecutionCount == nil || *c0.ExecutionCount != 1 || len(c0.Outputs) != 2 {
		t.Errorf("saved cell: %+v", c0)
	}
}

// A reload in the middle of a run sees the same cells, including output still streaming.
func TestReconnectMidRun(t *testing.T) {
	ts := newTestServer(t, server.Config{})
	ts.notebook(t, "a.ipynb", "for i := range 4 {\n\tfmt.Println(\"step\", i)\n\tco.Sleep(150 * time.Millisecond)\n}")
	c := ts.dial(t, "a.ipynb")
	c.next(5 * time.Second)
	c.waitIdle()
	c.send(server.MsgCellRun, server.CellRun{Cells: []string{"c0"}})
	c.until(func(e server.Envelope) bool { return strings.Contains(brief(e), "step 1") })
	c.Close()

	c2 := ts.dial(t, "a.ipynb")
	env := c2.next(5 * time.Second)
	var st server.NbState
	json.Unmarshal(env.Data, &st)
	cell := st.Cells[0]
	if env.Type != server.MsgNbState || cell.State != "running" || len(cell.Outputs) == 0 || !strings.Contains(cell.Outputs[0].Text, "step 0\nstep 1\n") {
		t.Fatalf("state after reconnect: %s %+v", env.Type, cell)
	}
	rest := c2.until(is(server.MsgCellDone))
	if !strings.Contains(strings.Join(rest, "\n"), `"step 3\n"`) || rest[len(rest)-1] != "cell:done c0 ok" {
		t.Errorf("after reconnect: %q", rest)
	}
}

// Bad messages get a clear error and change nothing; an oversized one closes the socket; the
// server keeps serving.
func TestBadMessages(t *testing.T) {
	ts := newTestServer(t, server.Config{})
	ts.notebook(t, "a.ipynb", "1")
	c := ts.dial(t, "a.ipynb")
	c.next(5 * time.Second)
	tests := []struct {
		name string
		raw  string
		want string
	}{
		{"not json", "{{{", "error bad message"},
		{"unknown type", `{"type":"cell:explode","data":{}}`, `error unknown message type "cell:explode"`},
		{"bad payload", `{"type":"cell:edit","data":{"cell":5}}`, "error cell:edit: bad payload"},
		{"no such cell", `{"type":"cell:run","data":{"cells":["nope"]}}`, `error no cell "nope"`},
		{"bad index", `{"type":"cell:insert","data":{"index":99,"type":"code"}}`, "error index 99 out of range"},
		{"bad cell type", `{"type":"cell:insert","data":{"index":0,"type":"python"}}`, `error unknown cell type "python"`},
	}
	for _, tt := range tests {
		if err := c.WriteMessage(websocket.TextMessage, []byte(tt.raw)); err != nil {
			t.Fatal(err)
		}
		got := c.until(is(server.MsgError))
		if last := got[len(got)-1]; !strings.HasPrefix(last, tt.want) {
			t.Errorf("%s: got %q, want prefix %q", tt.name, last, tt.want)
		}
	}
	// Oversized: 9 MiB of source.
	big, _ := json.Marshal(server.CellEdit{Cell: "c0", Source: strings.Repeat("x", 9<<20)})
	b, _ := json.Marshal(server.Envelope{Type: server.MsgCellEdit, Data: big})
	c.WriteMessage(websocket.TextMessage, b)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		if _, _, err := c.ReadMessage(); err != nil {
			break // closed by the server
		}
	}
	nb, _ := ipynb.ReadFile(filepath.Join(ts.dir, "a.ipynb"))
	if nb.Cells[0].Source != "1" {
		t.Errorf("the notebook changed: %q", nb.Cells[0].Source)
	}
	c2 := ts.dial(t, "a.ipynb")
	if env := c2.next(5 * time.Second); env.Type != server.MsgNbState {
		t.Errorf("after the oversized message: %s", env.Type)
	}
}

// A browser that stops reading is dropped; the kernel and the other browsers go on.
func TestSlowClient(t *testing.T) {
	ts := newTestServer(t, server.Config{})
	ts.notebook(t, "a.ipynb", "1")
	slow := ts.dial(t, "a.ipynb") // reads nothing until the end
	c := ts.dial(t, "a.ipynb")
	c.next(5 * time.Second)
	// Every edit of c is broadcast to slow: 6,000 edits of 8 KiB are far more than its socket
	// buffers and its send queue hold.
	src := strings.Repeat("x", 8<<10)
	const edits = 6000
	for i := range edits {
		c.send(server.MsgCellEdit, server.CellEdit{Cell: "c0", Source: fmt.Sprint(i, src)})
	}
	c.send(server.MsgCellEdit, server.CellEdit{Cell: "c0", Source: "40 + 2"})
	c.send(server.MsgCellRun, server.CellRun{Cells: []string{"c0"}})
	got := c.until(is(server.MsgCellDone))
	if !strings.Contains(strings.Join(got, "\n"), "cell:output c0 result 42") {
		t.Errorf("the fast client did not see the run: %q", got[max(0, len(got)-5):])
	}
	// The slow client was dropped: reading it ends in an error before all the updates.
	n := 0
	slow.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		if _, _, err := slow.ReadMessage(); err != nil {
			break
		}
		n++
	}
	if n >= edits {
		t.Errorf("the slow client received all %d messages; it should have been dropped", n)
	}
	t.Logf("the slow client got %d messages before it was dropped", n)
}

// Edits persist at once, across tabs.
func TestEditsPersistAndSync(t *testing.T) {
	ts := newTestServer(t, server.Config{})
	ts.notebook(t, "a.ipynb", "1")
	a := ts.dial(t, "a.ipynb")
	b := ts.dial(t, "a.ipynb")
	a.next(5 * time.Second)
	b.next(5 * time.Second)
	a.send(server.MsgCellEdit, server.CellEdit{Cell: "c0", Source: "2 + 2"})
	got := b.until(is(server.MsgCellUpdated))
	if len(got) == 0 {
		t.Fatal("no update")
	}
	a.send(server.MsgCellInsert, server.CellInsert{Index: 1, Type: "markdown", Source: "# Title"})
	b.until(is(server.MsgCellInserted))
	b.until(is(server.MsgNbSaved)) // the save follows the burst of edits it belongs to
	nb, _ := ipynb.ReadFile(filepath.Join(ts.dir, "a.ipynb"))
	if nb.Cells[0].Source != "2 + 2" || len(nb.Cells) != 2 || nb.Cells[1].Source != "# Title" {
		t.Errorf("saved: %q, %d cells", nb.Cells[0].Source, len(nb.Cells))
	}
}

// The websocket checks Origin exactly, and the server checks Host (DNS rebinding).
func TestOriginAndHost(t *testing.T) {
	ts := newTestServer(t, server.Config{})
	ts.notebook(t, "a.ipynb", "1")
	url := "ws" + strings.TrimPrefix(ts.URL, "http") + "/ws/a.ipynb"
	for _, origin := range []string{"", "http://evil.example", ts.URL + ".evil.example", "null"} {
		h := http.Header{}
		if origin != "" {
			h.Set("Origin", origin)
		}
		if c, _, err := websocket.DefaultDialer.Dial(url, h); err == nil {
			c.Close()
			t.Errorf("origin %q was accepted", origin)
		}
	}
	req, _ := http.NewRequest("GET", ts.URL+"/api/notebooks", nil)
	req.Host = "attacker.example:80"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("foreign Host: %d", resp.StatusCode)
	}
}

// With a token, nothing but /healthz works without it; the token in the URL becomes a cookie.
func TestToken(t *testing.T) {
	ts := newTestServer(t, server.Config{Token: "sesame"})
	get := func(path string, jar *http.Cookie) *http.Response {
		req, _ := http.NewRequest("GET", ts.URL+path, nil)
		if jar != nil {
			req.AddCookie(jar)
		}
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if r := get("/healthz", nil); r.StatusCode != 200 {
		t.Errorf("healthz: %d", r.StatusCode)
	}
	if r := get("/api/notebooks", nil); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("no token: %d", r.StatusCode)
	}
	r := get("/?token=sesame", nil)
	if r.StatusCode != http.StatusSeeOther || len(r.Cookies()) != 1 {
		t.Fatalf("token exchange: %d %v", r.StatusCode, r.Cookies())
	}
	if r := get("/api/notebooks", r.Cookies()[0]); r.StatusCode != 200 {
		t.Errorf("with the cookie: %d", r.StatusCode)
	}
	if r := get("/?token=wrong", nil); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong token: %d", r.StatusCode)
	}
}

// The notebook API: create, list, rename, duplicate, upload, download, delete, shipped copies.
func TestNotebookAPI(t *testing.T) {
	shipped := fstest.MapFS{}
	nb := ipynb.New()
	nb.Cells = append(nb.Cells, nb.NewCell(ipynb.CellMarkdown, "# The Chapter"))
	b, _ := nb.Marshal()
	shipped["chapter.ipynb"] = &fstest.MapFile{Data: b}
	ts := newTestServer(t, server.Config{Shipped: shipped})
	post := func(path string, body any) (int, map[string]any) {
		b, _ := json.Marshal(body)
		resp, err := http.Post(ts.URL+path, "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	steps := []struct {
		path string
		body any
		code int
		want string
	}{
		{"/api/notebooks", map[string]string{"name": "mine"}, 201, "mine.ipynb"},
		{"/api/notebooks", map[string]string{"name": "mine.ipynb"}, 409, "already exists"},
		{"/api/notebooks", map[string]string{"name": "../escape.ipynb"}, 400, "not a notebook path"},
		{"/api/notebooks/rename", map[string]string{"path": "mine.ipynb", "to": "sub/ours"}, 200, "sub/ours.ipynb"},
		{"/api/notebooks/duplicate", map[string]string{"path": "sub/ours.ipynb"}, 201, "sub/ours copy.ipynb"},
		{"/api/open-shipped", map[string]string{"path": "chapter.ipynb"}, 200, "chapter.ipynb"},
		{"/api/notebooks/delete", map[string]string{"path": "sub/ours copy.ipynb"}, 200, "sub/ours copy.ipynb"},
		{"/api/notebooks/delete", map[string]string{"path": "nope.ipynb"}, 404, "no such file"},
	}
	for _, s := range steps {
		code, m := post(s.path, s.body)
		text := fmt.Sprint(m)
		if code != s.code || !strings.Contains(text, s.want) {
			t.Errorf("POST %s %v: %d %v, want %d %q", s.path, s.body, code, m, s.code, s.want)
		}
	}
	resp, _ := http.Get(ts.URL + "/api/notebooks")
	var list struct{ Shipped, Mine []map[string]string }
	json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	if len(list.Shipped) != 1 || list.Shipped[0]["title"] != "The Chapter" || len(list.Mine) != 2 {
		t.Errorf("list: %+v", list)
	}
	// Upload, then download the same bytes.
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "up.ipynb")
	fw.Write(b)
	mw.Close()
	resp, err := http.Post(ts.URL+"/api/upload", mw.FormDataContentType(), &body)
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("upload: %v %v", err, resp.Status)
	}
	resp, _ = http.Get(ts.URL + "/api/download/up.ipynb")
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(got, b) {
		t.Errorf("download differs from upload")
	}
	// A malformed upload is refused with a clear message and stores nothing.
	body.Reset()
	mw = multipart.NewWriter(&body)
	fw, _ = mw.CreateFormFile("file", "bad.ipynb")
	fw.Write([]byte(`{"cells": [`))
	mw.Close()
	resp, _ = http.Post(ts.URL+"/api/upload", mw.FormDataContentType(), &body)
	msg, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 400 || !strings.Contains(string(msg), "line 1, column 12") {
		t.Errorf("bad upload: %d %s", resp.StatusCode, msg)
	}
	if _, err := os.Stat(filepath.Join(ts.dir, "bad.ipynb")); err == nil {
		t.Errorf("a bad upload was stored")
	}
}

// runResult runs a cell and returns its Out text/plain (and the cell's elapsed time).
func (c *wsConn) runResult(cell string) (string, float64) {
	c.t.Helper()
	c.send(server.MsgCellRun, server.CellRun{Cells: []string{cell}})
	var out string
	for {
		env := c.next(20 * time.Second)
		switch env.Type {
		case server.MsgCellOutput:
			var m server.CellOutput
			json.Unmarshal(env.Data, &m)
			if m.Cell == cell && m.Output.Type == "execute_result" {
				out = m.Output.Data["text/plain"]
			}
			if m.Cell == cell && m.Output.Type == "error" {
				c.t.Fatalf("%s failed: %s", cell, m.Output.Evalue)
			}
		case server.MsgCellDone:
			var m server.CellDone
			json.Unmarshal(env.Data, &m)
			if m.Cell == cell {
				return out, m.Elapsed
			}
		}
	}
}

// waitGone waits until process pid has exited.
func waitGone(t *testing.T, pid int, what string) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			return
		}
	}
	t.Fatalf("%s: kernel process %d still runs", what, pid)
}

// A kernel idle for IdleTimeout is stopped (its process ends) and the page is told why; the
// next run starts a new one.
func TestIdleStopsKernel(t *testing.T) {
	ts := newTestServer(t, server.Config{IdleTimeout: 300 * time.Millisecond})
	ts.notebook(t, "a.ipynb", "os.Getpid()")
	c := ts.dial(t, "a.ipynb")
	c.next(5 * time.Second)
	c.waitIdle()
	out, _ := c.runResult("c0")
	pid, err := strconv.Atoi(out)
	if err != nil {
		t.Fatalf("Out: %q", out)
	}
	c.until(func(e server.Envelope) bool {
		var ks server.KernelStatus
		json.Unmarshal(e.Data, &ks)
		return e.Type == server.MsgKernelStatus && ks.State == "none" && strings.Contains(ks.Cause, "idle")
	})
	waitGone(t, pid, "after the idle timeout")
	out, _ = c.runResult("c0")
	if out == "" || out == strconv.Itoa(pid) {
		t.Errorf("after the idle stop the cell ran in kernel %q, want a new one (old %d)", out, pid)
	}
}

// A kernel that is working is not idle, however long it works.
func TestIdleSparesBusyKernel(t *testing.T) {
	ts := newTestServer(t, server.Config{IdleTimeout: 100 * time.Millisecond})
	ts.notebook(t, "a.ipynb", "co.Sleep(800 * time.Millisecond)\nos.Getpid()")
	c := ts.dial(t, "a.ipynb")
	c.next(5 * time.Second)
	c.waitIdle()
	out, _ := c.runResult("c0")
	if _, err := strconv.Atoi(out); err != nil {
		t.Fatalf("the run did not finish in its kernel: Out %q", out)
	}
}

// Closing the notebook (its last tab) stops its kernel once CloseGrace has passed, after
// saving.
func TestCloseStopsKernel(t *testing.T) {
	ts := newTestServer(t, server.Config{CloseGrace: 200 * time.Millisecond})
	ts.notebook(t, "a.ipynb", "os.Getpid()")
	c := ts.dial(t, "a.ipynb")
	c.next(5 * time.Second)
	c.waitIdle()
	out, _ := c.runResult("c0")
	pid, err := strconv.Atoi(out)
	if err != nil {
		t.Fatalf("Out: %q", out)
	}
	c.Close()
	waitGone(t, pid, "after the tab closed")
	nb, err := ipynb.ReadFile(filepath.Join(ts.dir, "a.ipynb"))
	if err != nil || len(nb.Cells[0].Outputs) != 1 {
		t.Errorf("the closed notebook's file: %v %+v", err, nb)
	}
}

// The time of a run is measured by the server (execute_input to reply), sent with cell:done,
// stored in the cell's metadata as Jupyter records it, and shown again after a server restart.
func TestElapsedKept(t *testing.T) {
	dir := t.TempDir()
	ts := newTestServer(t, server.Config{NotebookDir: dir})
	ts.notebook(t, "a.ipynb", "co.Sleep(30 * time.Millisecond)\n1")
	c := ts.dial(t, "a.ipynb")
	c.next(5 * time.Second)
	c.waitIdle()
	_, el := c.runResult("c0")
	if el <= 0 {
		t.Fatalf("cell:done elapsed %v", el)
	}
	c.until(is(server.MsgNbSaved))
	nb, err := ipynb.ReadFile(filepath.Join(dir, "a.ipynb"))
	if err != nil {
		t.Fatal(err)
	}
	ex, _ := nb.Cells[0].Metadata["execution"].(map[string]any)
	t0, err1 := time.Parse(time.RFC3339Nano, fmt.Sprint(ex["iopub.execute_input"]))
	t1, err2 := time.Parse(time.RFC3339Nano, fmt.Sprint(ex["shell.execute_reply"]))
	if err1 != nil || err2 != nil || math.Abs(t1.Sub(t0).Seconds()-el) > 1e-9 {
		t.Errorf("metadata.execution %v: want the two times %v s apart", ex, el)
	}

	// Another server on the same directory (a restart) shows the same time.
	ts2 := newTestServer(t, server.Config{NotebookDir: dir})
	c2 := ts2.dial(t, "a.ipynb")
	var st server.NbState
	json.Unmarshal(c2.next(5*time.Second).Data, &st)
	if got := st.Cells[0].Elapsed; got == nil || math.Abs(*got-el) > 1e-9 {
		t.Errorf("after a restart elapsed = %v, want %v", got, el)
	}
}

// A flood of output: the kernel keeps its head and tail; the server marks the run's stream
// outputs truncated, with the sizes, and serves the kept text with a first line saying the
// middle is gone. A small output is served as printed.
func TestHugeOutputText(t *testing.T) {
	ts := newTestServer(t, server.Config{})
	ts.notebook(t, "a.ipynb", "for i := range 40000 {\n\tfmt.Printf(\"line %06d of the flood\\n\", i)\n}", `fmt.Println("small")`+"\n"+`fmt.Fprintln(os.Stderr, "err")`)
	c := ts.dial(t, "a.ipynb")
	c.next(5 * time.Second)
	c.waitIdle()
	c.send(server.MsgCellRun, server.CellRun{Cells: []string{"c0", "c1"}})
	var marked *server.Output
	for done := 0; done < 2; {
		env := c.next(20 * time.Second)
		switch env.Type {
		case server.MsgCellDone:
			done++
		case server.MsgCellOutput:
			var m server.CellOutput
			json.Unmarshal(env.Data, &m)
			if m.Output.Truncated {
				marked = &m.Output
			}
		}
	}
	const printed = 40000 * 25 // "line 000000 of the flood\n"
	if marked == nil || marked.Bytes < printed-2<<10 || marked.Bytes > printed+2<<10 || marked.Elided <= 0 || marked.Elided >= marked.Bytes {
		t.Fatalf("the note's output: %+v, want truncated with bytes ≈ %d", marked, printed)
	}
	get := func(q string) (int, string) {
		resp, err := http.Get(ts.URL + "/api/output/a.ipynb?" + q)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, text := get("cell=c0")
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if code != 200 || !strings.HasPrefix(lines[0], "[loopbook] In[1] of a.ipynb printed about") ||
		!strings.Contains(text, "\nline 000000 of the flood\n") || !strings.Contains(text, "of output elided") ||
		lines[len(lines)-1] != "line 039999 of the flood" {
		t.Errorf("GET output c0: %d, %d lines, first %q, last %q", code, len(lines), lines[0], lines[len(lines)-1])
	}
	if code, text := get("cell=c1"); code != 200 || text != "small\nerr\n" {
		t.Errorf("GET output c1: %d %q", code, text)
	}
	if code, _ := get("cell=nope"); code != 404 {
		t.Errorf("GET output of no cell: %d", code)
	}

	// The state a reconnecting page gets says the same.
	c2 := ts.dial(t, "a.ipynb")
	var st server.NbState
	json.Unmarshal(c2.next(5*time.Second).Data, &st)
	for _, o := range st.Cells[0].Outputs {
		if o.Type == "stream" && (!o.Truncated || o.Bytes != marked.Bytes) {
			t.Errorf("state: stream output %s not marked (%v %d)", o.Name, o.Truncated, o.Bytes)
		}
	}
	for _, o := range st.Cells[1].Outputs {
		if o.Truncated {
			t.Errorf("state: the small output is marked truncated")
		}
	}
}

// A shipped notebook opens as an editable copy in the notebooks directory, the same copy each
// time; a notebook of the user's own with the same name is left alone.
func TestOpenShippedCopy(t *testing.T) {
	nb := ipynb.New()
	nb.Cells = append(nb.Cells, nb.NewCell(ipynb.CellMarkdown, "# The Chapter"))
	b, _ := nb.Marshal()
	ts := newTestServer(t, server.Config{Shipped: fstest.MapFS{"chapter.ipynb": {Data: b}, "other.ipynb": {Data: b}}})
	ts.notebook(t, "chapter.ipynb", "mine := 1") // the user's own, by chance of the same name
	open := func(p string) string {
		body, _ := json.Marshal(map[string]string{"path": p})
		resp, err := http.Post(ts.URL+"/api/open-shipped", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]string
		json.NewDecoder(resp.Body).Decode(&m)
		if resp.StatusCode != 200 {
			t.Fatalf("open-shipped %s: %d %v", p, resp.StatusCode, m)
		}
		return m["path"]
	}
	for _, tt := range []struct{ shipped, want string }{
		{"other.ipynb", "other.ipynb"},
		{"other.ipynb", "other.ipynb"}, // the same copy again
		{"chapter.ipynb", "chapter copy.ipynb"},
		{"chapter.ipynb", "chapter copy.ipynb"},
	} {
		if got := open(tt.shipped); got != tt.want {
			t.Errorf("open-shipped %s = %s, want %s", tt.shipped, got, tt.want)
		}
	}
	mine, _ := ipynb.ReadFile(filepath.Join(ts.dir, "chapter.ipynb"))
	cp, _ := ipynb.ReadFile(filepath.Join(ts.dir, "chapter copy.ipynb"))
	if mine.Cells[0].Source != "mine := 1" || cp.Cells[0].Source != "# The Chapter" {
		t.Errorf("the user's own %q, the copy %q", mine.Cells[0].Source, cp.Cells[0].Source)
	}
	// The copy is editable: a websocket edit reaches its file, not the shipped original.
	c := ts.dial(t, "other.ipynb")
	var st server.NbState
	json.Unmarshal(c.next(5*time.Second).Data, &st)
	c.send(server.MsgCellEdit, server.CellEdit{Cell: st.Cells[0].ID, Source: "# Mine now"})
	c.until(is(server.MsgNbSaved))
	if ed, _ := ipynb.ReadFile(filepath.Join(ts.dir, "other.ipynb")); ed.Cells[0].Source != "# Mine now" {
		t.Errorf("the edit did not reach the copy: %q", ed.Cells[0].Source)
	}
	if open("other.ipynb") != "other.ipynb" {
		t.Error("after an edit the copy is not found again")
	}
}

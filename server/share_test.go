package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/loopbook/loopbook/ipynb"
	"github.com/loopbook/loopbook/server"
)

// request makes a request (with the cookie, if any) and returns the status and the body.
func request(t *testing.T, method, url string, cookie *http.Cookie) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cookie != nil {
		req.AddCookie(cookie)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// share shares a notebook and returns the id, checking the answer's form.
func (ts *testServer) share(t *testing.T, name string) string {
	t.Helper()
	code, b := request(t, "POST", ts.URL+"/api/share/"+name, nil)
	if code != http.StatusOK {
		t.Fatalf("share %s: %d %s", name, code, b)
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if len(m["id"]) != 20 || m["url"] != "/s/"+m["id"] {
		t.Fatalf("share %s: %s", name, b)
	}
	return m["id"]
}

// sharedNotebook is the .ipynb of a share.
func (ts *testServer) sharedNotebook(t *testing.T, id string) (*ipynb.Notebook, []byte) {
	t.Helper()
	code, b := request(t, "GET", ts.URL+"/api/shares/"+id, nil)
	if code != http.StatusOK {
		t.Fatalf("GET share %s: %d %s", id, code, b)
	}
	nb, err := ipynb.Unmarshal(b)
	if err != nil {
		t.Fatalf("share %s: %v", id, err)
	}
	return nb, b
}

func recordingFrames(nb *ipynb.Notebook) int {
	lb, _ := nb.Metadata["loopbook"].(map[string]any)
	rec, _ := lb["recording"].(map[string]any)
	frames, _ := rec["frames"].([]any)
	return len(frames)
}

// Sharing snapshots an open notebook as its session has it (outputs, loop recording), under an
// id made of its content; the snapshot is immutable, has its own page, download, view and
// editable copy; bad and unknown ids are 404s.
func TestShare(t *testing.T) {
	ts := newTestServer(t, server.Config{})
	ts.notebook(t, "a.ipynb", "co.Sleep(5 * time.Millisecond)\nfmt.Println(\"hi\")\n40 + 2")
	c := ts.dial(t, "a.ipynb")
	c.waitIdle()
	if out, _ := c.runResult("c0"); out != "42" {
		t.Fatalf("c0 = %q", out)
	}
	// The session records a loop frame before it sends it on: once this connection has one,
	// the session's recording has it too.
	c.until(is(server.MsgLoopFrame))

	// Shared at once, before the outputs are saved: the session's state is what is shared.
	id := ts.share(t, "a.ipynb")
	nb, data := ts.sharedNotebook(t, id)
	c0 := nb.Cells[0]
	if c0.ExecutionCount == nil || *c0.ExecutionCount != 1 || len(c0.Outputs) != 2 || c0.Outputs[0].Text != "hi\n" {
		t.Fatalf("shared cell: %+v", c0)
	}
	if recordingFrames(nb) == 0 {
		t.Error("the share has no loop recording")
	}
	stored := filepath.Join(ts.dir, ".shares", id+".ipynb")
	if b, err := os.ReadFile(stored); err != nil || !bytes.Equal(b, data) {
		t.Errorf("the share is not stored as %s: %v", stored, err)
	}

	// The same content, the same link. The loop may still send a frame or two after the run
	// (the recording is content too); once it is quiet, sharing again gives the same id.
	ids := map[string]bool{id: true}
	for prev, deadline := id, time.Now().Add(20*time.Second); ; {
		again := ts.share(t, "a.ipynb")
		if again == prev {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sharing never gave the same id twice: %v", ids)
		}
		againNb, _ := ts.sharedNotebook(t, again)
		prevNb, _ := ts.sharedNotebook(t, prev)
		if recordingFrames(againNb) <= recordingFrames(prevNb) {
			t.Fatalf("shares %s and %s differ with no new loop frame", prev, again)
		}
		ids[again] = true
		prev = again
	}

	// Shares are not notebooks of the user's.
	code, b := request(t, "GET", ts.URL+"/api/notebooks", nil)
	if code != 200 || strings.Contains(string(b), ".shares") || strings.Contains(string(b), id) {
		t.Errorf("the listing shows shares: %d %s", code, b)
	}

	// The page, the view and the copy.
	if code, b := request(t, "GET", ts.URL+"/s/"+id, nil); code != 200 || !bytes.Contains(b, []byte("/static/js/main.js")) {
		t.Errorf("GET /s/%s: %d %.80s", id, code, b)
	}
	code, b = request(t, "GET", ts.URL+"/api/shares/"+id+"/view", nil)
	var view struct {
		Name      string
		State     server.NbState
		Recording server.Recording
	}
	if err := json.Unmarshal(b, &view); code != 200 || err != nil {
		t.Fatalf("view: %d %v %s", code, err, b)
	}
	if view.Name != "a.ipynb" || !view.State.ReadOnly || len(view.State.Cells) != 1 || len(view.State.Cells[0].Outputs) != 2 || len(view.Recording.Frames) == 0 {
		t.Errorf("view: %+v", view)
	}
	if code, b := request(t, "GET", ts.URL+"/api/shares/"+id+"/output?cell=c0", nil); code != 200 || string(b) != "hi\n" {
		t.Errorf("output: %d %q", code, b)
	}
	for range 2 { // the same copy each time
		code, b := request(t, "POST", ts.URL+"/api/shares/"+id+"/copy", nil)
		if code != 200 || string(b) != `{"path":"a copy.ipynb"}`+"\n" {
			t.Errorf("copy: %d %s", code, b)
		}
	}
	cp, err := ipynb.ReadFile(filepath.Join(ts.dir, "a copy.ipynb"))
	if err != nil || len(cp.Cells[0].Outputs) != 2 {
		t.Fatalf("the copy: %v", err)
	}

	// The original changes; the share does not.
	c.send(server.MsgCellEdit, server.CellEdit{Cell: "c0", Source: "1 + 1"})
	c.send(server.MsgCellClear, server.CellRefs{})
	c.until(is(server.MsgNbSaved))
	if _, now := ts.sharedNotebook(t, id); !bytes.Equal(now, data) {
		t.Error("the share changed with the notebook")
	}
	id2 := ts.share(t, "a.ipynb")
	if id2 == id {
		t.Fatal("changed content, the same id")
	}
	if nb2, _ := ts.sharedNotebook(t, id2); nb2.Cells[0].Source != "1 + 1" || len(nb2.Cells[0].Outputs) != 0 {
		t.Errorf("the second share: %+v", nb2.Cells[0])
	}
	if b, _ := os.ReadFile(stored); !bytes.Equal(b, data) {
		t.Error("the first share's file changed")
	}

	// Bad and unknown ids, bad paths.
	unknown := strings.Repeat("0", 20)
	if unknown == id || unknown == id2 {
		t.Fatal("improbable")
	}
	for _, tt := range []struct {
		method, path string
		code         int
	}{
		{"GET", "/api/shares/" + unknown, 404},
		{"GET", "/api/shares/" + unknown + "/view", 404},
		{"GET", "/api/shares/" + unknown + "/output?cell=c0", 404},
		{"POST", "/api/shares/" + unknown + "/copy", 404},
		{"GET", "/s/" + unknown, 404},
		{"GET", "/api/shares/" + strings.ToUpper(id), 404},
		{"GET", "/api/shares/" + id[:19], 404},
		{"GET", "/api/shares/" + id + "0", 404},
		{"GET", "/api/shares/" + id + ".ipynb", 404},
		{"GET", "/api/shares/zzzzzzzzzzzzzzzzzzzz", 404},
		{"GET", "/api/shares/..%2F..%2Fa.ipynb", 404},
		{"GET", "/api/shares/..%2Fa", 404},
		{"GET", "/s/..%2F..%2Fetc%2Fpasswd", 404},
		{"GET", "/s/" + id[:19], 404},
		{"POST", "/api/shares/..%2Fa/copy", 404},
		{"GET", "/api/shares/" + id + "/output?cell=nope", 404},
		{"POST", "/api/share/missing.ipynb", 404},
		{"POST", "/api/share/..%2Fa.ipynb", 400},
		{"POST", "/api/share/.shares/" + id + ".ipynb", 400},
		{"POST", "/api/share/a.txt", 400},
	} {
		if code, b := request(t, tt.method, ts.URL+tt.path, nil); code != tt.code {
			t.Errorf("%s %s: %d %s, want %d", tt.method, tt.path, code, b, tt.code)
		}
	}
	ids[id2] = true
	if entries, _ := os.ReadDir(filepath.Join(ts.dir, ".shares")); len(entries) != len(ids) {
		t.Errorf("the store has %d files, want the %d shares", len(entries), len(ids))
	}
}

// A share of a notebook that is not open is its file; the same access token rules apply.
func TestShareToken(t *testing.T) {
	ts := newTestServer(t, server.Config{Token: "sesame"})
	ts.notebook(t, "b.ipynb", "1")
	for _, p := range []string{"/s/" + strings.Repeat("a", 20), "/api/shares/" + strings.Repeat("a", 20)} {
		if code, _ := request(t, "GET", ts.URL+p, nil); code != http.StatusUnauthorized {
			t.Errorf("GET %s without the token: %d", p, code)
		}
	}
	if code, _ := request(t, "POST", ts.URL+"/api/share/b.ipynb", nil); code != http.StatusUnauthorized {
		t.Errorf("share without the token: %d", code)
	}
	cookie := &http.Cookie{Name: "loopbook_token", Value: "sesame"}
	code, b := request(t, "POST", ts.URL+"/api/share/b.ipynb", cookie)
	var m map[string]string
	json.Unmarshal(b, &m)
	if code != 200 || m["id"] == "" {
		t.Fatalf("share with the cookie: %d %s", code, b)
	}
	if code, _ := request(t, "GET", ts.URL+m["url"], cookie); code != 200 {
		t.Errorf("GET %s with the cookie: %d", m["url"], code)
	}
	// Not open: the file is shared, and the same file gives the same id.
	code, b = request(t, "POST", ts.URL+"/api/share/b.ipynb", cookie)
	if code != 200 || !strings.Contains(string(b), m["id"]) {
		t.Errorf("sharing the same file again: %d %s, want id %s", code, b, m["id"])
	}
	if code, _ := request(t, "GET", ts.URL+m["url"], nil); code != http.StatusUnauthorized {
		t.Errorf("GET %s without the token: %d", m["url"], code)
	}
}

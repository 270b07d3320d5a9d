package server

import (
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/loopbook/loopbook/ipynb"
)

// Huge output. The kernel lets a run print outputHead bytes, then keeps only the last
// outputTail bytes and drops the middle, saying so in a note on stderr (kernel/router.go):
//
//	[… 2083 KiB of output elided: the cell printed 2372 KiB in all; the last 32 KiB follow …]
//
// What the server gets, stores in the notebook and can offer as the "full text" is therefore
// the head, that note and the tail — at most a few hundred KiB per run, kept with the notebook
// like any output. The server recognises the note, marks the run's stream outputs Truncated
// (with the sizes) so the page says plainly that the middle is gone, and serves the kept text
// of a cell as one download that says the same at its top.

// elisionNote matches the kernel's note; its sizes are rounded by kernel.bytesText.
var elisionNote = regexp.MustCompile(`\[… (\d+) (bytes|KiB|MiB) of output elided: the cell printed (\d+) (bytes|KiB|MiB) in all; the last (\d+) (bytes|KiB|MiB) follow …\]`)

func noteBytes(n, unit string) int64 {
	v, _ := strconv.ParseInt(n, 10, 64)
	switch unit {
	case "KiB":
		return v << 10
	case "MiB":
		return v << 20
	}
	return v
}

// elision is what the kernel's notes in a text say: bytes printed in all, bytes dropped.
type elision struct {
	printed, elided int64
}

func (e *elision) add(text string) {
	if !strings.Contains(text, "of output elided") {
		return
	}
	for _, m := range elisionNote.FindAllStringSubmatch(text, -1) {
		e.elided += noteBytes(m[1], m[2])
		e.printed = max(e.printed, noteBytes(m[3], m[4]))
	}
}

// cellElision reads the notes in a cell's stream outputs.
func cellElision(cell *ipynb.Cell) elision {
	var e elision
	for _, o := range cell.Outputs {
		if o.Type == ipynb.OutputStream {
			e.add(o.Text)
		}
	}
	return e
}

// mark sets the sizes on a stream output of a run whose output was cut.
func (e elision) mark(v *Output) {
	if e.elided > 0 && v.Type == string(ipynb.OutputStream) {
		v.Truncated, v.Bytes, v.Elided = true, e.printed, e.elided
	}
}

// cellText is what a cell printed, stdout and stderr in order, as the server has it. When the
// kernel dropped the middle, a first paragraph says so (the note marks the place).
func cellText(nbPath string, cell *ipynb.Cell) string {
	var b strings.Builder
	e := cellElision(cell)
	if e.elided > 0 {
		run := "this cell"
		if cell.ExecutionCount != nil {
			run = fmt.Sprintf("In[%d]", *cell.ExecutionCount)
		}
		fmt.Fprintf(&b, "[loopbook] %s of %s printed %s. The kernel kept only the beginning and the end: %s in the middle were dropped as they were printed and are not stored anywhere; the note \"[… of output elided …]\" below marks the place. This file is everything that was kept.\n\n",
			run, nbPath, sizeText(e.printed), sizeText(e.elided))
	}
	for _, o := range cell.Outputs {
		if o.Type == ipynb.OutputStream {
			b.WriteString(o.Text)
		}
	}
	return b.String()
}

func sizeText(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("about %.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("about %d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// output serves GET /api/output/{path}?cell={id}: the text a cell printed, as a download.
func (s *Server) output(w http.ResponseWriter, r *http.Request) {
	p, err := clean(chi.URLParam(r, "*"))
	if err != nil {
		writeErr(w, http.StatusBadRequest, err)
		return
	}
	id := r.URL.Query().Get("cell")
	var text string
	var count *int
	found := false
	get := func(nb *ipynb.Notebook) {
		for _, c := range nb.Cells {
			if c.ID == id && c.Type == ipynb.CellCode {
				text, count, found = cellText(p, c), c.ExecutionCount, true
				return
			}
		}
	}
	// An open notebook answers from the session: it has output not saved yet.
	s.mu.Lock()
	ss := s.sessions[p]
	s.mu.Unlock()
	done := make(chan struct{})
	if ss != nil && ss.do(func() { get(ss.nb); close(done) }) {
		<-done
	} else {
		nb, err := s.store.read(p)
		if err != nil {
			writeErr(w, http.StatusNotFound, err)
			return
		}
		get(nb)
	}
	if !found {
		writeErr(w, http.StatusNotFound, fmt.Errorf("%s has no code cell %q: %w", p, id, os.ErrNotExist))
		return
	}
	base := strings.TrimSuffix(p[strings.LastIndexByte(p, '/')+1:], ".ipynb")
	name := base + "-output.txt"
	if count != nil {
		name = fmt.Sprintf("%s-In%d-output.txt", base, *count)
	}
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name))
	h.Set("Cache-Control", "no-store")
	w.Write([]byte(text))
}

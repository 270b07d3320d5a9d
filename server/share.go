package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/loopbook/loopbook/ipynb"
)

// Sharing by link (DESIGN §5). A share is an immutable snapshot of a notebook as it was when
// shared — sources, outputs and the loop recording — stored in the notebooks directory as
// .shares/<id>.ipynb, where the id is a prefix of the SHA-256 of the stored bytes: sharing the
// same content again gives the same link, and a stored share is never written again. The
// directory is hidden, so the start page does not list it and no notebook path reaches it.
//
//	POST /api/share/{path}       snapshot a notebook → {"id", "url": "/s/<id>"}
//	GET  /s/{id}                 the page: the snapshot, read-only
//	GET  /api/shares/{id}        the snapshot's .ipynb (a download)
//	GET  /api/shares/{id}/view   what the page shows: {name, state, recording}
//	GET  /api/shares/{id}/output the text a cell printed (?cell=)
//	POST /api/shares/{id}/copy   the user's editable copy → {"path"}
const (
	sharesDir  = ".shares"
	shareIDLen = 20 // hex digits: 80 bits of the content hash
)

// validShareID accepts exactly shareIDLen lowercase hex digits.
func validShareID(id string) bool {
	if len(id) != shareIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func (s *store) shareFile(id string) string {
	return filepath.Join(s.dir, sharesDir, id+".ipynb")
}

// putShare stores a snapshot and returns its id. Storing the same bytes again is a no-op.
func (s *store) putShare(nb *ipynb.Notebook) (string, error) {
	data, err := nb.Marshal()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	id := hex.EncodeToString(sum[:])[:shareIDLen]
	f := s.shareFile(id)
	if old, err := os.ReadFile(f); err == nil {
		if !bytes.Equal(old, data) {
			return "", fmt.Errorf("share %s exists with other content", id)
		}
		return id, nil
	}
	if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
		return "", err
	}
	return id, ipynb.WriteFile(f, nb)
}

// readShare returns a stored snapshot (fs.ErrNotExist for a bad or unknown id).
func (s *store) readShare(id string) (*ipynb.Notebook, []byte, error) {
	if !validShareID(id) {
		return nil, nil, fmt.Errorf("share %q: %w", id, fs.ErrNotExist)
	}
	b, err := os.ReadFile(s.shareFile(id))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, fmt.Errorf("no share %s: %w", id, fs.ErrNotExist)
		}
		return nil, nil, err
	}
	nb, err := ipynb.Unmarshal(b)
	if err != nil {
		return nil, nil, err
	}
	return nb, b, nil
}

// shareName is the name of the notebook a snapshot was taken of.
func shareName(nb *ipynb.Notebook, id string) string {
	lb, _ := nb.Metadata["loopbook"].(map[string]any)
	sh, _ := lb["share"].(map[string]any)
	if n, _ := sh["name"].(string); n != "" && !strings.ContainsAny(n, "/\\") && strings.HasSuffix(n, ".ipynb") && !strings.HasPrefix(n, ".") {
		return n
	}
	return "shared-" + id + ".ipynb"
}

// copyShare returns the user's editable copy of a share, making it the first time; like the
// copy of a shipped notebook, its metadata (loopbook.from_share) says what it is a copy of, so
// opening the share again finds it.
func (s *store) copyShare(id string) (string, error) {
	nb, _, err := s.readShare(id)
	if err != nil {
		return "", err
	}
	// The copy keeps neither the snapshot's own metadata nor a shipped notebook's mark.
	return s.markedCopy(shareName(nb, id), "from_share", id, []string{"share", "shipped"}, func() (*ipynb.Notebook, error) {
		return nb, nil
	})
}

// snapshot is a notebook as it is now: an open notebook's session state (outputs not saved
// yet, the loop recording so far), else the file.
func (s *Server) snapshot(p string) (*ipynb.Notebook, error) {
	s.mu.Lock()
	ss := s.sessions[p]
	s.mu.Unlock()
	var data []byte
	var err error
	done := make(chan struct{})
	if ss != nil && ss.do(func() {
		defer close(done)
		ss.storeRecording()
		data, err = ss.nb.Marshal()
	}) {
		<-done
		if err != nil {
			return nil, err
		}
		return ipynb.Unmarshal(data) // a copy the session no longer touches
	}
	return s.store.read(p)
}

// --- handlers ---

func (s *Server) share(w http.ResponseWriter, r *http.Request) {
	p, err := clean(chi.URLParam(r, "*"))
	if err != nil {
		writeErr(w, http.StatusBadRequest, err)
		return
	}
	nb, err := s.snapshot(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			writeErr(w, http.StatusNotFound, err)
		} else {
			writeErr(w, http.StatusInternalServerError, err)
		}
		return
	}
	if nb.Metadata == nil {
		nb.Metadata = map[string]any{}
	}
	lb, _ := nb.Metadata["loopbook"].(map[string]any)
	if lb == nil {
		lb = map[string]any{}
	}
	lb["share"] = map[string]any{"name": path.Base(p)}
	nb.Metadata["loopbook"] = lb
	id, err := s.store.putShare(nb)
	if err != nil {
		writeErr(w, http.StatusInternalServerError, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"id": id, "url": "/s/" + id})
}

// shareOr404 reads the share the URL names, answering 404 for a bad or unknown id.
func (s *Server) shareOr404(w http.ResponseWriter, r *http.Request) (string, *ipynb.Notebook, []byte, bool) {
	id := chi.URLParam(r, "id")
	nb, b, err := s.store.readShare(id)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			writeErr(w, http.StatusNotFound, errors.New("no such share"))
		} else {
			writeErr(w, http.StatusInternalServerError, err)
		}
		return "", nil, nil, false
	}
	return id, nb, b, true
}

func (s *Server) sharePage(w http.ResponseWriter, r *http.Request) {
	if !validShareID(chi.URLParam(r, "id")) {
		http.Error(w, "no such share", http.StatusNotFound)
		return
	}
	if _, err := os.Stat(s.store.shareFile(chi.URLParam(r, "id"))); err != nil {
		http.Error(w, "no such share", http.StatusNotFound)
		return
	}
	s.page(w, r)
}

func (s *Server) shareDownload(w http.ResponseWriter, r *http.Request) {
	id, nb, b, ok := s.shareOr404(w, r)
	if !ok {
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/x-ipynb+json")
	h.Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", shareName(nb, id)))
	h.Set("Cache-Control", "private, max-age=31536000, immutable")
	w.Write(b)
}

// shareView is what the page shows of a share: the state a read-only notebook's session would
// send, and its loop recording for replay.
func (s *Server) shareView(w http.ResponseWriter, r *http.Request) {
	id, nb, _, ok := s.shareOr404(w, r)
	if !ok {
		return
	}
	st := NbState{Path: shareName(nb, id), ReadOnly: true, Saved: true, Kernel: KernelStatus{State: "none"}, Cells: []Cell{}}
	for _, c := range nb.Cells {
		v := Cell{ID: c.ID, Type: string(c.Type), Source: c.Source, Count: c.ExecutionCount, State: "idle", Elapsed: savedElapsed(c), Outputs: []Output{}}
		e := cellElision(c)
		for _, o := range c.Outputs {
			ov := outputView(o)
			e.mark(&ov)
			v.Outputs = append(v.Outputs, ov)
		}
		st.Cells = append(st.Cells, v)
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "name": st.Path, "state": st, "recording": savedRecording(nb)})
}

func (s *Server) shareOutput(w http.ResponseWriter, r *http.Request) {
	id, nb, _, ok := s.shareOr404(w, r)
	if !ok {
		return
	}
	name := shareName(nb, id)
	cellID := r.URL.Query().Get("cell")
	for _, c := range nb.Cells {
		if c.ID == cellID && c.Type == ipynb.CellCode {
			base := strings.TrimSuffix(name, ".ipynb")
			file := base + "-output.txt"
			if c.ExecutionCount != nil {
				file = fmt.Sprintf("%s-In%d-output.txt", base, *c.ExecutionCount)
			}
			h := w.Header()
			h.Set("Content-Type", "text/plain; charset=utf-8")
			h.Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", file))
			w.Write([]byte(cellText(name, c)))
			return
		}
	}
	writeErr(w, http.StatusNotFound, fmt.Errorf("the share has no code cell %q", cellID))
}

func (s *Server) shareCopy(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	p, err := s.store.copyShare(id)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			writeErr(w, http.StatusNotFound, errors.New("no such share"))
		} else {
			writeErr(w, http.StatusInternalServerError, err)
		}
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"path": p})
}

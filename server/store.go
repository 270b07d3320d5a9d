package server

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/loopbook/loopbook/ipynb"
)

// store is the user's notebooks directory plus the shipped, read-only originals.
type store struct {
	dir     string
	shipped fs.FS // may be nil
}

// errBadPath is returned for names that are not a notebook inside the directory.
var errBadPath = errors.New("not a notebook path: use a relative name ending in .ipynb, without ..")

// clean validates a notebook path from a request: relative, slash-separated, inside the
// directory, ending in .ipynb, no hidden parts.
func clean(p string) (string, error) {
	p = strings.TrimPrefix(p, "/")
	if p == "" || !strings.HasSuffix(p, ".ipynb") || strings.Contains(p, "\\") || strings.ContainsRune(p, 0) {
		return "", errBadPath
	}
	c := path.Clean(p)
	if c != p || !fs.ValidPath(c) {
		return "", errBadPath
	}
	for _, part := range strings.Split(c, "/") {
		if strings.HasPrefix(part, ".") {
			return "", errBadPath
		}
	}
	return c, nil
}

func (s *store) file(p string) string { return filepath.Join(s.dir, filepath.FromSlash(p)) }

// listEntry is one notebook in a listing.
type listEntry struct {
	Path     string `json:"path"`
	Title    string `json:"title"`
	Modified string `json:"modified,omitempty"`
}

func (s *store) listMine() ([]listEntry, error) {
	var out []listEntry
	err := filepath.WalkDir(s.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == s.dir && errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll
			}
			return err
		}
		name := d.Name()
		if strings.HasPrefix(name, ".") && p != s.dir {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() || !strings.HasSuffix(name, ".ipynb") {
			return nil
		}
		rel, _ := filepath.Rel(s.dir, p)
		info, _ := d.Info()
		e := listEntry{Path: filepath.ToSlash(rel), Title: strings.TrimSuffix(name, ".ipynb")}
		if info != nil {
			e.Modified = info.ModTime().UTC().Format(time.RFC3339)
		}
		out = append(out, e)
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, err
}

func (s *store) listShipped() []listEntry {
	var out []listEntry
	if s.shipped == nil {
		return out
	}
	fs.WalkDir(s.shipped, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".ipynb") {
			out = append(out, listEntry{Path: p, Title: shippedTitle(s.shipped, p)})
		}
		return nil
	})
	return out
}

// shippedTitle is the first Markdown heading of a shipped notebook, or its name.
func shippedTitle(fsys fs.FS, p string) string {
	b, err := fs.ReadFile(fsys, p)
	if err == nil {
		if nb, err := ipynb.Read(bytes.NewReader(b)); err == nil {
			for _, c := range nb.Cells {
				if c.Type == ipynb.CellMarkdown {
					for _, line := range strings.Split(c.Source, "\n") {
						if t, ok := strings.CutPrefix(line, "# "); ok {
							return strings.TrimSpace(t)
						}
					}
				}
			}
		}
	}
	return strings.TrimSuffix(path.Base(p), ".ipynb")
}

func (s *store) read(p string) (*ipynb.Notebook, error) {
	return ipynb.ReadFile(s.file(p))
}

func (s *store) write(p string, nb *ipynb.Notebook) error {
	f := s.file(p)
	if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
		return err
	}
	return ipynb.WriteFile(f, nb)
}

func (s *store) exists(p string) bool {
	_, err := os.Stat(s.file(p))
	return err == nil
}

// create makes an empty notebook with one code cell.
func (s *store) create(p string) error {
	if s.exists(p) {
		return fmt.Errorf("%s already exists", p)
	}
	nb := ipynb.New()
	nb.Cells = append(nb.Cells, nb.NewCell(ipynb.CellCode, ""))
	return s.write(p, nb)
}

func (s *store) rename(from, to string) error {
	if !s.exists(from) {
		return fmt.Errorf("%s: %w", from, fs.ErrNotExist)
	}
	if s.exists(to) {
		return fmt.Errorf("%s already exists", to)
	}
	if err := os.MkdirAll(filepath.Dir(s.file(to)), 0o755); err != nil {
		return err
	}
	return os.Rename(s.file(from), s.file(to))
}

func (s *store) remove(p string) error { return os.Remove(s.file(p)) }

// copyName is the i-th name a copy of p may take: p itself (i = 0), then "name copy.ipynb",
// "name copy 2.ipynb", …
func copyName(p string, i int) string {
	base := strings.TrimSuffix(p, ".ipynb")
	switch {
	case i == 0:
		return p
	case i == 1:
		return base + " copy.ipynb"
	}
	return fmt.Sprintf("%s copy %d.ipynb", base, i)
}

// freeName finds "name copy.ipynb", "name copy 2.ipynb", … that does not exist yet.
func (s *store) freeName(p string) string {
	for i := 1; ; i++ {
		if cand := copyName(p, i); !s.exists(cand) {
			return cand
		}
	}
}

// markedCopy returns the user's copy of something named p, making it the first time. The copy
// carries metadata loopbook[key] = mark, which is how it is found again: it is the first of p's
// copy names that holds a notebook so marked, or, if none does before a free name, that free
// name, where build's notebook is written with the mark (and without the keys in drop). A
// notebook of the user's own that happens to have the name is never taken for the copy.
func (s *store) markedCopy(p, key string, mark any, drop []string, build func() (*ipynb.Notebook, error)) (string, error) {
	for i := 0; ; i++ {
		cand := copyName(p, i)
		if !s.exists(cand) {
			nb, err := build()
			if err != nil {
				return "", err
			}
			lb, _ := nb.Metadata["loopbook"].(map[string]any)
			if lb == nil {
				lb = map[string]any{}
			}
			for _, k := range drop {
				delete(lb, k)
			}
			lb[key] = mark
			nb.Metadata["loopbook"] = lb
			return cand, s.write(cand, nb)
		}
		if nb, err := s.read(cand); err == nil {
			if lb, _ := nb.Metadata["loopbook"].(map[string]any); lb[key] == mark {
				return cand, nil
			}
		}
	}
}

func (s *store) duplicate(p string) (string, error) {
	nb, err := s.read(p)
	if err != nil {
		return "", err
	}
	to := s.freeName(p)
	return to, s.write(to, nb)
}

// openShipped returns the user's editable copy of a shipped notebook, making it the first time.
// The copy has the shipped notebook's name; its metadata (loopbook.shipped) says what it is a
// copy of, so a notebook of the user's own that happens to have that name is never taken for
// it (the copy is then "name copy.ipynb", and found there again).
func (s *store) openShipped(p string) (string, error) {
	if s.shipped == nil {
		return "", fs.ErrNotExist
	}
	b, err := fs.ReadFile(s.shipped, p)
	if err != nil {
		return "", err
	}
	return s.markedCopy(p, "shipped", p, nil, func() (*ipynb.Notebook, error) {
		return ipynb.Read(bytes.NewReader(b))
	})
}

// upload stores an uploaded notebook under a free name.
func (s *store) upload(name string, data []byte) (string, error) {
	nb, err := ipynb.Read(bytes.NewReader(data))
	if err != nil {
		return "", err
	}
	p, err := clean(path.Base(strings.ReplaceAll(name, "\\", "/")))
	if err != nil {
		return "", err
	}
	if s.exists(p) {
		p = s.freeName(p)
	}
	return p, s.write(p, nb)
}

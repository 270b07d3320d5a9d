package ipynb

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tempFiles lists leftover temporary files in dir.
func tempFiles(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var tmp []string
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp-") {
			tmp = append(tmp, e.Name())
		}
	}
	return tmp
}

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "nb.ipynb")
	nb := richNotebook(t)
	if err := WriteFile(path, nb); err != nil {
		t.Fatal(err)
	}
	want, _ := nb.Marshal()
	got, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("file content differs from Marshal (err %v)", err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm()&0o600 != 0o600 {
		t.Errorf("new file mode %v", fi.Mode())
	}
	// Overwriting keeps the existing file's mode.
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	nb.Cells = nb.Cells[:1]
	if err := WriteFile(path, nb); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode after overwrite = %v, want 0640", fi.Mode().Perm())
	}
	if back, err := ReadFile(path); err != nil || len(back.Cells) != 1 {
		t.Errorf("reread: %v", err)
	}
	if tmp := tempFiles(t, dir); len(tmp) > 0 {
		t.Errorf("temporary files left: %v", tmp)
	}
}

func TestWriteFileSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "real.ipynb")
	link := filepath.Join(dir, "link.ipynb")
	if err := WriteFile(target, New()); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Skip("no symlinks:", err)
	}
	nb := New()
	nb.Cells = append(nb.Cells, nb.NewCell(CellMarkdown, "via link"))
	if err := WriteFile(link, nb); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("link replaced by a file: %v", err)
	}
	if back, err := ReadFile(target); err != nil || len(back.Cells) != 1 {
		t.Errorf("target not updated: %v", err)
	}
}

// TestWriteFileFailureKeepsOld makes WriteFile fail at several points and
// checks that the old file is intact and no temporary file remains.
func TestWriteFileFailureKeepsOld(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "nb.ipynb")
	if err := WriteFile(path, richNotebook(t)); err != nil {
		t.Fatal(err)
	}
	old, _ := os.ReadFile(path)
	check := func(t *testing.T) {
		t.Helper()
		if got, _ := os.ReadFile(path); !bytes.Equal(got, old) {
			t.Error("old file changed")
		}
		if tmp := tempFiles(t, dir); len(tmp) > 0 {
			t.Errorf("temporary files left: %v", tmp)
		}
	}
	t.Run("invalid notebook", func(t *testing.T) {
		bad := richNotebook(t)
		bad.Cells[1].ID = bad.Cells[0].ID
		if err := WriteFile(path, bad); err == nil {
			t.Fatal("no error")
		}
		check(t)
	})
	t.Run("failure before rename", func(t *testing.T) {
		injected := errors.New("disk on fire")
		var sawTemp bool
		testHookBeforeRename = func(tmp string) error {
			// The new content is complete in the temporary file.
			b, err := os.ReadFile(tmp)
			sawTemp = err == nil && bytes.Contains(b, []byte(`"cells": []`))
			return injected
		}
		defer func() { testHookBeforeRename = nil }()
		if err := WriteFile(path, New()); !errors.Is(err, injected) {
			t.Fatalf("err = %v", err)
		}
		if !sawTemp {
			t.Error("temporary file was not written before the rename")
		}
		check(t)
	})
	t.Run("read-only directory", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root ignores directory permissions")
		}
		if err := os.Chmod(dir, 0o555); err != nil {
			t.Fatal(err)
		}
		defer os.Chmod(dir, 0o755)
		if err := WriteFile(path, New()); err == nil {
			t.Fatal("no error")
		}
		check(t)
	})
	t.Run("missing directory", func(t *testing.T) {
		if err := WriteFile(filepath.Join(dir, "no", "such.ipynb"), New()); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("err = %v", err)
		}
		check(t)
	})
	t.Run("target is a directory", func(t *testing.T) {
		sub := filepath.Join(dir, "sub.ipynb")
		if err := os.Mkdir(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		defer os.Remove(sub)
		if err := WriteFile(sub, New()); err == nil {
			t.Error("no error")
		}
		check(t)
	})
}

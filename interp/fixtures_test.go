package interp_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/loopbook/loopbook/interp"
	"github.com/loopbook/loopbook/loop"
)

// The fixtures in testdata/cells are notebooks in txtar form: a comment saying what the
// fixture proves, then one file per cell run and one per expected output:
//
//	-- In[1] --        the source of run 1, of a cell whose id is "c1"
//	-- In[3] c1 --     run 3 re-runs (or, with new source, edits) cell c1
//	-- Out[1] --       what run 1 produced, rendered by notebook.render:
//	                     notice: …        a notice of the session (a rebuild and replay)
//	                     plain lines      what the cell printed to stdout while it ran
//	                     stderr| …        what it printed to stderr (also loop| display| …)
//	                     Out: …           its Out[n], text/plain, other MIME types in [ ]
//	                     error: …         its error, Traceback lines on error| lines
//	                     after …          what its timers, tasks and goroutines printed after
//	                                      the cell returned
//	                     goroutine| …     the reported panic of a goroutine it started
//
// A comment line "wait: goroutines" makes each cell start only once the goroutines of the earlier
// cells have ended (yaegi races with itself when a goroutine runs while a cell compiles).
//
// All cells of a fixture run in one notebook, one after the other, then the notebook settles
// (nothing left on the loop, no goroutine left), the loop reports what each run left behind
// (loop.Report: exceptions never retrieved, coroutines never awaited; each run is also reported
// when its cell returns, as the kernel does), then every run's output is compared.
//
// go test ./interp -run TestFixtures -update rewrites the Out files from what the cells did.

var update = flag.Bool("update", false, "rewrite the expected outputs of testdata/cells/*.txtar")

// archive is a parsed txtar file.
type archive struct {
	comment string
	files   []archiveFile
}

type archiveFile struct {
	name string
	data string
}

var markerRE = regexp.MustCompile(`^-- (.+) --$`)

// parseArchive reads the txtar format: a comment, then files, each introduced by a line
// "-- name --".
func parseArchive(src string) archive {
	var a archive
	cur := &a.comment
	for line := range strings.Lines(src) {
		if m := markerRE.FindStringSubmatch(strings.TrimRight(line, "\n")); m != nil {
			a.files = append(a.files, archiveFile{name: strings.TrimSpace(m[1])})
			cur = &a.files[len(a.files)-1].data
			continue
		}
		*cur += line
	}
	return a
}

func (a archive) format() []byte {
	var b bytes.Buffer
	b.WriteString(a.comment)
	for _, f := range a.files {
		fmt.Fprintf(&b, "-- %s --\n", f.name)
		b.WriteString(f.data)
		if f.data != "" && !strings.HasSuffix(f.data, "\n") {
			b.WriteString("\n")
		}
	}
	return b.Bytes()
}

var inRE = regexp.MustCompile(`^In\[(\d+)\](?:\s+(\S+))?$`)
var outRE = regexp.MustCompile(`^Out\[(\d+)\]$`)

func TestFixtures(t *testing.T) {
	paths, err := filepath.Glob("testdata/cells/*.txtar")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, path := range paths {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txtar"), func(t *testing.T) {
			runFixture(t, path)
		})
	}
}

func runFixture(t *testing.T, path string) {
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	a := parseArchive(string(src))
	var cells []interp.Cell
	want := map[int]string{}
	for _, f := range a.files {
		if m := inRE.FindStringSubmatch(f.name); m != nil {
			n, _ := strconv.Atoi(m[1])
			if n != len(cells)+1 {
				t.Fatalf("%s: In[%d] out of order: runs count from 1", path, n)
			}
			id := m[2]
			if id == "" {
				id = "c" + m[1]
			}
			// The newline the archive format adds to the last line is not part of the cell.
			cells = append(cells, interp.Cell{ID: id, Count: n, Source: strings.TrimSuffix(f.data, "\n")})
			continue
		}
		if m := outRE.FindStringSubmatch(f.name); m != nil {
			n, _ := strconv.Atoi(m[1])
			want[n] = f.data
			continue
		}
		t.Fatalf("%s: unknown file %q", path, f.name)
	}
	nb := newNotebook(t)
	nb.waitGoroutines = strings.Contains(a.comment, "wait: goroutines")
	results := nb.runCells(cells)
	nb.settle()
	nb.reportAll(cells)
	got := map[int]string{}
	for i, c := range cells {
		got[c.Count] = nb.render(loop.Owner(c.Count), results[i])
	}
	if *update {
		var files []archiveFile
		for _, c := range cells {
			name := fmt.Sprintf("In[%d]", c.Count)
			if c.ID != "c"+strconv.Itoa(c.Count) {
				name += " " + c.ID
			}
			files = append(files, archiveFile{name: name, data: c.Source + "\n"})
			files = append(files, archiveFile{name: fmt.Sprintf("Out[%d]", c.Count), data: got[c.Count]})
		}
		a.files = files
		if err := os.WriteFile(path, a.format(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	for _, c := range cells {
		if got[c.Count] != want[c.Count] {
			t.Errorf("In[%d]:\n%s\n--- got Out[%d] ---\n%s--- want ---\n%s", c.Count, c.Source, c.Count, got[c.Count], want[c.Count])
		}
	}
}

package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loopbook/loopbook/headless"
	"github.com/loopbook/loopbook/ipynb"
	"github.com/loopbook/loopbook/kernel"
)

// The test binary doubles as the kernel, as `loopbook kernel` would be.
func TestMain(m *testing.M) {
	if os.Getenv("LOOPBOOK_TEST_KERNEL") == "1" {
		os.Exit(kernel.Serve(os.Args[1:]))
	}
	os.Exit(m.Run())
}

func testKernel() kernel.Config {
	return kernel.Config{Command: []string{os.Args[0]}, Env: []string{"LOOPBOOK_TEST_KERNEL=1"}}
}

// `loopbook run` executes every cell in a fresh kernel, prints the outputs in cell order and
// writes the executed notebook; a cell tagged raises-exception may fail.
func TestRunNotebook(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out.ipynb")
	var stdout bytes.Buffer
	m := &Main{Stdout: &stdout, Stderr: &stdout, Kernel: testKernel()}
	if err := m.Run(context.Background(), []string{"run", "testdata/run.ipynb", "-o", out}); err != nil {
		t.Fatalf("run: %v\n%s", err, stdout.String())
	}
	printed := stdout.String()
	for _, want := range []string{
		"── In[1] ──\nhello\nOut[1]: 42\n",
		"── In[2] ──\nOut[2]: (<TimerHandle when=",
		"timer() created at In[2]:1>, <nil>)\na timer, after the cell\n",
		"── In[3] ──\nPanic: In[3]:4: panic: Event loop is closed",
	} {
		if !strings.Contains(printed, want) {
			t.Errorf("output lacks %q:\n%s", want, printed)
		}
	}
	nb, err := ipynb.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := nb.Validate(); err != nil {
		t.Errorf("executed notebook is invalid: %v", err)
	}
	hello := nb.Cells[1]
	if hello.ExecutionCount == nil || *hello.ExecutionCount != 1 || len(hello.Outputs) != 2 ||
		hello.Outputs[0].Text != "hello\n" || hello.Outputs[1].Data["text/plain"] != "42" {
		t.Errorf("cell hello: count %v, outputs %+v", hello.ExecutionCount, hello.Outputs)
	}
}

// A failing cell stops the run and fails it, like nbconvert --execute.
func TestRunNotebookFails(t *testing.T) {
	nb := ipynb.New()
	nb.Cells = append(nb.Cells, nb.NewCell(ipynb.CellCode, "x := 1 +"), nb.NewCell(ipynb.CellCode, `fmt.Println("not reached")`))
	rep, err := headless.Run(context.Background(), nb, headless.Options{Kernel: testKernel()})
	if !errors.Is(err, headless.ErrCellFailed) || rep.Ran != 1 || len(rep.Failed) != 1 {
		t.Fatalf("Run = %+v, %v; want a failure after one cell", rep, err)
	}
	if got := nb.Cells[0].Outputs; len(got) != 1 || got[0].Ename != "SyntaxError" {
		t.Errorf("first cell outputs %+v", got)
	}
	if nb.Cells[1].ExecutionCount != nil {
		t.Errorf("the cell after the failure ran")
	}
}

// `loopbook run` honours metadata.loopbook.virtual_time, as the shipped notebooks' golden test
// does: an hour's sleep takes no time and loop time is exact. Without it the loop keeps real time.
func TestRunNotebookVirtualTime(t *testing.T) {
	for _, virtual := range []bool{true, false} {
		nb := ipynb.New()
		if virtual {
			if err := ipynb.SetMetadata(&nb.Metadata, ipynb.LoopbookKey, map[string]any{"virtual_time": true}); err != nil {
				t.Fatal(err)
			}
		}
		code := "L.VirtualTime()"
		if virtual {
			code = "t0 := L.Time()\nco.Sleep(time.Hour)\nfmt.Println(L.VirtualTime(), L.Time()-t0)"
		}
		nb.Cells = append(nb.Cells, nb.NewCell(ipynb.CellCode, code))
		dir := t.TempDir()
		path := filepath.Join(dir, "nb.ipynb")
		if err := ipynb.WriteFile(path, nb); err != nil {
			t.Fatal(err)
		}
		var stdout, stderr bytes.Buffer
		m := &Main{Stdout: &stdout, Stderr: &stderr, Kernel: testKernel()}
		if err := m.Run(context.Background(), []string{"run", path}); err != nil {
			t.Fatalf("virtual=%v: run: %v\n%s%s", virtual, err, stdout.String(), stderr.String())
		}
		want, note := "── In[1] ──\nOut[1]: false\n", ""
		if virtual {
			want, note = "── In[1] ──\ntrue 1h0m0s\n", "on virtual time"
		}
		if stdout.String() != want {
			t.Errorf("virtual=%v: printed %q, want %q", virtual, stdout.String(), want)
		}
		if !strings.Contains(stderr.String(), note) {
			t.Errorf("virtual=%v: stderr %q lacks %q", virtual, stderr.String(), note)
		}
		if !virtual && strings.Contains(stderr.String(), "virtual") {
			t.Errorf("real time run says virtual: %q", stderr.String())
		}
	}
}

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

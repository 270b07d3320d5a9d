package interp_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/loopbook/loopbook/interp"
	"github.com/loopbook/loopbook/loop"
)

// gotchas is the fixture index: for each of the 23 gotchas of reference/yaegi.md §10, the
// fixture (testdata/cells) or test showing that its workaround holds, or, where the gotcha
// belongs to the kernel process, "kernel:" and what the kernel's tests must cover.
var gotchas = []struct {
	n      int
	what   string
	proof  string // a fixture name, or a test of this package
	kernel string // what the kernel (or package symbols) must cover, when it owns the gotcha
}{
	{1, "mixed cells rejected", "split_mixed", ""},
	{2, "re-imports and per-file imports", "imports", ""},
	{3, "type and method redefinition ignored", "redefine_types", ""},
	{4, "func main reruns", "main_func", ""},
	{5, "failed compile leaves zero-valued names", "failed_compile", ""},
	{6, "Out[n] junk", "out_values", ""},
	{7, "constant definition loop", "undefined_names", ""},
	{8, "compile-time interpreter panics", "internal_error", ""},
	{9, "loop variables, range over int, min/max/clear", "loopvars range_int", ""},
	{10, "stdlib frozen at 1.22, partial generics", "stdlib", "symbols: the regenerated tables and prelude are tested there"},
	{11, "os.Stdout not captured", "", "kernel: fd 1/2 are pipes; fmt.Fprintln(os.Stdout), os.Stderr, slog and native writers must reach the owning cell (interp only routes fmt/print/log through Options.Stdout/Stderr)"},
	{12, "println to stdout; panic lines on stderr", "panic_lines errors", ""},
	{13, "panic in a goroutine kills the process", "goroutines", "kernel: goroutines started by native code are not guarded; the process boundary is the backstop"},
	{14, "interrupt stops everything; callbacks then do nothing", "TestInterrupt", "kernel: the layered interrupt (cancel the task, then Session.Interrupt, then kill) and cancelling what cells own after Interrupt"},
	{15, "zombie top-level code after a cancel", "", "kernel: wait for quiescence after Interrupt (Session.Executing) or kill after a grace period"},
	{16, "native blocking calls cannot be interrupted", "", "kernel: escalation to a restart when a native call blocks"},
	{17, "runtime.Goexit", "stdlib", "symbols: removed from the tables"},
	{18, "memory only grows", "", "kernel: RSS shown, restart at a threshold, debug.SetMemoryLimit in the child"},
	{19, "stack overflow and OOM are fatal", "", "kernel: SetMaxStack, rlimits, a supervisor that reports the death and restarts"},
	{20, "not a sandbox; symbol filter bypass", "stdlib", "kernel and symbols: the OS sandbox; the allowlist (no yaegi stdlib key, no reflect.NewAt, no os/exec)"},
	{21, "extract output pinned to a Go version", "stdlib", "symbols: drift check in CI; strings.Lines proves the regenerated tables are in use"},
	{22, "extract skips generics", "stdlib", "symbols: the prelude's slices/maps helpers"},
	{23, "one interpreter, one cell at a time", "", "kernel: cells of a notebook are serialised (its queue and pump); Session is not safe for concurrent Execute"},
}

// TestGotchaIndex checks that every gotcha has its proof or its owner, and that the fixtures
// named exist.
func TestGotchaIndex(t *testing.T) {
	if len(gotchas) != 23 {
		t.Fatalf("the index has %d gotchas, reference/yaegi.md §10 has 23", len(gotchas))
	}
	for i, g := range gotchas {
		if g.n != i+1 {
			t.Errorf("gotcha %d is listed as %d", i+1, g.n)
		}
		if g.proof == "" && g.kernel == "" {
			t.Errorf("gotcha %d (%s): no proof and no owner", g.n, g.what)
		}
		for _, name := range strings.Fields(g.proof) {
			if strings.HasPrefix(name, "Test") {
				continue
			}
			if _, err := os.Stat(filepath.Join("testdata/cells", name+".txtar")); err != nil {
				t.Errorf("gotcha %d: fixture %s: %v", g.n, name, err)
			}
		}
	}
}

// TestInterrupt: Interrupt stops a cell stuck in interpreted code from another goroutine; the
// cell reports Interrupted and the next cell runs normally (the session re-primes yaegi).
func TestInterrupt(t *testing.T) {
	nb := newNotebook(t)
	go func() {
		// Wait until the cell is inside the interpreter, then interrupt it. No timing
		// assumption: the loop below spins until the cell is executing.
		for !nb.s.Executing() {
			time.Sleep(time.Millisecond)
		}
		nb.s.Interrupt()
	}()
	res, _ := nb.run(1, "n := 0\nfor { n++ }")
	if res.Err == nil || res.Err.Kind != interp.Interrupted {
		t.Fatalf("In[1]: got %v, want an Interrupted error", res.Err)
	}
	res, out := nb.run(2, `fmt.Println("after the interrupt")`+"\n1 + 1")
	if res.Err != nil || out != "after the interrupt\nOut: 2\n" {
		t.Fatalf("In[2]: err %v, output %q", res.Err, out)
	}
	if n := nb.s.Goroutines(loop.Owner(1)); n != 0 {
		t.Fatalf("goroutines of In[1]: %d", n)
	}
}

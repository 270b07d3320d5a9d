package interp_test

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	yaegi "github.com/traefik/yaegi/interp"
	"github.com/traefik/yaegi/stdlib"

	"github.com/loopbook/loopbook/interp"
	"github.com/loopbook/loopbook/loop"
)

// testExports stands in for the kernel's symbol tables: the standard library and loop.
func testExports() yaegi.Exports {
	ex := yaegi.Exports{}
	for k, v := range stdlib.Symbols {
		ex[k] = v
	}
	ex["loop/loop"] = map[string]reflect.Value{
		"New":    reflect.ValueOf(loop.New),
		"Co":     reflect.ValueOf((*loop.Co)(nil)),
		"Loop":   reflect.ValueOf((*loop.Loop)(nil)),
		"Future": reflect.ValueOf((*loop.Future)(nil)),
		"Task":   reflect.ValueOf((*loop.Task)(nil)),
	}
	return ex
}

// notebook runs cells the way the kernel does: one loop running for ever on its own goroutine,
// each cell a task on it owned by its run, output collected per owner.
type notebook struct {
	t    *testing.T
	l    *loop.Loop
	s    *interp.Session
	mu   sync.Mutex
	outs map[loop.Owner]*strings.Builder
	done chan struct{}
	n    int
}

type ownerWriter struct {
	nb     *notebook
	prefix string
}

func (w ownerWriter) Write(p []byte) (int, error) {
	o, _ := w.nb.s.CallerOwner()
	w.nb.mu.Lock()
	defer w.nb.mu.Unlock()
	b := w.nb.outs[o]
	if b == nil {
		b = &strings.Builder{}
		w.nb.outs[o] = b
	}
	b.WriteString(w.prefix)
	b.Write(p)
	return len(p), nil
}

func newNotebook(t *testing.T) *notebook {
	t.Helper()
	l, err := loop.New(loop.Options{VirtualTime: true})
	if err != nil {
		t.Fatal(err)
	}
	nb := &notebook{t: t, l: l, outs: map[loop.Owner]*strings.Builder{}, done: make(chan struct{})}
	nb.s, err = interp.New(interp.Options{
		Loop:    l,
		Stdout:  ownerWriter{nb, ""},
		Stderr:  ownerWriter{nb, "stderr: "},
		Exports: testExports(),
		OnGoPanic: func(o loop.Owner, e *interp.Error) {
			nb.mu.Lock()
			defer nb.mu.Unlock()
			if nb.outs[o] == nil {
				nb.outs[o] = &strings.Builder{}
			}
			fmt.Fprintf(nb.outs[o], "goroutine error: %v\n", e)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(nb.done)
		l.RunForever()
	}()
	t.Cleanup(func() {
		l.CallSoonThreadSafe(l.Stop)
		<-nb.done
	})
	return nb
}

// run runs one cell and returns its result and what it printed while it ran.
func (nb *notebook) run(id, src string) (interp.Result, string) {
	nb.n++
	count := nb.n
	owner := loop.Owner(count)
	ch := make(chan interp.Result, 1)
	nb.l.CallSoonThreadSafe(func() {
		nb.l.CreateTask(func(co *loop.Co) (any, error) {
			ch <- nb.s.Execute(co, interp.Cell{ID: id, Count: count, Source: src})
			return nil, nil
		}, loop.WithOwner(owner))
	})
	var res interp.Result
	select {
	case res = <-ch:
	case <-time.After(10 * time.Second):
		nb.t.Fatalf("cell %s did not finish", id)
	}
	return res, nb.output(owner)
}

func (nb *notebook) output(o loop.Owner) string {
	nb.mu.Lock()
	defer nb.mu.Unlock()
	if b := nb.outs[o]; b != nil {
		return b.String()
	}
	return ""
}

func TestSmoke(t *testing.T) {
	nb := newNotebook(t)
	for i, src := range []string{
		`fmt.Println("hello")`,
		"x := 5\nx*2",
		"import \"strings\"\nfunc up(s string) string { return strings.ToUpper(s) }\nup(\"abc\")",
		"var fs []func()\nfor i := 0; i < 3; i++ { fs = append(fs, func() { fmt.Print(i) }) }\nfor _, f := range fs { f() }\nfmt.Println()",
		"for i := range 3 { fmt.Print(i) }\nfmt.Println()",
		"n := 4\nfor i := range n { fmt.Print(i) }\nfmt.Println()",
		"min(2.5, 1.5)",
		"max(3, 7, 5)",
		"m := map[string]int{\"a\": 1}\nclear(m)\nlen(m)",
		"co.Sleep(time.Second)\nL.Time()",
		"L.CallLater(time.Second, func() { fmt.Println(\"later\") })\n\"scheduled\"",
		"go func() { panic(\"boom\") }()\nco.Sleep(10*time.Millisecond)",
		"func f() { var a []int; _ = a[3] }\nf()",
		"y := undefinedThing",
		"z := 1 +",
		"type T struct{ A int }\nT{A: 1}",
		"type T struct{ A, B int }\nT{A: 1, B: 2}",
		"func main() { fmt.Println(\"main ran\") }",
		"fmt.Println(\"after main\")",
		"func two() (int, error) { return 1, nil }\ntwo()",
	} {
		res, out := nb.run(fmt.Sprint("c", i), src)
		t.Logf("In[%d] %q\n  out=%q value=%v err=%v notices=%v", i+1, src, out, res.Value, res.Err, res.Notices)
		if res.Err != nil {
			t.Logf("  trace=%q", res.Err.Traceback())
		}
	}
}

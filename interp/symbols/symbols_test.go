package symbols_test

import (
	"bytes"
	"fmt"
	"log"
	"net"
	"os"
	"os/exec"
	"path"
	"reflect"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/traefik/yaegi/interp"
	"github.com/traefik/yaegi/stdlib"

	"github.com/loopbook/loopbook/interp/display"
	"github.com/loopbook/loopbook/interp/symbols"
)

// newInterp returns an interpreter loaded as the kernel loads it, and the buffer its standard
// output and error go to.
func newInterp(t testing.TB) (*interp.Interpreter, *bytes.Buffer) {
	t.Helper()
	var out bytes.Buffer
	i := interp.New(interp.Options{Stdout: &out, Stderr: &out})
	if err := symbols.Load(i); err != nil {
		t.Fatalf("Load: %v", err)
	}
	return i, &out
}

// run evaluates imports one by one (yaegi rejects mixing imports and statements), then body,
// and returns the value of body's last expression as text.
func run(i *interp.Interpreter, imports []string, body string) (res string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("interpreter panic: %v", r)
		}
	}()
	for _, imp := range imports {
		if _, err := i.Eval("import " + imp); err != nil {
			return "", err
		}
	}
	if body == "" {
		return "", nil
	}
	// Each line is one Eval, so that a cell can declare a type and then use it.
	var v reflect.Value
	for _, step := range strings.Split(body, "\n") {
		if v, err = i.Eval(step); err != nil {
			return "", err
		}
	}
	if !v.IsValid() || !v.CanInterface() {
		return "", nil
	}
	return fmt.Sprint(v.Interface()), nil
}

func TestForbidden(t *testing.T) {
	const noPkg = `unable to find source related to`
	tests := []struct {
		name    string
		imports []string
		body    string
		want    string // regexp the compile error must match
	}{
		{"os/exec", []string{`"os/exec"`}, ``, noPkg},
		{"syscall", []string{`"syscall"`}, ``, noPkg},
		{"unsafe", []string{`"unsafe"`}, ``, noPkg},
		{"plugin", []string{`"plugin"`}, ``, noPkg},
		{"net/http/cgi", []string{`"net/http/cgi"`}, ``, noPkg},
		{"os/signal", []string{`"os/signal"`}, ``, noPkg},
		{"go/build", []string{`"go/build"`}, ``, noPkg},
		{"go/importer", []string{`"go/importer"`}, ``, noPkg},
		{"yaegi stdlib self key", []string{`"github.com/traefik/yaegi/stdlib"`}, ``, noPkg},
		{"yaegi interp self key", []string{`"github.com/traefik/yaegi/interp"`}, ``, noPkg},
		{"display by its long path", []string{`"github.com/loopbook/loopbook/interp/display"`}, ``, noPkg},
		{"reflect.NewAt", []string{`"reflect"`}, `reflect.NewAt`, `has no symbol NewAt`},
		{"os.StartProcess", []string{`"os"`}, `os.StartProcess`, `has no symbol StartProcess`},
		{"os.FindProcess", []string{`"os"`}, `os.FindProcess`, `has no symbol FindProcess`},
		{"os.NewFile", []string{`"os"`}, `os.NewFile`, `has no symbol NewFile`},
		{"runtime.Goexit", []string{`"runtime"`}, `runtime.Goexit()`, `has no symbol Goexit`},
		{"runtime.GOMAXPROCS", []string{`"runtime"`}, `runtime.GOMAXPROCS(1)`, `has no symbol GOMAXPROCS`},
		{"runtime.LockOSThread", []string{`"runtime"`}, `runtime.LockOSThread()`, `has no symbol LockOSThread`},
		{"runtime.Breakpoint", []string{`"runtime"`}, `runtime.Breakpoint()`, `has no symbol Breakpoint`},
		{"debug.SetMaxStack", []string{`"runtime/debug"`}, `debug.SetMaxStack(1)`, `has no symbol SetMaxStack`},
		{"debug.SetMemoryLimit", []string{`"runtime/debug"`}, `debug.SetMemoryLimit(1)`, `has no symbol SetMemoryLimit`},
		{"debug.SetGCPercent", []string{`"runtime/debug"`}, `debug.SetGCPercent(1)`, `has no symbol SetGCPercent`},
		{"debug.WriteHeapDump", []string{`"runtime/debug"`}, `debug.WriteHeapDump(1)`, `has no symbol WriteHeapDump`},
		{"log.Default", []string{`"log"`}, `log.Default()`, `has no symbol Default`},
		{"testing.Main", []string{`"testing"`}, `testing.Main`, `has no symbol Main`},
		{"display.SetPublisher", []string{`"display"`}, `display.SetPublisher(nil)`, `has no symbol SetPublisher`},
		{"display.Publisher", []string{`"display"`}, `display.Publisher(nil)`, `undefined selector|undefined type|has no symbol`},
		{"display.Output", []string{`"display"`}, `display.Output{}`, `undefined selector|undefined type|has no symbol`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			i, _ := newInterp(t)
			res, err := run(i, tt.imports, tt.body)
			if err == nil {
				t.Fatalf("compiled and ran (result %q); want an error matching %q", res, tt.want)
			}
			if !regexp.MustCompile(tt.want).MatchString(err.Error()) {
				t.Fatalf("error %q does not match %q", err, tt.want)
			}
		})
	}
}

func TestAllowed(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("hello from the host\n"))
			c.Close()
		}
	}()

	tests := []struct {
		name    string
		imports []string
		body    string
		want    string
	}{
		{"fmt", []string{`"fmt"`}, `fmt.Sprintf("%03d", 7)`, "007"},
		{"strings.Lines (Go 1.24)", []string{`"strings"`},
			`n := 0; strings.Lines("a\nb\nc")(func(string) bool { n++; return true }); n`, "3"},
		{"strings.SplitSeq (Go 1.24)", []string{`"strings"`, `"slices"`},
			`slices.Collect[string](strings.SplitSeq("x,y", ","))`, "[x y]"},
		{"math/rand/v2", []string{`"math/rand/v2"`}, `n := rand.IntN(10); f := rand.Float64(); n >= 0 && n < 10 && f >= 0 && f < 1 && rand.Uint64() != 0`, "true"},
		{"time", []string{`"time"`}, `(90 * time.Second).String()`, "1m30s"},
		{"os.CopyFS exists (Go 1.23)", []string{`"os"`}, `os.CopyFS != nil`, "true"},
		{"net dial 127.0.0.1", []string{`"net"`, `"bufio"`}, fmt.Sprintf(
			`c, err := net.Dial("tcp", %q); if err != nil { panic(err) }; line, _ := bufio.NewReader(c).ReadString('\n'); c.Close(); line`,
			ln.Addr().String()), "hello from the host\n"},
		{"loop coroutine", []string{`"loop"`},
			`l, _ := loop.New(); r, err := l.RunUntilComplete(func(co *loop.Co) (any, error) { return 42, nil }); l.Close(); fmt.Sprint(r, err)`,
			"42 <nil>"},
		{"slices.Contains", []string{`"slices"`}, `slices.Contains([]string{"a", "b"}, "b")`, "true"},
		{"os.Exit panics", []string{`"os"`}, `r := ""; func() { defer func() { r = fmt.Sprint(recover()) }(); os.Exit(3) }(); r`, "os.Exit(3)"},
		{"os.Getenv is virtual", []string{`"os"`}, `os.Getenv("PATH") == ""`, "true"},
		{"sync.OnceFunc (Go 1.21, now extracted)", []string{`"sync"`},
			`n := 0; f := sync.OnceFunc(func() { n++ }); f(); f(); n`, "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			i, _ := newInterp(t)
			imports := tt.imports
			if strings.Contains(tt.body, "fmt.") && !slices.Contains(imports, `"fmt"`) {
				imports = append(imports, `"fmt"`)
			}
			got, err := run(i, imports, tt.body)
			if err != nil {
				t.Fatalf("error: %v", err)
			}
			if got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestDisplayShow(t *testing.T) {
	var mu sync.Mutex
	var got []display.Output
	prev := display.SetPublisher(func(o display.Output) {
		mu.Lock()
		got = append(got, o)
		mu.Unlock()
	})
	defer display.SetPublisher(prev)

	i, _ := newInterp(t)
	res, err := run(i, []string{`"display"`}, `h := display.Show(display.Text("x")); h.Update(display.HTML("<b>y</b>")); h.ID() != ""`)
	if err != nil || res != "true" {
		t.Fatalf("got %q, %v", res, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 || got[0].Data[display.MIMEText] != "x" || !got[1].Update || got[1].Data[display.MIMEHTML] != "<b>y</b>" {
		t.Fatalf("published %+v", got)
	}
}

func TestLogFatalPanics(t *testing.T) {
	i, out := newInterp(t)
	_, err := run(i, []string{`"log"`}, `log.Fatal("boom")`)
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("log.Fatal: got %v, want a panic with boom", err)
	}
	if !strings.Contains(out.String(), "boom") {
		t.Errorf("log output %q does not contain boom", out)
	}
}

// TestGenericHelpers records which generic helpers of cmp, slices and maps work: yaegi's own
// interpreted source for these fails on most functions; the prelude replaces them. Those
// marked unavailable fail to compile: keep them here so a yaegi upgrade that fixes them shows.
func TestGenericHelpers(t *testing.T) {
	tests := []struct {
		call string
		want string // "" means unavailable: must fail
	}{
		{`slices.Contains([]int{1, 2}, 2)`, "true"},
		{`slices.Index([]int{1, 2}, 2)`, "1"},
		{`s := []int{3, 1, 2}; slices.Sort(s); s`, "[1 2 3]"},
		{"type Ints []int\ns := Ints{3, 1, 2}; slices.Sort(s); s", "[1 2 3]"},
		{`s := []string{"b", "a"}; slices.SortFunc(s, strings.Compare); s`, "[a b]"},
		{`s := []int{3, 1, 2}; slices.SortStableFunc(s, func(a, b int) int { return a - b }); s`, "[1 2 3]"},
		{`slices.IsSorted([]int{1, 2, 2})`, "true"},
		{`slices.Max([]int{3, 9, 2})`, "9"},
		{`slices.Min([]float64{3, 0.5, 2})`, "0.5"},
		{`slices.MaxFunc([]string{"aa", "b"}, func(a, b string) int { return len(a) - len(b) })`, "aa"},
		{`i, ok := slices.BinarySearch([]int{1, 3, 5}, 3); fmt.Sprint(i, ok)`, "1 true"},
		{`s := []int{1, 2, 3}; slices.Reverse(s); s`, "[3 2 1]"},
		{`slices.Equal([]int{1}, []int{1})`, "true"},
		{`slices.Compare([]int{1}, []int{2})`, "-1"},
		{`slices.Insert([]int{1, 3}, 1, 2)`, "[1 2 3]"},
		{`slices.Delete([]int{1, 2, 3}, 0, 1)`, "[2 3]"},
		{`slices.DeleteFunc([]int{1, 2, 3}, func(v int) bool { return v == 2 })`, "[1 3]"},
		{`slices.Replace([]int{1, 2, 3}, 0, 1, 7)`, "[7 2 3]"},
		{`slices.Clone([]int{1, 2})`, "[1 2]"},
		{`slices.Compact([]int{1, 1, 2})`, "[1 2]"},
		{`slices.Concat[int]([]int{1}, []int{2})`, "[1 2]"},
		{`cap(slices.Grow([]int{1}, 5)) >= 6`, "true"},
		{`slices.Collect[string](strings.SplitSeq("a,b", ","))`, "[a b]"},
		{`slices.Sorted[string](strings.SplitSeq("b,a", ","))`, "[a b]"},
		{`maps.Clone(map[string]int{"a": 1})`, "map[a:1]"},
		{`maps.Equal(map[string]int{"a": 1}, map[string]int{"a": 1})`, "true"},
		{`m := map[string]int{}; maps.Copy(m, map[string]int{"a": 1}); m`, "map[a:1]"},
		{`m := map[string]int{"a": 1, "b": 2}; maps.DeleteFunc(m, func(k string, v int) bool { return v == 1 }); m`, "map[b:2]"},
		{`cmp.Compare(1, 2)`, "-1"},
		{`cmp.Or[string]("", "x")`, "x"},
		// Unavailable: iterator-based (yaegi cannot range over a func, and an interpreted generic
		// func cannot return one), or needing inference yaegi lacks.
		{`maps.Keys(map[string]int{"a": 1})`, ""},
		{`maps.Values(map[string]int{"a": 1})`, ""},
		{`slices.Collect(strings.SplitSeq("a,b", ","))`, ""},
		{`slices.Concat([]int{1}, []int{2})`, ""},
		{`cmp.Or("", "x")`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.call, func(t *testing.T) {
			i, _ := newInterp(t)
			got, err := run(i, []string{`"cmp"`, `"fmt"`, `"maps"`, `"slices"`, `"strings"`}, tt.call)
			switch {
			case tt.want == "" && err == nil:
				t.Fatalf("listed as unavailable but works (%q): move it to the working list and the Prelude doc", got)
			case tt.want == "":
				t.Logf("unavailable, as documented: %v", err)
			case err != nil:
				t.Fatalf("error: %v", err)
			case got != tt.want:
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestCorePackages is the guard against Go version drift: the generated tables carry
// //go:build go1.N, so under an older Go they compile to nothing and Exports silently loses
// everything newer than yaegi's Go 1.22 tables.
func TestCorePackages(t *testing.T) {
	e := symbols.Exports()
	for _, key := range []string{"fmt/fmt", "strings/strings", "os/os", "net/net", "net/http/http", "time/time",
		"math/rand/v2/rand", "loop/loop", "display/display", "."} {
		if len(e[key]) == 0 {
			t.Errorf("Exports()[%q] is missing or empty", key)
		}
	}
	for _, sym := range []string{"Lines", "SplitSeq"} {
		if _, ok := e["strings/strings"][sym]; !ok {
			t.Errorf("strings.%s is missing: the tables in internal/std were not built for %s; run go generate ./interp/symbols/",
				sym, runtime.Version())
		}
	}
}

// TestGeneratedForThisGo fails when the Go toolchain moved on without regenerating the tables.
func TestGeneratedForThisGo(t *testing.T) {
	src, err := os.ReadFile("internal/std/strings.go")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^//go:build (go1\.\d+)$`).FindSubmatch(src)
	if m == nil {
		t.Fatal("internal/std/strings.go has no //go:build go1.N line")
	}
	cur := regexp.MustCompile(`^go1\.\d+`).FindString(runtime.Version())
	if string(m[1]) != cur {
		t.Fatalf("symbol tables were generated by %s, this is %s: run go generate ./interp/symbols/ and commit", m[1], cur)
	}
}

// TestEveryStdPackageDecided fails when the standard library has a package that the policy
// neither allows nor denies, e.g. after a Go upgrade.
func TestEveryStdPackageDecided(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found")
	}
	out, err := exec.Command(goTool, "list", "std").Output()
	if err != nil {
		t.Fatalf("go list std: %v", err)
	}
	allowed, denied := symbols.Policy()
	for _, p := range strings.Fields(string(out)) {
		if strings.Contains(p, "internal") || strings.HasPrefix(p, "vendor/") {
			continue
		}
		_, isDenied := denied[p]
		isAllowed := slices.Contains(allowed, p)
		switch {
		case isAllowed && isDenied:
			t.Errorf("%s is both allowed and denied", p)
		case !isAllowed && !isDenied:
			t.Errorf("%s is neither allowed nor denied: decide in policy.go (and internal/std/std.go)", p)
		}
	}
}

// TestAllowlistIsWhatExportsHolds checks Exports against the policy: every allowed package is
// there, nothing else is (no yaegi self key, no denied package), and every removed symbol is gone.
func TestAllowlistIsWhatExportsHolds(t *testing.T) {
	allowed, denied := symbols.Policy()
	e := symbols.Exports()
	paths := map[string]bool{}
	for k := range e {
		p := path.Dir(k)
		paths[p] = true
		if strings.HasPrefix(k, "github.com/traefik/yaegi") {
			t.Errorf("Exports has yaegi's own key %q: a filter bypass", k)
		}
		if _, ok := denied[p]; ok {
			t.Errorf("Exports has denied package %q", p)
		}
		if k != "." && !slices.Contains(allowed, p) && p != "loop" && p != "display" && !strings.HasPrefix(p, "github.com/loopbook/") {
			t.Errorf("Exports has %q, which is not in the allowlist", k)
		}
		if strings.HasPrefix(p, "github.com/loopbook/") {
			for name := range e[k] {
				if !strings.HasPrefix(name, "_") {
					t.Errorf("%s: long-path table %q has %q; it may only hold interface wrappers", p, k, name)
				}
			}
		}
	}
	for _, p := range allowed {
		if !paths[p] {
			t.Errorf("allowed package %s is not in Exports", p)
		}
	}
	for _, r := range symbols.Removed() {
		for k, tab := range e {
			if path.Dir(k) == r[0] {
				if _, ok := tab[r[1]]; ok {
					t.Errorf("%s.%s is still exported", r[0], r[1])
				}
			}
		}
	}
}

// TestRemovalsAreCurrent fails when a removal names a symbol that no table has any more: the
// policy line is stale (or misspelt, and the symbol is still exported under its real name).
func TestRemovalsAreCurrent(t *testing.T) {
	all := symbols.Unfiltered()
	for _, r := range symbols.Removed() {
		found := false
		for k, tab := range all {
			if path.Dir(k) == r[0] {
				_, found = tab[r[1]]
			}
		}
		if !found {
			t.Errorf("removal of %s.%s: no such symbol in the unfiltered tables", r[0], r[1])
		}
	}
}

func TestExportsIsFresh(t *testing.T) {
	a := symbols.Exports()
	delete(a["fmt/fmt"], "Sprint")
	a["fmt/fmt"]["Extra"] = reflect.ValueOf(0)
	delete(a, "strings/strings")
	b := symbols.Exports()
	if _, ok := b["fmt/fmt"]["Sprint"]; !ok {
		t.Error("changing one Exports result changed the next")
	}
	if _, ok := b["fmt/fmt"]["Extra"]; ok {
		t.Error("changing one Exports result changed the next")
	}
	if _, ok := b["strings/strings"]; !ok {
		t.Error("changing one Exports result changed the next")
	}
}

// BenchmarkNewAndLoad measures what a kernel (re)start pays before its first cell.
func BenchmarkNewAndLoad(b *testing.B) {
	b.Run("Exports", func(b *testing.B) {
		for b.Loop() {
			symbols.Exports()
		}
	})
	b.Run("baseline New+Use(stdlib.Symbols)", func(b *testing.B) {
		for b.Loop() {
			i := interp.New(interp.Options{})
			if err := i.Use(stdlib.Symbols); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("New+Use(Exports)", func(b *testing.B) {
		for b.Loop() {
			i := interp.New(interp.Options{})
			if err := i.Use(symbols.Exports()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("New+Load", func(b *testing.B) {
		for b.Loop() {
			i := interp.New(interp.Options{})
			if err := symbols.Load(i); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// The tables no longer start from yaegi's stdlib package (restricted.go): every symbol yaegi's
// tables give an allowed package is still there, os.Exit and the log package keep yaegi's
// restricted versions, and MapTypes has yaegi's entries.
func TestRestrictedMatchesYaegi(t *testing.T) {
	ours := symbols.Unfiltered()
	byPath := map[string]string{}
	for k := range ours {
		byPath[path.Dir(k)] = k
	}
	allowed, _ := symbols.Policy()
	for _, p := range allowed {
		yk := p + "/" + path.Base(p)
		yt, ok := stdlib.Symbols[yk]
		if !ok {
			continue
		}
		k, ok := byPath[p]
		if !ok {
			t.Errorf("package %s: in yaegi's tables, not in ours", p)
			continue
		}
		for name := range yt {
			if _, ok := ours[k][name]; !ok {
				t.Errorf("%s.%s: in yaegi's tables, not in ours", p, name)
			}
		}
	}
	for _, sym := range [][2]string{{"os", "Exit"}, {"log", "Fatal"}, {"log", "Fatalf"}, {"log", "Fatalln"}} {
		y := stdlib.Symbols[sym[0]+"/"+sym[0]][sym[1]]
		o := ours[byPath[sym[0]]][sym[1]]
		if !o.IsValid() || o.Type() != y.Type() {
			t.Errorf("%s.%s: ours %v, yaegi's %v", sym[0], sym[1], o, y)
		}
	}
	// A cell's log.New logger has every method of *log.Logger (its Fatal* panic instead).
	logger, ok := ours[byPath["log"]]["Logger"]
	if !ok {
		t.Fatal("log.Logger missing")
	}
	real := reflect.TypeOf((*log.Logger)(nil))
	for i := range real.NumMethod() {
		if _, ok := logger.Type().MethodByName(real.Method(i).Name); !ok {
			t.Errorf("log.New's logger lacks %s", real.Method(i).Name)
		}
	}
	if newFn := ours[byPath["log"]]["New"]; !newFn.IsValid() || newFn.Type().Out(0) != logger.Type() {
		t.Errorf("log.New: %v", newFn)
	}
	// MapTypes: yaegi's entries for functions, and its composed wrappers keyed by the wrappers
	// of the regenerated tables (yaegi keys them by its own, which those replace).
	omt, _ := ours["."]["MapTypes"].Interface().(map[reflect.Value][]reflect.Type)
	if len(omt) != len(stdlib.MapTypes) {
		t.Errorf("MapTypes: %d entries, yaegi's %d", len(omt), len(stdlib.MapTypes))
	}
	for k, v := range stdlib.MapTypes {
		if k.Kind() == reflect.Func && len(omt[k]) != len(v) {
			t.Errorf("MapTypes[%v] = %v, yaegi's %v", k, omt[k], v)
		}
	}
	for _, w := range [][2]string{{"io", "_Reader"}, {"io", "_Writer"}, {"net/http", "_ResponseWriter"}} {
		if len(omt[ours[byPath[w[0]]][w[1]]]) != 1 {
			t.Errorf("MapTypes: no composed wrapper for %s.%s", w[0], w[1])
		}
	}
}

package symbols

// The parts of a cell's standard library that are not plain generated tables. The kernel does not
// import yaegi's own stdlib package: its init builds a whole second symbol table for Go 1.22,
// which the regenerated tables (internal/std) replace, and touching every function and type of
// the standard library at start costs each kernel process about 9 MB of resident memory
// (bench/kernel.sh, "memory"). What that package contributed besides its tables is here, written
// for Loopbook: exits that do not end the kernel, and the interface hints yaegi's runtime needs.
// TestRestrictedMatchesYaegi compares the result with yaegi's package, so nothing went missing.

import (
	"bufio"
	"encoding"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"reflect"
	"strconv"
	"sync"

	"github.com/loopbook/loopbook/interp/symbols/internal/std"
)

// exitSyms replace what would end the kernel process: a cell that calls os.Exit or log.Fatal
// means "stop here", which a panic in the cell says without losing every other cell's state.
// The generated os and log tables leave these names out (see the generator's -exclude list).
func exitSyms() map[string]map[string]reflect.Value {
	return map[string]map[string]reflect.Value{
		"os": {"Exit": reflect.ValueOf(cellExit)},
		"log": {
			"Fatal":   reflect.ValueOf(func(v ...any) { log.Panic(v...) }),
			"Fatalf":  reflect.ValueOf(func(format string, v ...any) { log.Panicf(format, v...) }),
			"Fatalln": reflect.ValueOf(func(v ...any) { log.Panicln(v...) }),
			"New":     reflect.ValueOf(newCellLogger),
			"Logger":  reflect.ValueOf((*cellLogger)(nil)),
		},
	}
}

// cellExit is os.Exit for cells: the panic's text is the call, so the cell's error reads
// "panic: os.Exit(3)" at the line that made it.
func cellExit(code int) { panic("os.Exit(" + strconv.Itoa(code) + ")") }

// cellLogger is the *log.Logger cells get from log.New: every method is the real logger's, except
// that Fatal* log and panic (as log.Panic* do) instead of ending the process.
type cellLogger struct{ *log.Logger }

func newCellLogger(out io.Writer, prefix string, flag int) *cellLogger {
	return &cellLogger{log.New(out, prefix, flag)}
}

func (l *cellLogger) Fatal(v ...any)                 { l.Panic(v...) }
func (l *cellLogger) Fatalf(format string, v ...any) { l.Panicf(format, v...) }
func (l *cellLogger) Fatalln(v ...any)               { l.Panicln(v...) }

// sourceOnly are packages yaegi interprets from source (their generic functions); they still need
// a table, empty, to be importable.
var sourceOnly = []string{"cmp", "maps", "slices"}

// mapTypes tells yaegi which interfaces a native function looks for in its arguments, so that an
// interpreted value passed to it keeps the methods (fmt finds a cell type's String method,
// json its MarshalJSON). yaegi copies the map in Use; it is never changed after it is built.
var mapTypes = sync.OnceValue(func() map[reflect.Value][]reflect.Type {
	iface := func(p any) reflect.Type { return reflect.TypeOf(p).Elem() }
	var (
		printing = []reflect.Type{iface((*fmt.Formatter)(nil)), iface((*fmt.Stringer)(nil))}
		scanning = []reflect.Type{iface((*fmt.Scanner)(nil))}
		textOut  = iface((*encoding.TextMarshaler)(nil))
		textIn   = iface((*encoding.TextUnmarshaler)(nil))
	)
	hints := []struct {
		funcs []any
		want  []reflect.Type
	}{
		{[]any{fmt.Errorf, fmt.Fprint, fmt.Fprintf, fmt.Fprintln, fmt.Print, fmt.Printf, fmt.Println,
			fmt.Sprint, fmt.Sprintf, fmt.Sprintln, log.Fatal, log.Fatalf, log.Fatalln, log.Panic,
			log.Panicf, log.Panicln}, printing},
		{[]any{fmt.Scan, fmt.Scanf, fmt.Scanln}, scanning},
		{[]any{json.Marshal}, []reflect.Type{iface((*json.Marshaler)(nil)), textOut}},
		{[]any{json.Unmarshal}, []reflect.Type{iface((*json.Unmarshaler)(nil)), textIn}},
		{[]any{xml.Marshal}, []reflect.Type{iface((*xml.Marshaler)(nil)), textOut}},
		{[]any{xml.Unmarshal}, []reflect.Type{iface((*xml.Unmarshaler)(nil)), textIn}},
	}
	m := map[reflect.Value][]reflect.Type{}
	for _, h := range hints {
		for _, f := range h.funcs {
			m[reflect.ValueOf(f)] = h.want
		}
	}
	addOptionalMethods(m)
	return m
})

// Some native code checks a value for an optional method beyond its interface: io.Copy looks for
// WriteTo on its Reader and ReadFrom on its Writer, net/http for Hijack on a ResponseWriter. yaegi
// wraps an interpreted value in the generated struct of the interface it is passed as, which has
// the interface's methods only; a hint maps that wrapper to a larger struct with the optional
// method too, used when the value has it. Field names follow yaegi's wrapper convention (IValue,
// then W plus the method name), which is how yaegi fills them.

type readerWithWriteTo struct {
	IValue   any
	WRead    func(p []byte) (int, error)
	WWriteTo func(w io.Writer) (int64, error)
}

func (r readerWithWriteTo) Read(p []byte) (int, error)         { return r.WRead(p) }
func (r readerWithWriteTo) WriteTo(w io.Writer) (int64, error) { return r.WWriteTo(w) }

type writerWithReadFrom struct {
	IValue    any
	WWrite    func(p []byte) (int, error)
	WReadFrom func(r io.Reader) (int64, error)
}

func (w writerWithReadFrom) Write(p []byte) (int, error)         { return w.WWrite(p) }
func (w writerWithReadFrom) ReadFrom(r io.Reader) (int64, error) { return w.WReadFrom(r) }

type responseWriterWithHijack struct {
	IValue       any
	WHeader      func() http.Header
	WWrite       func(p []byte) (int, error)
	WWriteHeader func(code int)
	WHijack      func() (net.Conn, *bufio.ReadWriter, error)
}

func (w responseWriterWithHijack) Header() http.Header         { return w.WHeader() }
func (w responseWriterWithHijack) Write(p []byte) (int, error) { return w.WWrite(p) }
func (w responseWriterWithHijack) WriteHeader(code int)        { w.WWriteHeader(code) }
func (w responseWriterWithHijack) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return w.WHijack()
}

// addOptionalMethods adds the hints above, keyed by the regenerated tables' wrappers.
func addOptionalMethods(m map[reflect.Value][]reflect.Type) {
	for _, o := range []struct {
		table, wrapper string
		larger         any
	}{
		{"io/io", "_Reader", (*readerWithWriteTo)(nil)},
		{"io/io", "_Writer", (*writerWithReadFrom)(nil)},
		{"net/http/http", "_ResponseWriter", (*responseWriterWithHijack)(nil)},
	} {
		build, ok := std.Tables[o.table]
		if !ok {
			continue
		}
		if w, ok := build()[o.wrapper]; ok {
			m[w] = []reflect.Type{reflect.TypeOf(o.larger).Elem()}
		}
	}
}

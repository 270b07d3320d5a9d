package interp

import (
	"bytes"
	"fmt"
	"math"
	"reflect"
	"runtime"
	"strconv"
	"sync"

	"github.com/loopbook/loopbook/loop"
)

// The helper package is how rewritten cells reach the kernel: the interpreter imports it as
// __lb (import path "loopbook/cell"). Its functions are bound to one session.

const helperPath = "loopbook/cell"

// prelude is compiled into every new interpreter. min and max are generic over any type and
// compare through a native helper, because yaegi's inference fails on untyped constants with
// an ordered constraint (reference yaegi.md §6); co and L are the cell's task and the shared loop.
const prelude = `import __lb "loopbook/cell"
import "loop"

func __lb_min[T any](x T, ys ...T) T {
	for _, y := range ys {
		if __lb.Better(x, y, false) {
			x = y
		}
	}
	return x
}

func __lb_max[T any](x T, ys ...T) T {
	for _, y := range ys {
		if __lb.Better(x, y, true) {
			x = y
		}
	}
	return x
}

func __lb_same[T any](x T) T { return x }

var co *loop.Co
var L *loop.Loop
`

func (s *Session) helperSymbols() map[string]map[string]reflect.Value {
	return map[string]map[string]reflect.Value{
		helperPath + "/cell": {
			"Better":  reflect.ValueOf(better),
			"Clear":   reflect.ValueOf(clearValue),
			"Out":     reflect.ValueOf(s.out),
			"GoStart": reflect.ValueOf(s.goStart),
			"GoEnter": reflect.ValueOf(s.goEnter),
			"At":      reflect.ValueOf(func(line int) { s.atLine.Store(int64(line)) }),
			"GoEnd":   reflect.ValueOf(s.goEnd),
			"Defer":   reflect.ValueOf(func(fn func()) { s.defers = append(s.defers, fn) }),
		},
	}
}

// better reports whether y should replace x as the minimum (or maximum): Go's min and max on
// numbers and strings, including a NaN winning.
func better(x, y any, max bool) bool {
	a, b := reflect.ValueOf(x), reflect.ValueOf(y)
	var less, greater bool
	switch a.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		less, greater = b.Int() < a.Int(), b.Int() > a.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		less, greater = b.Uint() < a.Uint(), b.Uint() > a.Uint()
	case reflect.Float32, reflect.Float64:
		if math.IsNaN(a.Float()) {
			return false
		}
		if math.IsNaN(b.Float()) {
			return true
		}
		less, greater = b.Float() < a.Float(), b.Float() > a.Float()
	case reflect.String:
		less, greater = b.String() < a.String(), b.String() > a.String()
	default:
		panic(fmt.Sprintf("invalid argument: %v (type %T) cannot be ordered", x, x))
	}
	if max {
		return greater
	}
	return less
}

// clearValue is Go's clear: it deletes every entry of a map and zeroes every element of a slice.
func clearValue(v any) {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Map, reflect.Slice:
		rv.Clear()
	case reflect.Invalid:
	default:
		panic(fmt.Sprintf("invalid argument: %v (type %T) must be a map or a slice", v, v))
	}
}

// out receives the value of a cell's trailing expression.
func (s *Session) out(vals ...any) {
	s.outVals, s.hasOut = vals, true
}

// goroutines records who started each goroutine the guard knows, so that its panic and its
// output reach the right cell.
type goroutines struct {
	mu     sync.Mutex
	next   int
	owners map[int]loop.Owner // token → owner of the code that ran the go statement
	byG    map[int64]loop.Owner
}

func (s *Session) goStart() int {
	o, _ := s.CallerOwner()
	g := &s.gor
	g.mu.Lock()
	defer g.mu.Unlock()
	g.next++
	g.owners[g.next] = o
	return g.next
}

// goEnd runs deferred in every guarded goroutine with what recover returned.
func (s *Session) goEnd(token int, r any) {
	g := &s.gor
	g.mu.Lock()
	o := g.owners[token]
	delete(g.owners, token)
	delete(g.byG, goid())
	g.mu.Unlock()
	if r == nil {
		return
	}
	e := &Error{Kind: Panic, Msg: fmt.Sprintf("panic in a goroutine: %v", r)}
	e.Frames = s.takeFrames()
	if len(e.Frames) > 0 {
		e.Pos = e.Frames[0].Pos
	}
	if s.opts.OnGoPanic != nil {
		s.opts.OnGoPanic(o, e)
	}
}

// goEnter runs first in every guarded goroutine (see goStart) to learn its goroutine id.
func (s *Session) goEnter(token int) {
	g := &s.gor
	id := goid()
	g.mu.Lock()
	g.byG[id] = g.owners[token]
	g.mu.Unlock()
}

// CallerOwner reports the owner of the code calling it, from any goroutine: the owner of the
// callback or task running on the shared loop (or on a private loop a cell made), or of the cell
// that started this goroutine with a go statement. ok is false for code nobody owns.
func (s *Session) CallerOwner() (loop.Owner, bool) {
	if l, err := loop.Running(); err == nil {
		if o, ok := l.CallerOwner(); ok {
			return o, true
		}
	}
	g := &s.gor
	id := goid()
	g.mu.Lock()
	o, ok := g.byG[id]
	g.mu.Unlock()
	return o, ok
}

func goid() int64 {
	var buf [64]byte
	n := runtime.Stack(buf[:], false)
	b, _ := bytes.CutPrefix(buf[:n], []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); i > 0 {
		id, _ := strconv.ParseInt(string(b[:i]), 10, 64)
		return id
	}
	return 0
}

// Goroutines reports how many goroutines started by cells' go statements are still running:
// those of owner o, or all of them when o is 0. Goroutine-safe. The kernel can show it per cell
// (a goroutine outlives its cell, and nothing can stop it but the interpreter's Interrupt).
func (s *Session) Goroutines(o loop.Owner) int {
	g := &s.gor
	g.mu.Lock()
	defer g.mu.Unlock()
	if o == 0 {
		return len(g.owners)
	}
	n := 0
	for _, owner := range g.owners {
		if owner == o {
			n++
		}
	}
	return n
}

package interp

import (
	"fmt"
	"math"
	"reflect"
	"sync"
	"sync/atomic"

	"github.com/loopbook/loopbook/interp/internal/gid"
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
// output reach the right cell, and which goroutines belong to which loop.
type goroutines struct {
	mu     sync.Mutex
	next   int
	owners map[int]loop.Owner // token → owner of the code that ran the go statement
	byG    map[int64]loop.Owner
	nbyG   atomic.Int64 // len(byG), so that CallerOwner skips the lock while no guarded goroutine runs

	loopsMu sync.Mutex
	loops   map[int64]*loop.Loop // goroutine id → the loop whose goroutine or task coroutine it is
}

// maxLoopGoroutines bounds the cache of goroutines known to belong to a loop (task coroutines
// come and go; the entry of one that ended is never asked for again: goroutine ids are not
// reused).
const maxLoopGoroutines = 1024

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
	delete(g.byG, gid.ID())
	g.nbyG.Store(int64(len(g.byG)))
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
	id := gid.ID()
	g.mu.Lock()
	g.byG[id] = g.owners[token]
	g.nbyG.Store(int64(len(g.byG)))
	g.mu.Unlock()
}

// CallerOwner reports the owner of the code calling it, from any goroutine. ok is false for code
// nobody owns. The owner is:
//
//   - for a goroutine a cell started with a go statement, that cell run;
//   - for the shared loop's goroutine and its tasks' coroutines, the owner of the callback or
//     task running on the shared loop now;
//   - for a private loop a cell made (its goroutine and its tasks' coroutines), the owner of the
//     shared loop's work that runs it now (the cell calling RunUntilComplete), whichever cell
//     made the loop; the private loop's own owner when the shared loop runs nothing.
//
// The kernel calls it on every write of interpreted code, so it is cheap: goroutines are told
// apart by a fast id (internal/gid), and which loop a goroutine belongs to is asked of the loop
// package once per goroutine.
func (s *Session) CallerOwner() (loop.Owner, bool) {
	id := gid.ID()
	g := &s.gor
	if g.nbyG.Load() > 0 {
		g.mu.Lock()
		o, ok := g.byG[id]
		g.mu.Unlock()
		if ok {
			return o, true
		}
	}
	l := s.loopOf(id)
	if l == nil {
		return 0, false
	}
	shared := s.opts.Loop
	if l == shared {
		// The shared loop runs this goroutine's work, or waits for it: its owner is stable.
		return shared.CurrentOwner(), true
	}
	if cb, ok := shared.Current(); ok {
		return cb.Info.Owner, true
	}
	return l.CurrentOwner(), true
}

// loopOf returns the loop whose goroutine (or task coroutine) goroutine id is, or nil; see
// CallerOwner. A goroutine that belongs to a loop belongs to it for life (a private loop run
// inside a shared loop's task is answered for as the shared loop's work, which is what
// CallerOwner wants); one that belongs to none is asked about again next time.
func (s *Session) loopOf(id int64) *loop.Loop {
	g := &s.gor
	g.loopsMu.Lock()
	l := g.loops[id]
	g.loopsMu.Unlock()
	if l != nil {
		return l
	}
	l, err := loop.Running()
	if err != nil {
		return nil
	}
	if _, ok := l.CallerOwner(); !ok {
		return nil
	}
	g.loopsMu.Lock()
	if len(g.loops) >= maxLoopGoroutines {
		clear(g.loops)
	}
	g.loops[id] = l
	g.loopsMu.Unlock()
	return l
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

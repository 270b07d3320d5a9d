package interp

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/scanner"
	"go/token"
	"io"
	"maps"
	"path"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	_ "unsafe" // for go:linkname

	yaegi "github.com/traefik/yaegi/interp"

	"github.com/loopbook/loopbook/interp/display"
	"github.com/loopbook/loopbook/loop"
)

// Options configure a Session.
type Options struct {
	// Loop is the notebook's shared loop: cells run as its tasks and see it as L.
	Loop *loop.Loop
	// Stdout and Stderr receive what interpreted code prints (fmt, println, log, os.Stdout when
	// it is an *os.File). The kernel routes them to the cell that owns the printing code.
	Stdout, Stderr io.Writer
	// Exports returns the packages cells may import (see package symbols.Exports), in tables
	// of its own on every call: the interpreter copies them, and the session asks again when it
	// builds a new interpreter (a rebuild), so that no copy is held between times.
	Exports func() yaegi.Exports
	// Prelude is Go source compiled into every new interpreter after Loopbook's own prelude,
	// such as generic helpers the symbol tables cannot carry.
	Prelude string
	// OnGoPanic receives the panic of a goroutine a cell started, with the goroutine's owner.
	OnGoPanic func(owner loop.Owner, err *Error)
	// Setup runs on every new interpreter after the symbols are loaded and before the prelude
	// (the symbols package compiles its generic helpers here).
	Setup func(*yaegi.Interpreter) error
}

// Cell is one run of a notebook cell.
type Cell struct {
	ID     string // stable id of the cell in its notebook
	Count  int    // execution count, the n of In[n]; unique per run, from 1
	Source string
}

// Result is what running a cell produced besides its printed output.
type Result struct {
	Value   display.Bundle // Out[n]; nil when the cell ends in no expression (or a print call)
	Err     *Error
	Notices []string // what the session did that the user should know (a rebuild, a replay)
}

// Session is a notebook's interpreter state: yaegi plus what it takes to make cells behave like
// Go, run after run (reference yaegi.md §10). A Session is used from the loop's goroutine and
// its tasks only, except Interrupt and CallerOwner.
type Session struct {
	opts Options
	yi   *yaegi.Interpreter

	imports map[string]string // import name → path, for what the interpreter has imported
	known   map[string]string // package name → path, for imports a cell forgot
	shapes  map[string]string // "T" and "T.M" → hash of the declaration, to see a type change
	history map[string]entry  // cell id → its last run that compiled, for replay
	failed  map[string]int    // names a failed cell left declared with zero values → its count

	outVals []any
	hasOut  bool
	atLine  atomic.Int64 // interpreter line of the top-level statement running (see markLines); read by the kernel's monitor

	stderr    *panicFilter
	gor       goroutines
	stopMu    sync.Mutex      // held by Interrupt, by the re-priming after it and when yi changes
	stopped   atomic.Bool     // Interrupt stopped the interpreter's execution
	executing atomic.Bool     // a cell is inside yaegi's Execute
	next      int             // fresh-name counter for the rewrites, kept across cells
	facts     facts           // what the rewrites know about earlier cells' declarations
	assumeInt bool            // the rewrites take ranges over unknown types as ranges over integers
	defers    []func()        // calls deferred by the running cell's top-level code, last first
	names     map[string]bool // every name a cell that compiled declared (funcs and types too)
}

// entry is a cell run kept for replay: its declarations, with positions.
type entry struct {
	count int
	decls []piece
}

// New makes a session with a fresh interpreter.
func New(opts Options) (*Session, error) {
	if opts.Loop == nil {
		return nil, errors.New("interp: Options.Loop is required")
	}
	if opts.Stdout == nil {
		opts.Stdout = io.Discard
	}
	if opts.Stderr == nil {
		opts.Stderr = io.Discard
	}
	s := &Session{
		opts:    opts,
		history: map[string]entry{},
		gor:     goroutines{owners: map[int]loop.Owner{}, byG: map[int64]loop.Owner{}, loops: map[int64]*loop.Loop{}},
		facts:   newFacts(),
		names:   map[string]bool{},
	}
	s.stderr = &panicFilter{w: opts.Stderr}
	if opts.Exports == nil {
		return nil, errors.New("interp: Options.Exports is required")
	}
	exports := opts.Exports()
	s.known = knownPackages(exports)
	if err := s.reset(exports); err != nil {
		return nil, err
	}
	return s, nil
}

// reset replaces the interpreter with a fresh one that has the prelude compiled. exports are
// the tables to load, or nil to build them.
func (s *Session) reset(exports yaegi.Exports) error {
	if exports == nil {
		exports = s.opts.Exports()
	}
	yi := yaegi.New(yaegi.Options{Stdout: s.opts.Stdout, Stderr: s.stderr})
	if err := yi.Use(exports); err != nil {
		return fmt.Errorf("interp: loading symbols: %w", err)
	}
	if err := yi.Use(s.helperSymbols()); err != nil {
		return fmt.Errorf("interp: loading helpers: %w", err)
	}
	if s.opts.Setup != nil {
		if err := s.opts.Setup(yi); err != nil {
			return fmt.Errorf("interp: setting up the interpreter: %w", err)
		}
	}
	s.stopMu.Lock()
	s.yi = yi
	s.stopMu.Unlock()
	s.imports = map[string]string{helperPkg: helperPath, "loop": "loop"}
	s.shapes = map[string]string{}
	s.failed = map[string]int{}
	for _, src := range []string{prelude, s.opts.Prelude} {
		if src == "" {
			continue
		}
		if _, err := s.eval(src); err != nil {
			return fmt.Errorf("interp: compiling the prelude: %w", err)
		}
	}
	s.prime()
	return nil
}

// eval compiles and runs trusted source (the prelude) under recover.
func (s *Session) eval(src string) (v reflect.Value, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal interpreter error: %v", r)
		}
	}()
	return s.yi.Eval(src)
}

//go:linkname yaegiStop github.com/traefik/yaegi/interp.(*Interpreter).stop
func yaegiStop(*yaegi.Interpreter)

// prime readies the interpreter for an interrupt: yaegi's stop closes a channel that only its
// context-aware entry points create (and that stop leaves closed), so the session runs an empty
// source through one after start and after every stop.
func (s *Session) prime() {
	s.yi.EvalWithContext(context.Background(), "")
}

// Interrupt stops the interpreter's execution, from any goroutine: the running cell stops at its
// next interpreted step, and so does every other interpreted function (other cells' callbacks,
// goroutines). It reports whether a cell was executing. The kernel calls it when cancelling the
// cell's task was not enough; afterwards it must cancel what cells own, since their callbacks
// are dead (yaegi makes them return zero values).
func (s *Session) Interrupt() bool {
	// stopMu orders yaegi's stop with the re-priming after it (both touch the interpreter's
	// done channel) and with a rebuild replacing the interpreter.
	s.stopMu.Lock()
	defer s.stopMu.Unlock()
	if !s.stopped.Swap(true) {
		yaegiStop(s.yi)
	}
	return s.executing.Load()
}

// Line reports the cell position of the top-level statement running now, for the loop's site
// hook and the kernel's watchdog (goroutine-safe). ok is false outside a cell's top-level code.
func (s *Session) Line() (count, line int, ok bool) {
	at := int(s.atLine.Load())
	if !s.executing.Load() || at == 0 {
		return 0, 0, false
	}
	p, ok := posOf(at, 0)
	return p.Count, p.Line, ok
}

// Executing reports whether a cell is inside the interpreter right now (goroutine-safe).
func (s *Session) Executing() bool { return s.executing.Load() }

// Execute runs a cell. It must be called inside a task on the session's loop (co is that task),
// so that the cell can await at top level and what it schedules runs on the shared loop.
func (s *Session) Execute(co *loop.Co, c Cell) (res Result) {
	defer func() {
		// The pipeline around yaegi must not take the kernel down with it: a panic here is a
		// bug of the session or of yaegi outside the guarded calls, reported as such.
		if r := recover(); r != nil {
			res.Value = nil
			res.Err = &Error{Kind: InternalError, Msg: fmt.Sprintf("internal interpreter error: %v", r)}
		}
	}()
	defer func() {
		s.stopMu.Lock()
		stopped := s.stopped.Load()
		if stopped {
			s.stopped.Store(false)
			s.prime()
		}
		s.stopMu.Unlock()
		if stopped {
			if res.Err == nil {
				res.Err = &Error{Kind: Interrupted, Msg: "interrupted"}
			} else if res.Err.Kind == Panic || res.Err.Kind == CancelledError {
				res.Err.Kind = Interrupted
			}
		}
	}()
	p, errc := s.prepare(c)
	if errc != nil {
		return Result{Err: errc}
	}
	res.Notices = p.notices
	if p.rebuild {
		notice, err := s.rebuild(c, p)
		if notice != "" {
			res.Notices = append(res.Notices, notice)
		}
		if err != nil {
			res.Err = err
			return res
		}
		// The fresh interpreter has the cell's declarations already: prepare again against it
		// for the statements, keeping only the imports they need.
		p, errc = s.prepare(c)
		if errc != nil {
			res.Err = errc
			return res
		}
		p.file.Decls = importsOnly(p.file.Decls)
		p.dependants = nil
	}
	err := s.runDecls(p, c)
	if err != nil && err.Kind == InternalError && p.declRW.ambiguous > 0 {
		// As for statements below: a func ranges over something of unknown type.
		s.assumeInt = true
		p2, e := s.prepare(c)
		s.assumeInt = false
		if e == nil {
			p2.file.Decls = slices.DeleteFunc(p2.file.Decls, func(d ast.Decl) bool { // imported already
				g, ok := d.(*ast.GenDecl)
				return ok && g.Tok == token.IMPORT
			})
			if err2 := s.runDecls(p2, c); err2 == nil {
				p, err = p2, nil
			}
		}
	}
	if err != nil {
		s.noteFailed(p, c)
		res.Err = s.retryRanges(err, p.declRW)
		return res
	}
	for name, sh := range p.shapes {
		s.shapes[name] = sh
	}
	if len(p.decls) > 0 {
		s.history[c.ID] = entry{count: c.Count, decls: p.decls}
	} else {
		delete(s.history, c.ID)
	}
	s.facts.learn(p.declRW)
	for _, name := range p.declared {
		if !slices.Contains(p.stmtDeclared, name) {
			delete(s.failed, name)
			s.names[name] = true
		}
	}
	s.setGlobals(co)
	if len(p.stmts.List) > 0 {
		res.Value, res.Err = s.runStmts(p, c)
		if res.Err != nil && res.Err.Kind == InternalError && p.stmtRW.ambiguous > 0 && !s.assumeInt {
			// yaegi's compiler failed, and the cell ranges over something whose type the
			// rewriter could not tell: try again taking it for an integer.
			s.assumeInt = true
			p.stmts = nil
			e := s.prepareStmts(c, p)
			s.assumeInt = false
			first := res.Err
			if e == nil {
				res.Value, res.Err = s.runStmts(p, c)
			}
			if e != nil || (res.Err != nil && res.Err.Kind == CompileError) {
				// Taking it for an integer did not compile either: explain the first failure.
				res.Err = s.retryRanges(first, p.stmtRW)
			}
		}
	}
	if res.Err == nil || res.Err.Kind != CompileError {
		for _, name := range p.stmtDeclared {
			delete(s.failed, name)
			s.names[name] = true
		}
		s.facts.learn(p.stmtRW)
		// The cell's names are defined now (also when its statements panicked): funcs of other
		// cells that use them are compiled again.
		res.Notices = append(res.Notices, s.recompileDependants(p)...)
	}
	return res
}

// runDecls compiles and runs a cell's declaration file: its imports first, so that a failure in
// the rest does not leave an import half done (yaegi would refuse it the next time).
func (s *Session) runDecls(p *prepared, c Cell) *Error {
	imports := importsOnly(p.file.Decls)
	var rest []ast.Decl
	for _, d := range p.file.Decls {
		if g, ok := d.(*ast.GenDecl); !ok || g.Tok != token.IMPORT {
			rest = append(rest, d)
		}
	}
	if len(imports) > 0 {
		if err := s.run(&ast.File{Name: p.file.Name, Package: p.file.Package, Decls: imports}, c); err != nil {
			return err
		}
	}
	if len(rest) > 0 {
		return s.run(&ast.File{Name: p.file.Name, Package: p.file.Package, Decls: rest}, c)
	}
	return nil
}

// importsOnly returns the import declarations of decls (they come first in a Go file).
func importsOnly(decls []ast.Decl) []ast.Decl {
	var out []ast.Decl
	for _, d := range decls {
		if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.IMPORT {
			out = append(out, d)
		}
	}
	return out
}

// retryRanges explains an internal compiler failure in a cell that ranges over something whose
// type the rewriter could not tell.
func (s *Session) retryRanges(e *Error, rw *rewriter) *Error {
	if e == nil || e.Kind != InternalError || rw == nil || rw.ambiguous == 0 || !strings.Contains(e.Msg, "nil type") {
		return e
	}
	var b strings.Builder
	printer.Fprint(&b, token.NewFileSet(), rw.firstAmbiguous)
	pos, _ := posOf(rw.fileLine(rw.firstAmbiguous.Pos()))
	x := b.String()
	return &Error{Kind: UnsupportedError, Pos: pos, Msg: fmt.Sprintf("cannot range over %s: the interpreter cannot tell its type. If it is an integer, write range int(%s) or a counting loop; if it is a function (an iterator, such as strings.Lines), call it with a yield func instead: the interpreter cannot range over functions", x, x)}
}

// runStmts compiles and runs a cell's statements, then the calls its top-level code deferred,
// and returns its Out[n].
func (s *Session) runStmts(p *prepared, c Cell) (display.Bundle, *Error) {
	s.outVals, s.hasOut = nil, false
	s.atLine.Store(0)
	s.defers = nil
	err := s.run(p.stmts, c)
	if err != nil && p.wrapped && err.Kind == CompileError && isVoidUse(err.Msg) {
		// The trailing call returns nothing: run it as a plain statement.
		last := p.stmts.List[len(p.stmts.List)-1].(*ast.ExprStmt)
		last.X = last.X.(*ast.CallExpr).Args[0]
		err = s.run(p.stmts, c)
	}
	if derr := s.runDefers(); err == nil {
		err = derr
	}
	if err != nil {
		if err.Kind == CompileError {
			s.noteFailed(p, c)
		}
		return nil, err
	}
	if s.hasOut {
		return formatValue(s.outVals), nil
	}
	return nil, nil
}

// runDefers runs the calls the cell's top-level code deferred, last first, each under recover;
// the first panic is the cell's error (a deferred call cannot recover the cell's panic: there
// is no Go frame it could recover in).
func (s *Session) runDefers() *Error {
	var first *Error
	for len(s.defers) > 0 {
		fn := s.defers[len(s.defers)-1]
		s.defers = s.defers[:len(s.defers)-1]
		if e := s.callDeferred(fn); e != nil && first == nil {
			first = e
		}
	}
	return first
}

func (s *Session) callDeferred(fn func()) (e *Error) {
	s.takeFrames()
	defer func() {
		if r := recover(); r != nil {
			e = s.panicError(r)
		}
	}()
	s.executing.Store(true)
	defer s.executing.Store(false)
	fn()
	return nil
}

// setGlobals points co and L at the running cell's task and the shared loop, unless a cell
// redeclared them.
func (s *Session) setGlobals(co *loop.Co) {
	g := s.globals()
	set := func(name string, v any) {
		if gv, ok := g[name]; ok && gv.CanSet() && reflect.TypeOf(v).AssignableTo(gv.Type()) {
			gv.Set(reflect.ValueOf(v))
		}
	}
	set("co", co)
	set("L", s.opts.Loop)
}

// run compiles and executes a declaration file or a statement block on this goroutine.
func (s *Session) run(n ast.Node, c Cell) *Error {
	prog, err := s.compile(n)
	if err != nil {
		return err
	}
	s.executing.Store(true)
	defer s.executing.Store(false)
	s.takeFrames()
	_, rerr := s.yi.Execute(prog)
	if rerr == nil {
		return nil
	}
	var p yaegi.Panic
	if errors.As(rerr, &p) {
		return s.panicError(p.Value)
	}
	return compileError(CompileError, rerr)
}

// compile compiles under recover: some inputs make yaegi's compiler panic instead of returning
// an error (reference yaegi.md §8).
func (s *Session) compile(n ast.Node) (prog *yaegi.Program, e *Error) {
	defer func() {
		if r := recover(); r != nil {
			msg, pos := mapPositions(fmt.Sprint(r))
			msg = strings.TrimPrefix(msg, pos.String()+": ")
			e = &Error{Kind: InternalError, Pos: pos, Msg: "internal interpreter error: " + msg}
			if strings.Contains(msg, "nil type") {
				e.Msg += " (yaegi's compiler failed on this code)"
			}
		}
	}()
	defer func() {
		// yaegi reports an undefined name in top-level code as "constant definition loop", and
		// some undefined names make its compiler panic: name the identifier, where it is.
		if e != nil && (e.Kind == InternalError || strings.Contains(e.Msg, "constant definition loop")) {
			if id := s.undefinedIdent(n); id != nil {
				pos := s.yi.FileSet().Position(id.Pos())
				p, _ := posOf(pos.Line, pos.Column)
				e = &Error{Kind: CompileError, Pos: p, Msg: "undefined: " + id.Name}
			}
		}
	}()
	prog, err := s.yi.CompileAST(n)
	if err != nil {
		return nil, compileError(CompileError, err)
	}
	return prog, nil
}

// panicError builds the error of a panicking cell: the panic value and the interpreted stack
// yaegi printed while unwinding.
func (s *Session) panicError(v any) *Error {
	msg := fmt.Sprint(v)
	if err, ok := v.(error); ok {
		msg = err.Error()
	}
	msg, _ = mapPositions(msg)
	e := &Error{Kind: Panic, Msg: "panic: " + msg}
	if ce, ok := v.(*loop.CancelledError); ok || errors.Is(asError(v), loop.ErrCancelled) {
		_ = ce
		e.Kind = CancelledError
	}
	e.Frames = s.takeFrames()
	// yaegi gives a frame of the cell's own top-level code a wrong position (that of its first
	// call); the line markers know which top-level statement was running.
	at := int(s.atLine.Load())
	if n := len(e.Frames); n > 0 && e.Frames[n-1].Func == "cell" && at > 0 {
		if p, ok := posOf(at, 0); ok {
			e.Frames[n-1].Pos = p
			// yaegi gives the frame of a compound statement (run as a func literal, see
			// wrapCompound) the position of the statements' block, which is in no cell.
			for i := range e.Frames {
				if e.Frames[i].Func == "cell" && e.Frames[i].Pos == (Pos{}) {
					e.Frames[i].Pos = p
				}
			}
			e.Frames = slices.CompactFunc(e.Frames, func(a, b Frame) bool { return a == b })
		}
	}
	if len(e.Frames) == 0 && at > 0 {
		if p, ok := posOf(at, 0); ok {
			e.Frames = []Frame{{Func: "cell", Pos: p}}
		}
	}
	if len(e.Frames) > 0 {
		e.Pos = e.Frames[0].Pos
	}
	return e
}

// markLines puts a marker before each top-level statement of a cell, so that a panic in the
// cell's own code is reported at the statement that was running.
func (s *Session) markLines(list []ast.Stmt) []ast.Stmt {
	out := make([]ast.Stmt, 0, 2*len(list))
	for _, st := range list {
		pos := st.Pos()
		if !pos.IsValid() { // a statement a rewrite made: the first position inside it
			ast.Inspect(st, func(n ast.Node) bool {
				if n != nil && !pos.IsValid() && n.Pos().IsValid() {
					pos = n.Pos()
				}
				return !pos.IsValid()
			})
		}
		if pos.IsValid() {
			line := s.yi.FileSet().Position(pos).Line
			mark := helperCall("At", &ast.BasicLit{ValuePos: pos, Kind: token.INT, Value: strconv.Itoa(line)})
			mark.Fun.(*ast.SelectorExpr).X.(*ast.Ident).NamePos = pos // yaegi reports positions of nodes
			mark.Lparen, mark.Rparen = pos, pos
			out = append(out, &ast.ExprStmt{X: mark})
		}
		out = append(out, st)
	}
	return out
}

func asError(v any) error {
	err, _ := v.(error)
	return err
}

// takeFrames returns and forgets the interpreted frames printed since the last call.
func (s *Session) takeFrames() []Frame {
	frames := s.stderr.take()
	// A compound statement of a cell runs as a func literal (wrapCompound): its frame and the
	// cell's can be the same line; show it once.
	return slices.CompactFunc(frames, func(a, b Frame) bool { return a == b })
}

var voidUseRE = regexp.MustCompile(`cannot use func\(.*\) as type \(`)

// isVoidUse recognises yaegi's complaint about a call that returns nothing used as a value.
func isVoidUse(msg string) bool {
	return voidUseRE.MatchString(msg) || strings.Contains(msg, "used as value")
}

// noteFailed remembers the names a cell that failed to compile declared for the first time:
// yaegi leaves them declared with zero values (reference yaegi.md §1.4), and a later cell that
// uses one gets an error naming the failed cell instead of a surprise nil.
func (s *Session) noteFailed(p *prepared, c Cell) {
	for _, name := range p.declared {
		if _, existed := p.globalsBefore[name]; !existed && !s.names[name] {
			s.failed[name] = c.Count
		}
	}
}

// prepared is a cell ready to compile: its declarations as a file, its statements as a block.
type prepared struct {
	file          *ast.File
	stmts         *ast.BlockStmt
	decls         []piece
	stmtPieces    []piece
	shapes        map[string]string
	declared      []string // names the cell declares at its top level (decls and statements)
	stmtDeclared  []string // those its statements declare
	globalsBefore map[string]reflect.Value
	wrapped       bool // the last statement was wrapped to capture Out[n]
	rebuild       bool
	rebuildWhy    string
	notices       []string
	dependants    []dependant // funcs of other cells that use what this cell declares
	declRW        *rewriter   // the rewriters that prepared the declarations and the statements
	stmtRW        *rewriter
	mains         []string
}

// prepare parses, splits and rewrites a cell.
func (s *Session) prepare(c Cell) (*prepared, *Error) {
	pieces, err := split(c.Source)
	if err != nil {
		return nil, syntaxError(c, err)
	}
	var decls, stmts []piece
	for _, p := range pieces {
		if p.decl {
			decls = append(decls, p)
		} else {
			stmts = append(stmts, p)
		}
	}
	pd, e := s.prepareDecls(c, decls)
	if e != nil {
		return nil, e
	}
	p := &pd.prepared
	p.mains = pd.mains
	p.stmtPieces = stmts
	if e := s.prepareStmts(c, p); e != nil {
		return nil, e
	}
	if e := rewriteFailure(p.declRW); e != nil {
		return nil, e
	}
	if e := rewriteFailure(p.stmtRW); e != nil {
		return nil, e
	}
	s.findDependants(c, p)
	return p, nil
}

// rewriteFailure reports a construct the rewriter found that the interpreter cannot run.
func rewriteFailure(rw *rewriter) *Error {
	if rw == nil || rw.unsupported == nil {
		return nil
	}
	e := &Error{Kind: UnsupportedError, Msg: rw.unsupported.msg}
	if rw.unsupported.pos.IsValid() {
		e.Pos, _ = posOf(rw.fileLine(rw.unsupported.pos))
	}
	return e
}

// prepareStmts builds the cell's statements as one block: parsed as the body of a function, at
// their cell positions, rewritten, compound statements wrapped in funcs, and the trailing
// expression captured for Out[n].
func (s *Session) prepareStmts(c Cell, p *prepared) *Error {
	var b strings.Builder
	b.WriteString("package main\nfunc main() {\n")
	for _, st := range p.stmtPieces {
		writePiece(&b, c.Count, st)
	}
	b.WriteString("\n}\n")
	f, err := parser.ParseFile(s.yi.FileSet(), "_.go", b.String(), parser.SkipObjectResolution)
	if err != nil {
		return endOfCell(c, compileError(SyntaxError, err))
	}
	body := f.Decls[0].(*ast.FuncDecl).Body
	for _, name := range p.mains {
		body.List = append(body.List, &ast.ExprStmt{X: &ast.CallExpr{Fun: ast.NewIdent(name)}})
	}
	if e := s.topLevelUnsupported(body); e != nil {
		return e
	}
	p.stmtDeclared = topLevelNames(body)
	p.declared = append(p.declared, p.stmtDeclared...)
	if e := s.checkFailedUse(c, p.file, body); e != nil {
		return e
	}
	s.autoImport(p, body)
	rw := s.rewriter(p.file, body)
	body.List = rw.rewriteBody(body.List)
	body.List = wrapCompound(body.List)
	fillPositions(body)
	body.List = s.markLines(body.List)
	s.next = rw.next
	p.stmtRW = rw
	if n := len(body.List); n > 0 && len(p.mains) == 0 {
		if es, ok := body.List[n-1].(*ast.ExprStmt); ok && showsValue(es.X) {
			es.X = helperCall("Out", es.X)
			p.wrapped = true
		}
	}
	p.stmts = body
	return nil
}

// topLevelUnsupported reports a return or goto in a cell's own code (outside any func literal):
// a cell is not a function, and the interpreter runs top-level compound statements as func
// literals (wrapCompound), so a return would only leave that statement and the cell would go on,
// a bare one crashes yaegi's compiler, and a goto is silently skipped.
func (s *Session) topLevelUnsupported(body *ast.BlockStmt) *Error {
	var bad ast.Node
	var msg string
	for _, st := range body.List {
		ast.Inspect(st, func(n ast.Node) bool {
			if bad != nil {
				return false
			}
			switch n := n.(type) {
			case *ast.FuncLit:
				return false
			case *ast.ReturnStmt:
				bad, msg = n, "return in a cell's top-level code: a cell is not a function; put the code in a func, or use if/else"
			case *ast.BranchStmt:
				if n.Tok == token.GOTO {
					bad, msg = n, "goto in a cell's top-level code is not supported by the interpreter; use it inside a func"
				}
			}
			return true
		})
	}
	if bad == nil {
		return nil
	}
	pos := s.yi.FileSet().Position(bad.Pos())
	p, _ := posOf(pos.Line, pos.Column)
	return &Error{Kind: UnsupportedError, Pos: p, Msg: msg}
}

// topLevelNames lists the names a cell's statements declare at their top level: the notebook
// globals they make (x := 1, var y int).
func topLevelNames(body *ast.BlockStmt) []string {
	var names []string
	for _, st := range body.List {
		switch st := st.(type) {
		case *ast.AssignStmt:
			if st.Tok == token.DEFINE {
				for _, l := range st.Lhs {
					if id, ok := l.(*ast.Ident); ok && id.Name != "_" {
						names = append(names, id.Name)
					}
				}
			}
		case *ast.DeclStmt:
			names = append(names, definedNames(st)...)
		}
	}
	return names
}

// preparedDecls is prepared plus what only the declaration step needs.
type preparedDecls struct {
	prepared
	mains []string
}

// prepareDecls builds the declaration file of a cell: imports de-duplicated, func main renamed,
// type changes detected, bodies rewritten.
func (s *Session) prepareDecls(c Cell, decls []piece) (*preparedDecls, *Error) {
	var b strings.Builder
	b.WriteString("package main\n")
	for _, imports := range []bool{true, false} { // a Go file has its imports first
		for _, d := range decls {
			if d.imports == imports {
				writePiece(&b, c.Count, d)
			}
		}
	}
	f, err := parser.ParseFile(s.yi.FileSet(), "_.go", b.String(), parser.SkipObjectResolution)
	if err != nil {
		return nil, compileError(SyntaxError, err)
	}
	p := &preparedDecls{prepared: prepared{file: f, decls: decls, shapes: map[string]string{}, globalsBefore: s.globals()}}
	var kept []ast.Decl
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.GenDecl:
			if d.Tok == token.IMPORT {
				d.Specs = s.dedupImports(p, d.Specs)
				if len(d.Specs) == 0 {
					continue
				}
			}
			for _, spec := range d.Specs {
				switch spec := spec.(type) {
				case *ast.TypeSpec:
					s.noteShape(p, spec.Name.Name, spec)
					p.declared = append(p.declared, spec.Name.Name)
				case *ast.ValueSpec:
					for _, n := range spec.Names {
						p.declared = append(p.declared, n.Name)
					}
				}
			}
		case *ast.FuncDecl:
			if d.Recv != nil {
				s.noteShape(p, recvName(d)+"."+d.Name.Name, d)
			} else {
				if d.Name.Name == "main" {
					// A pasted program: run its main once, now, instead of letting yaegi rerun
					// it after every later cell (reference yaegi.md §1.4).
					d.Name.Name = "__main" + strconv.Itoa(c.Count)
					p.mains = append(p.mains, d.Name.Name)
				}
				p.declared = append(p.declared, d.Name.Name)
			}
		}
		kept = append(kept, d)
	}
	f.Decls = kept
	s.autoImport(&p.prepared, nil)
	rw := s.rewriter(f, nil)
	for _, d := range f.Decls {
		rw.genDecl(d)
		fillPositions(d)
	}
	s.next = rw.next
	p.declRW = rw
	return p, nil
}

// writePiece writes a piece of a cell under a //line directive that gives it its cell position.
func writePiece(b *strings.Builder, count int, p piece) {
	fmt.Fprintf(b, "\n//line _.go:%d:%d\n%s\n", count*lineBlock+p.line, p.col, p.src)
}

// endOfCell moves a syntax error found after the cell's last line (the parser only notices an
// unfinished statement at the closing brace the session added) to the end of the cell.
func endOfCell(c Cell, e *Error) *Error {
	lines := strings.Split(strings.TrimRight(c.Source, " \t\r\n"), "\n")
	if e.Pos.Count == c.Count && e.Pos.Line <= len(lines) {
		return e
	}
	last := lines[len(lines)-1]
	e.Pos = Pos{Count: c.Count, Line: len(lines), Col: len(last) + 1}
	e.Msg = strings.Replace(e.Msg, "found '}'", "found end of cell", 1)
	e.Msg = strings.Replace(e.Msg, "found 'EOF'", "found end of cell", 1)
	return e
}

func syntaxError(c Cell, err error) *Error {
	var list scanner.ErrorList
	if errors.As(err, &list) && len(list) > 0 {
		e := list[0]
		return &Error{Kind: SyntaxError, Msg: e.Msg, Pos: Pos{Count: c.Count, Line: e.Pos.Line, Col: e.Pos.Column}}
	}
	return &Error{Kind: SyntaxError, Msg: err.Error()}
}

// dedupImports drops imports the interpreter already has (re-importing a compiled package is
// an error in yaegi) and notes an import that changes what a name means, which needs a rebuild.
func (s *Session) dedupImports(p *preparedDecls, specs []ast.Spec) []ast.Spec {
	var kept []ast.Spec
	for _, spec := range specs {
		is := spec.(*ast.ImportSpec)
		ipath, _ := strconv.Unquote(is.Path.Value)
		name := importName(ipath)
		if is.Name != nil {
			name = is.Name.Name
		}
		if name == "_" || name == "." {
			kept = append(kept, spec)
			continue
		}
		if have, ok := s.imports[name]; ok {
			if have != ipath {
				p.rebuild = true
				p.rebuildWhy = fmt.Sprintf("%s now imports %q instead of %q", name, ipath, have)
			}
			continue
		}
		s.imports[name] = ipath
		kept = append(kept, spec)
	}
	return kept
}

// importName is the name a package is imported as by default: the last path element, without
// a major version suffix.
func importName(p string) string {
	base := path.Base(p)
	if len(base) > 1 && base[0] == 'v' && strings.Trim(base[1:], "0123456789") == "" {
		base = path.Base(path.Dir(p))
	}
	return base
}

// noteShape records the hash of a type or method declaration and asks for a rebuild when an
// earlier cell declared it differently.
func (s *Session) noteShape(p *preparedDecls, name string, n ast.Node) {
	var buf bytes.Buffer
	printer.Fprint(&buf, token.NewFileSet(), n)
	sum := sha256.Sum256(buf.Bytes())
	h := string(sum[:8])
	p.shapes[name] = h
	if old, ok := s.shapes[name]; ok && old != h {
		p.rebuild = true
		if p.rebuildWhy == "" {
			if strings.Contains(name, ".") {
				p.rebuildWhy = "method " + name + " changed"
			} else {
				p.rebuildWhy = "type " + name + " changed"
			}
		}
	}
}

func recvName(d *ast.FuncDecl) string {
	t := d.Recv.List[0].Type
	for {
		switch x := t.(type) {
		case *ast.StarExpr:
			t = x.X
		case *ast.IndexExpr:
			t = x.X
		case *ast.IndexListExpr:
			t = x.X
		case *ast.Ident:
			return x.Name
		default:
			return "?"
		}
	}
}

// rewriter makes the rewriter for a cell, knowing its declarations and the globals.
func (s *Session) rewriter(file *ast.File, body *ast.BlockStmt) *rewriter {
	globals := s.globals()
	own := map[string]bool{}
	for _, n := range definedNames(file) {
		own[n] = true
	}
	if body != nil {
		for _, n := range definedNames(body) {
			own[n] = true
		}
	}
	rw := &rewriter{
		next: s.next,
		shadowed: func(name string) bool {
			if own[name] || s.facts.funcs[name] {
				return true
			}
			_, ok := globals[name]
			return ok
		},
		ints:      map[string]bool{},
		intFields: maps.Clone(s.facts.intFields),
		intFuncs:  maps.Clone(s.facts.intFuncs),
		intTypes:  maps.Clone(s.facts.intTypes),
		funcs:     maps.Clone(s.facts.funcs),
		assumeInt: s.assumeInt,
		cellLevel: body != nil,
		fset:      s.yi.FileSet(),
	}
	rw.consts = map[string]bool{}
	for name, v := range globals {
		if !v.CanSet() {
			rw.consts[name] = true
		}
		switch v.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
			rw.ints[name] = true
		}
	}
	rw.learnInts(file)
	if body != nil {
		rw.learnInts(body)
	}
	return rw
}

// definedNames lists every name a node declares at any depth (a flat view of scopes).
func definedNames(n ast.Node) []string {
	var names []string
	ast.Inspect(n, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.AssignStmt:
			if n.Tok == token.DEFINE {
				for _, l := range n.Lhs {
					if id, ok := l.(*ast.Ident); ok {
						names = append(names, id.Name)
					}
				}
			}
		case *ast.ValueSpec:
			for _, id := range n.Names {
				names = append(names, id.Name)
			}
		case *ast.TypeSpec:
			names = append(names, n.Name.Name)
		case *ast.FuncDecl:
			if n.Recv == nil {
				names = append(names, n.Name.Name)
			}
		case *ast.Field:
			for _, id := range n.Names {
				names = append(names, id.Name)
			}
		case *ast.RangeStmt:
			if n.Tok == token.DEFINE {
				for _, e := range []ast.Expr{n.Key, n.Value} {
					if id, ok := e.(*ast.Ident); ok {
						names = append(names, id.Name)
					}
				}
			}
		case *ast.LabeledStmt:
			names = append(names, n.Label.Name)
		}
		return true
	})
	return names
}

// usedNames lists the identifiers a node uses as plain names (not field or method selectors,
// not struct literal keys).
func usedNames(n ast.Node) []*ast.Ident {
	var ids []*ast.Ident
	ast.Inspect(n, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.SelectorExpr:
			ast.Inspect(n.X, func(m ast.Node) bool {
				if id, ok := m.(*ast.Ident); ok {
					ids = append(ids, id)
				}
				return true
			})
			return false
		case *ast.KeyValueExpr:
			if _, ok := n.Key.(*ast.Ident); !ok {
				ast.Inspect(n.Key, func(m ast.Node) bool {
					if id, ok := m.(*ast.Ident); ok {
						ids = append(ids, id)
					}
					return true
				})
			}
			ast.Inspect(n.Value, func(m ast.Node) bool {
				if id, ok := m.(*ast.Ident); ok {
					ids = append(ids, id)
				}
				return true
			})
			return false
		case *ast.Ident:
			ids = append(ids, n)
		}
		return true
	})
	return ids
}

// universe holds Go's predeclared names.
var universe = map[string]bool{
	"bool": true, "byte": true, "complex64": true, "complex128": true, "error": true, "float32": true,
	"float64": true, "int": true, "int8": true, "int16": true, "int32": true, "int64": true, "rune": true,
	"string": true, "uint": true, "uint8": true, "uint16": true, "uint32": true, "uint64": true,
	"uintptr": true, "any": true, "comparable": true, "true": true, "false": true, "iota": true, "nil": true,
	"_": true,
}

// undefinedIdent finds a name the code uses that nothing declares: not the code itself, not an
// earlier cell, not an import, the universe or the kernel's helpers.
func (s *Session) undefinedIdent(n ast.Node) *ast.Ident {
	known := map[string]bool{}
	for _, name := range definedNames(n) {
		known[name] = true
	}
	roots := []ast.Node{n}
	if f, ok := n.(*ast.File); ok { // not the package clause
		roots = roots[:0]
		for _, d := range f.Decls {
			roots = append(roots, d)
		}
	}
	globals := s.globals()
	for _, root := range roots {
		for _, id := range usedNames(root) {
			name := id.Name
			if known[name] || universe[name] || builtins[name] || s.imports[name] != "" || s.names[name] || strings.HasPrefix(name, "__") {
				continue
			}
			if _, ok := globals[name]; ok {
				continue
			}
			return id
		}
	}
	return nil
}

// checkFailedUse reports a use of a name whose declaring cell failed to compile.
func (s *Session) checkFailedUse(c Cell, file *ast.File, body *ast.BlockStmt) *Error {
	if len(s.failed) == 0 {
		return nil
	}
	own := map[string]bool{}
	for _, n := range append(definedNames(file), definedNames(body)...) {
		own[n] = true
	}
	for _, root := range []ast.Node{file, body} {
		for _, id := range usedNames(root) {
			if n, ok := s.failed[id.Name]; ok && !own[id.Name] {
				pos := s.yi.FileSet().Position(id.Pos())
				p, _ := posOf(pos.Line, pos.Column)
				return &Error{Kind: CompileError, Pos: p, Msg: fmt.Sprintf("%s is not defined: In[%d], which declared it, failed", id.Name, n)}
			}
		}
	}
	return nil
}

// autoImport adds imports for packages a cell uses without importing them, as goimports would.
func (s *Session) autoImport(p *prepared, body *ast.BlockStmt) {
	own := map[string]bool{}
	roots := []ast.Node{p.file}
	if body != nil {
		roots = append(roots, body)
	}
	for _, root := range roots {
		for _, n := range definedNames(root) {
			own[n] = true
		}
	}
	globals := s.globals()
	var add []ast.Spec
	seen := map[string]bool{}
	for _, root := range roots {
		ast.Inspect(root, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			id, ok := sel.X.(*ast.Ident)
			if !ok || own[id.Name] || seen[id.Name] || s.imports[id.Name] != "" {
				return true
			}
			if _, ok := globals[id.Name]; ok {
				return true
			}
			if ipath, ok := s.known[id.Name]; ok {
				seen[id.Name] = true
				s.imports[id.Name] = ipath
				add = append(add, &ast.ImportSpec{Path: &ast.BasicLit{Kind: token.STRING, Value: strconv.Quote(ipath)}})
			}
			return true
		})
	}
	if len(add) > 0 {
		p.file.Decls = append([]ast.Decl{&ast.GenDecl{Tok: token.IMPORT, Specs: add}}, p.file.Decls...)
	}
}

// preferred settles names that several packages share, as goimports users expect.
var preferred = map[string]string{
	"rand":     "math/rand",
	"template": "text/template",
	"scanner":  "go/scanner",
	"pprof":    "runtime/pprof",
	"constant": "go/constant",
	"big":      "math/big",
	"url":      "net/url",
	"json":     "encoding/json",
}

// knownPackages maps a package name to its import path for every package in the exports.
func knownPackages(ex yaegi.Exports) map[string]string {
	known := map[string]string{}
	keys := make([]string, 0, len(ex))
	for k := range ex {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		ipath := path.Dir(k)
		name := path.Base(k)
		if strings.Contains(ipath, "internal") || strings.HasPrefix(ipath, "github.com/") {
			continue
		}
		if have, ok := known[name]; !ok || len(ipath) < len(have) {
			known[name] = ipath
		}
	}
	for name, ipath := range preferred {
		if _, ok := ex[ipath+"/"+name]; ok {
			known[name] = ipath
		}
	}
	return known
}

// showsValue says whether a trailing expression's value is worth an Out[n]: not the (n, err) of
// a print call, not a display call (it shows itself).
func showsValue(e ast.Expr) bool {
	call, ok := e.(*ast.CallExpr)
	if !ok {
		return true
	}
	switch fn := call.Fun.(type) {
	case *ast.Ident:
		return fn.Name != "println" && fn.Name != "print" && fn.Name != "panic"
	case *ast.SelectorExpr:
		if pkg, ok := fn.X.(*ast.Ident); ok {
			switch pkg.Name {
			case "fmt":
				return !strings.HasPrefix(fn.Sel.Name, "Print") && !strings.HasPrefix(fn.Sel.Name, "Fprint")
			case "log":
				return false
			case "display":
				return fn.Sel.Name != "Show"
			}
		}
		return fn.Sel.Name != "Update"
	}
	return true
}

// globals returns the interpreter's global variables and constants. yaegi's Globals indexes the
// global frame, which only grows when a program is executed: after a compile that failed (the
// names it declared are registered, their slots not yet made) it panics. The session then
// executes an empty program, which grows the frame (under yaegi's own lock), and asks again.
func (s *Session) globals() map[string]reflect.Value {
	for attempt := 0; ; attempt++ {
		g, ok := s.tryGlobals()
		if ok {
			return g
		}
		if attempt > 0 {
			return map[string]reflect.Value{}
		}
		s.syncFrame()
	}
}

func (s *Session) tryGlobals() (g map[string]reflect.Value, ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return s.yi.Globals(), true
}

// syncFrame makes the global frame as large as the compiled globals need (see globals).
func (s *Session) syncFrame() {
	defer func() { recover() }()
	if prog, err := s.yi.CompileAST(&ast.BlockStmt{}); err == nil {
		s.yi.Execute(prog)
	}
}

// facts are what the rewrites know about the declarations of cells that compiled: named types
// whose underlying type is an integer, struct fields and funcs of integer type, and funcs.
type facts struct {
	intTypes, intFields, intFuncs, funcs map[string]bool
}

func newFacts() facts {
	return facts{intTypes: map[string]bool{}, intFields: map[string]bool{}, intFuncs: map[string]bool{}, funcs: map[string]bool{}}
}

// learn keeps what a rewriter learned from a cell that compiled.
func (f *facts) learn(rw *rewriter) {
	maps.Copy(f.intTypes, rw.intTypes)
	maps.Copy(f.intFields, rw.intFields)
	maps.Copy(f.intFuncs, rw.intFuncs)
	maps.Copy(f.funcs, rw.funcs)
}

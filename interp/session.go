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
	"path"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
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
	// Exports are the packages cells may import (see package symbols).
	Exports yaegi.Exports
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
	atLine  int // interpreter line of the top-level statement running (see markLines)

	stderr    *panicFilter
	gor       goroutines
	stopped   atomic.Bool // Interrupt stopped the interpreter's execution
	executing atomic.Bool // a cell is inside yaegi's Execute
	next      int         // fresh-name counter for the rewrites, kept across cells
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
		gor:     goroutines{owners: map[int]loop.Owner{}, byG: map[int64]loop.Owner{}},
	}
	s.stderr = &panicFilter{w: opts.Stderr}
	s.known = knownPackages(opts.Exports)
	if err := s.reset(); err != nil {
		return nil, err
	}
	return s, nil
}

// reset replaces the interpreter with a fresh one that has the prelude compiled.
func (s *Session) reset() error {
	yi := yaegi.New(yaegi.Options{Stdout: s.opts.Stdout, Stderr: s.stderr})
	if err := yi.Use(s.opts.Exports); err != nil {
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
	s.yi = yi
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
	if s.stopped.Swap(true) {
		return s.executing.Load()
	}
	yaegiStop(s.yi)
	return s.executing.Load()
}

// Line reports the cell position of the top-level statement running now, for the loop's site
// hook (call it on the loop goroutine). ok is false outside a cell's top-level code.
func (s *Session) Line() (count, line int, ok bool) {
	if !s.executing.Load() || s.atLine == 0 {
		return 0, 0, false
	}
	p, ok := posOf(s.atLine, 0)
	return p.Count, p.Line, ok
}

// Executing reports whether a cell is inside the interpreter right now (goroutine-safe).
func (s *Session) Executing() bool { return s.executing.Load() }

// Execute runs a cell. It must be called inside a task on the session's loop (co is that task),
// so that the cell can await at top level and what it schedules runs on the shared loop.
func (s *Session) Execute(co *loop.Co, c Cell) (res Result) {
	defer func() {
		if s.stopped.Load() {
			s.stopped.Store(false)
			s.prime()
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
		if err := s.rebuild(c.ID, p.declared, p.shapes); err != nil {
			return Result{Err: &Error{Kind: InternalError, Msg: err.Error()}}
		}
		res.Notices = append(res.Notices, s.replayNotice(c.ID, p.rebuildWhy))
		// The fresh interpreter has only the replayed imports: prepare again against it.
		p, errc = s.prepare(c)
		if errc != nil {
			res.Err = errc
			return res
		}
	}
	if len(p.file.Decls) > 0 {
		if err := s.run(p.file, c); err != nil {
			s.noteFailed(p, c)
			res.Err = err
			return res
		}
	}
	for name, sh := range p.shapes {
		s.shapes[name] = sh
	}
	if len(p.decls) > 0 {
		s.history[c.ID] = entry{count: c.Count, decls: p.decls}
	} else {
		delete(s.history, c.ID)
	}
	for _, name := range p.declared {
		delete(s.failed, name)
	}
	s.setGlobals(co)
	if len(p.stmts.List) == 0 {
		return res
	}
	s.outVals, s.hasOut, s.atLine = nil, false, 0
	err := s.run(p.stmts, c)
	if err != nil && p.wrapped && err.Kind == CompileError && isVoidUse(err.Msg) {
		// The trailing call returns nothing: run it as a plain statement.
		last := p.stmts.List[len(p.stmts.List)-1].(*ast.ExprStmt)
		last.X = last.X.(*ast.CallExpr).Args[0]
		err = s.run(p.stmts, c)
	}
	if err != nil {
		if err.Kind == CompileError {
			s.noteFailed(p, c)
		}
		res.Err = err
		return res
	}
	if s.hasOut {
		res.Value = formatValue(s.outVals)
	}
	return res
}

// setGlobals points co and L at the running cell's task and the shared loop, unless a cell
// redeclared them.
func (s *Session) setGlobals(co *loop.Co) {
	g := s.yi.Globals()
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
				e.Msg += " (the interpreter cannot compile this; a range over an integer whose type it cannot tell, or over a function, does this: write the loop with a counter)"
			}
		}
	}()
	prog, err := s.yi.CompileAST(n)
	if err != nil {
		ce := compileError(CompileError, err)
		if strings.Contains(ce.Msg, "constant definition loop") {
			if name := s.undefinedName(n); name != "" {
				ce.Msg = "undefined: " + name
			}
		}
		return nil, ce
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
	if n := len(e.Frames); n > 0 && e.Frames[n-1].Func == "cell" && s.atLine > 0 {
		if p, ok := posOf(s.atLine, 0); ok {
			e.Frames[n-1].Pos = p
		}
	}
	if len(e.Frames) == 0 && s.atLine > 0 {
		if p, ok := posOf(s.atLine, 0); ok {
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
		if st.Pos().IsValid() {
			line := s.yi.FileSet().Position(st.Pos()).Line
			mark := helperCall("At", &ast.BasicLit{ValuePos: st.Pos(), Kind: token.INT, Value: strconv.Itoa(line)})
			mark.Fun.(*ast.SelectorExpr).X.(*ast.Ident).NamePos = st.Pos() // yaegi reports positions of nodes
			mark.Lparen, mark.Rparen = st.Pos(), st.Pos()
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
	return s.stderr.take()
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
	g := s.yi.Globals()
	for _, name := range p.declared {
		if _, existed := p.globalsBefore[name]; !existed {
			if _, now := g[name]; now {
				s.failed[name] = c.Count
			}
		}
	}
}

// rebuild replaces the interpreter and replays the declarations of every other cell, oldest run
// first, because yaegi silently ignores a changed type or method.
func (s *Session) rebuild(except string, names []string, shapes map[string]string) error {
	superseded := map[string]bool{}
	for _, n := range names {
		superseded[n] = true
	}
	for n := range shapes {
		superseded[n] = true
	}
	if err := s.reset(); err != nil {
		return err
	}
	runs := make([]entry, 0, len(s.history))
	ids := map[int]string{}
	for id, e := range s.history {
		if id == except {
			continue
		}
		runs = append(runs, e)
		ids[e.count] = id
	}
	sort.Slice(runs, func(i, j int) bool { return runs[i].count < runs[j].count })
	history := s.history
	s.history = map[string]entry{}
	for _, e := range runs {
		id := ids[e.count]
		p, err := s.prepareDecls(Cell{ID: id, Count: e.count}, e.decls)
		if err != nil {
			continue // it does not compile against the new declarations: leave it out
		}
		dropSuperseded(p.file, superseded)
		if len(p.file.Decls) > 0 {
			if err := s.run(p.file, Cell{ID: id, Count: e.count}); err != nil {
				continue
			}
		}
		for name, sh := range p.shapes {
			s.shapes[name] = sh
		}
		s.history[id] = history[id]
	}
	return nil
}

// dropSuperseded removes from a replayed cell the declarations that the cell being run now
// declares again (its new type must not meet the old one).
func dropSuperseded(f *ast.File, names map[string]bool) {
	var kept []ast.Decl
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			name := d.Name.Name
			if d.Recv != nil {
				name = recvName(d) + "." + name
			}
			if names[name] {
				continue
			}
		case *ast.GenDecl:
			var specs []ast.Spec
			for _, spec := range d.Specs {
				switch sp := spec.(type) {
				case *ast.TypeSpec:
					if names[sp.Name.Name] {
						continue
					}
				case *ast.ValueSpec:
					if len(sp.Names) == 1 && names[sp.Names[0].Name] {
						continue
					}
				}
				specs = append(specs, spec)
			}
			if len(specs) == 0 {
				continue
			}
			d.Specs = specs
		}
		kept = append(kept, d)
	}
	f.Decls = kept
}

func (s *Session) replayNotice(except, why string) string {
	var nums []int
	for id, e := range s.history {
		if id != except {
			nums = append(nums, e.count)
		}
	}
	sort.Ints(nums)
	var counts []string
	for _, n := range nums {
		counts = append(counts, "In["+strconv.Itoa(n)+"]")
	}
	msg := why + ": the interpreter was rebuilt (it cannot change a type or method in place)"
	if len(counts) > 0 {
		msg += " and the declarations of " + strings.Join(counts, ", ") + " were replayed"
	}
	return msg + "; variables set by statements were reset."
}

// prepared is a cell ready to compile: its declarations as a file, its statements as a block.
type prepared struct {
	file          *ast.File
	stmts         *ast.BlockStmt
	decls         []piece
	shapes        map[string]string
	declared      []string
	globalsBefore map[string]reflect.Value
	wrapped       bool // the last statement was wrapped to capture Out[n]
	rebuild       bool
	rebuildWhy    string
	notices       []string
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
	p, e := s.prepareDecls(c, decls)
	if e != nil {
		return nil, e
	}
	// Statements: parsed as the body of a function, at their cell positions.
	var b strings.Builder
	b.WriteString("package main\nfunc main() {\n")
	for _, st := range stmts {
		writePiece(&b, c.Count, st)
	}
	b.WriteString("\n}\n")
	f, err := parser.ParseFile(s.yi.FileSet(), "_.go", b.String(), parser.SkipObjectResolution)
	if err != nil {
		return nil, endOfCell(c, compileError(SyntaxError, err))
	}
	body := f.Decls[0].(*ast.FuncDecl).Body
	for _, name := range p.mains {
		body.List = append(body.List, &ast.ExprStmt{X: &ast.CallExpr{Fun: ast.NewIdent(name)}})
	}
	p.declared = append(p.declared, definedNames(body)...)
	if e := s.checkFailedUse(c, p.file, body); e != nil {
		return nil, e
	}
	s.autoImport(&p.prepared, body)
	rw := s.rewriter(p.file, body)
	body.List = rw.rewriteBody(body.List)
	body.List = s.markLines(body.List)
	s.next = rw.next
	if n := len(body.List); n > 0 && len(p.mains) == 0 {
		if es, ok := body.List[n-1].(*ast.ExprStmt); ok && showsValue(es.X) {
			es.X = helperCall("Out", es.X)
			p.wrapped = true
		}
	}
	p.stmts = body
	return &p.prepared, nil
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
	for _, d := range decls {
		writePiece(&b, c.Count, d)
	}
	f, err := parser.ParseFile(s.yi.FileSet(), "_.go", b.String(), parser.SkipObjectResolution)
	if err != nil {
		return nil, compileError(SyntaxError, err)
	}
	p := &preparedDecls{prepared: prepared{file: f, decls: decls, shapes: map[string]string{}, globalsBefore: s.yi.Globals()}}
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
	rw := s.rewriter(f, nil)
	for _, d := range f.Decls {
		rw.genDecl(d)
	}
	s.next = rw.next
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
	globals := s.yi.Globals()
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
			if own[name] {
				return true
			}
			_, ok := globals[name]
			return ok
		},
		ints: map[string]bool{},
	}
	for name, v := range globals {
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

// undefinedName finds a name the code uses that nothing declares: yaegi reports such a name in
// top-level code as "constant definition loop" (reference yaegi.md §1.5).
func (s *Session) undefinedName(n ast.Node) string {
	known := map[string]bool{}
	for _, name := range definedNames(n) {
		known[name] = true
	}
	globals := s.yi.Globals()
	for _, id := range usedNames(n) {
		name := id.Name
		if known[name] || universe[name] || builtins[name] || s.imports[name] != "" || strings.HasPrefix(name, "__") {
			continue
		}
		if _, ok := globals[name]; ok {
			continue
		}
		return name
	}
	return ""
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
	for _, n := range append(definedNames(p.file), definedNames(body)...) {
		own[n] = true
	}
	globals := s.yi.Globals()
	var add []ast.Spec
	seen := map[string]bool{}
	for _, root := range []ast.Node{p.file, body} {
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

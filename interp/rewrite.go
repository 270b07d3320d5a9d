package interp

import (
	"go/ast"
	"go/token"
	"strconv"
)

// The rewrites below give cells the Go of today where yaegi v0.16.1 lags behind (reference
// yaegi.md §6 and §10): per-iteration loop variables, range over an int, the min/max/clear
// builtins, and `go` statements whose panics are reported instead of killing the kernel. They
// work on syntax alone; where a rewrite needs a type (is this range over an int?), it asks the
// session's knowledge of the cell and of earlier cells' globals.

// helperPkg is the import name of the kernel's helper package inside the interpreter.
const helperPkg = "__lb"

// rewriter carries what the rewrites need to know about the notebook.
type rewriter struct {
	next int // counter for fresh names
	// shadowed reports whether a name is declared by the user (globals or this cell), so that a
	// user's own min or clear is left alone.
	shadowed func(name string) bool
	// ints holds names known to be integers: the cell's own declarations and integer globals.
	ints map[string]bool
	// intFields and intFuncs hold struct fields and funcs (declared in any cell) whose type or
	// single result is an integer: `range p.N` and `range count()` are ranges over integers.
	intFields, intFuncs map[string]bool
	// intTypes holds the named types (of any cell) whose underlying type is an integer.
	intTypes map[string]bool
	// funcs holds the names of funcs (of any cell): ranging over one is ranging over an
	// iterator, which yaegi cannot do.
	funcs map[string]bool
	// consts holds the names of constants (of this cell, and globals that cannot be set).
	consts map[string]bool
	// assumeInt makes a range over an expression of unknown type a range over an integer:
	// the session's second attempt when the first one made yaegi's compiler fail.
	assumeInt bool
	// ambiguous counts the ranges whose type the rewriter could not tell (see assumeInt);
	// firstAmbiguous is the first one.
	ambiguous      int
	firstAmbiguous ast.Expr
	// unsupported is the first construct found that the interpreter cannot run, if any.
	unsupported *rewriteError
	// fset turns positions into lines.
	fset *token.FileSet
	// cellLevel is true while rewriting a cell's own top-level code (not a func's body): a
	// defer there runs when the cell's code ends.
	cellLevel bool
}

// rewriteError is a construct the rewriter knows the interpreter cannot run.
type rewriteError struct {
	pos token.Pos
	msg string
}

func (rw *rewriter) fresh(base string) string {
	rw.next++
	return "__" + base + strconv.Itoa(rw.next)
}

// rewriteBody applies the statement rewrites to a list of statements (a function body or the
// cell's top-level statements).
func (rw *rewriter) rewriteBody(list []ast.Stmt) []ast.Stmt {
	out := list[:0:0]
	for _, s := range list {
		out = append(out, rw.stmt(s, nil))
	}
	return out
}

// loopInfo describes an enclosing loop whose variables were made per-iteration: a `continue`
// that targets it must first copy the iteration's variables back to the loop's own.
type loopInfo struct {
	label    string
	copyBack []ast.Stmt
	parent   *loopInfo
}

func (rw *rewriter) stmt(s ast.Stmt, loops *loopInfo) ast.Stmt {
	switch s := s.(type) {
	case *ast.LabeledStmt:
		switch inner := s.Stmt.(type) {
		case *ast.ForStmt:
			s.Stmt = rw.forStmt(inner, s.Label.Name, loops)
		case *ast.RangeStmt:
			s.Stmt = rw.rangeStmt(inner, s.Label.Name, loops)
		default:
			s.Stmt = rw.stmt(inner, loops)
		}
		return s
	case *ast.ForStmt:
		return rw.forStmt(s, "", loops)
	case *ast.RangeStmt:
		return rw.rangeStmt(s, "", loops)
	case *ast.BranchStmt:
		if s.Tok != token.CONTINUE {
			return s
		}
		for l := loops; l != nil; l = l.parent {
			if s.Label == nil || s.Label.Name == l.label {
				if len(l.copyBack) == 0 {
					return s
				}
				return &ast.BlockStmt{Lbrace: s.TokPos, List: append(append([]ast.Stmt{}, l.copyBack...), s)}
			}
		}
		return s
	case *ast.GoStmt:
		return rw.goStmt(s, loops)
	case *ast.BlockStmt:
		rw.block(s, loops)
	case *ast.IfStmt:
		s.Init = rw.optStmt(s.Init, loops)
		s.Cond = rw.expr(s.Cond)
		rw.block(s.Body, loops)
		s.Else = rw.optStmt(s.Else, loops)
	case *ast.SwitchStmt:
		s.Init = rw.optStmt(s.Init, loops)
		if s.Tag != nil {
			s.Tag = rw.expr(s.Tag)
		}
		rw.clauses(s.Body, loops)
	case *ast.TypeSwitchStmt:
		s.Init = rw.optStmt(s.Init, loops)
		s.Assign = rw.stmt(s.Assign, loops)
		rw.clauses(s.Body, loops)
	case *ast.SelectStmt:
		rw.clauses(s.Body, loops)
	case *ast.ExprStmt:
		s.X = rw.expr(s.X)
	case *ast.AssignStmt:
		rw.exprs(s.Rhs)
		rw.exprs(s.Lhs)
	case *ast.ReturnStmt:
		rw.exprs(s.Results)
	case *ast.DeferStmt:
		s.Call = rw.expr(s.Call).(*ast.CallExpr)
		if rw.cellLevel {
			return rw.cellDefer(s)
		}
	case *ast.SendStmt:
		s.Chan, s.Value = rw.expr(s.Chan), rw.expr(s.Value)
	case *ast.IncDecStmt:
		s.X = rw.expr(s.X)
	case *ast.DeclStmt:
		rw.genDecl(s.Decl)
	}
	return s
}

func (rw *rewriter) optStmt(s ast.Stmt, loops *loopInfo) ast.Stmt {
	if s == nil {
		return nil
	}
	return rw.stmt(s, loops)
}

func (rw *rewriter) block(b *ast.BlockStmt, loops *loopInfo) {
	if b == nil {
		return
	}
	for i, s := range b.List {
		b.List[i] = rw.stmt(s, loops)
	}
}

func (rw *rewriter) clauses(b *ast.BlockStmt, loops *loopInfo) {
	for _, c := range b.List {
		switch c := c.(type) {
		case *ast.CaseClause:
			rw.exprs(c.List)
			for i, s := range c.Body {
				c.Body[i] = rw.stmt(s, loops)
			}
		case *ast.CommClause:
			c.Comm = rw.optStmt(c.Comm, loops)
			for i, s := range c.Body {
				c.Body[i] = rw.stmt(s, loops)
			}
		}
	}
}

func (rw *rewriter) genDecl(d ast.Decl) {
	switch d := d.(type) {
	case *ast.GenDecl:
		for _, spec := range d.Specs {
			if vs, ok := spec.(*ast.ValueSpec); ok {
				rw.exprs(vs.Values)
			}
		}
	case *ast.FuncDecl:
		if d.Body != nil {
			d.Body.List = rw.funcBody(d.Body.List)
		}
	}
}

// funcBody rewrites the body of a func declaration or literal.
func (rw *rewriter) funcBody(list []ast.Stmt) []ast.Stmt {
	saved := rw.cellLevel
	rw.cellLevel = false
	defer func() { rw.cellLevel = saved }()
	return rw.rewriteBody(list)
}

// forStmt makes the variables a three-clause loop declares per-iteration, as Go 1.22 does:
//
//	for i := 0; i < n; i++ { body }
//
// becomes
//
//	for __lv1 := 0; __lv1 < n; __lv1++ { i := __lv1; body; __lv1 = i }
//
// so a closure created in the body keeps its own i, and changes the body makes to i still steer
// the loop. The loop's own variable gets a fresh name: yaegi mishandles `i := i` in top-level code.
func (rw *rewriter) forStmt(s *ast.ForStmt, label string, loops *loopInfo) ast.Stmt {
	init, ok := s.Init.(*ast.AssignStmt)
	var names []string
	if ok && init.Tok == token.DEFINE {
		for _, l := range init.Lhs {
			if id, ok := l.(*ast.Ident); ok && id.Name != "_" {
				names = append(names, id.Name)
			}
		}
	}
	if ok {
		rw.exprs(init.Rhs)
	} else if s.Init != nil {
		s.Init = rw.stmt(s.Init, loops)
	}
	if s.Cond != nil {
		s.Cond = rw.expr(s.Cond)
	}
	info := &loopInfo{label: label, parent: loops}
	if len(names) == 0 {
		rw.block(s.Body, info)
		return s
	}
	renamed := map[string]string{}
	for _, n := range names {
		renamed[n] = rw.fresh("lv")
	}
	rename := func(n ast.Node) {
		ast.Inspect(n, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.SelectorExpr:
				ast.Inspect(n.X, func(m ast.Node) bool {
					if id, ok := m.(*ast.Ident); ok && renamed[id.Name] != "" {
						id.Name = renamed[id.Name]
					}
					return true
				})
				return false
			case *ast.FuncLit:
				return false
			case *ast.Ident:
				if r := renamed[n.Name]; r != "" {
					n.Name = r
				}
			}
			return true
		})
	}
	for _, l := range init.Lhs {
		rename(l)
	}
	if s.Cond != nil {
		rename(s.Cond)
	}
	if s.Post != nil {
		rename(s.Post)
	}
	var enter, back []ast.Stmt
	for _, n := range names {
		enter = append(enter, define(n, ast.NewIdent(renamed[n])))
		back = append(back, assign(renamed[n], ast.NewIdent(n)))
	}
	info.copyBack = back
	rw.block(s.Body, info)
	body := append(enter, s.Body)
	body = append(body, back...)
	s.Body = &ast.BlockStmt{List: body}
	return s
}

// rangeStmt makes range variables per-iteration (`for k, v := range m` gets `k, v := __k, __v`
// as its first statement) and turns a range over an integer into a counting loop, which yaegi
// cannot compile.
func (rw *rewriter) rangeStmt(s *ast.RangeStmt, label string, loops *loopInfo) ast.Stmt {
	s.X = rw.expr(s.X)
	info := &loopInfo{label: label, parent: loops}
	rw.block(s.Body, info)
	if rw.isFunc(s.X) {
		if rw.unsupported == nil {
			rw.unsupported = &rewriteError{s.Pos(), "range over a function (an iterator) is not supported by the interpreter: call the function with a yield func instead"}
		}
		return s
	}
	if s.Value == nil {
		if rw.isInt(s.X) {
			return rw.rangeInt(s)
		}
		if !rw.notInt(s.X) {
			if rw.ambiguous == 0 {
				rw.firstAmbiguous = s.X
			}
			rw.ambiguous++
			if rw.assumeInt {
				return rw.rangeInt(s)
			}
		}
	}
	if s.Tok != token.DEFINE {
		return s
	}
	var lhs, rhs []ast.Expr
	for _, e := range []ast.Expr{s.Key, s.Value} {
		id, ok := e.(*ast.Ident)
		if !ok || id.Name == "_" {
			continue
		}
		tmp := rw.fresh("rv")
		lhs = append(lhs, ast.NewIdent(id.Name))
		rhs = append(rhs, ast.NewIdent(tmp))
		id.Name = tmp
	}
	if len(lhs) > 0 {
		s.Body.List = append([]ast.Stmt{&ast.AssignStmt{Lhs: lhs, Tok: token.DEFINE, Rhs: rhs}}, s.Body.List...)
	}
	return s
}

// rangeInt rewrites `for i := range n { body }` as
//
//	{ __n1 := n; for __ri2 := __n1 - __n1; __ri2 < __n1; __ri2++ { i := __ri2; body } }
//
// (`__n1 - __n1` is a zero of n's own type; n is evaluated once, as range does).
func (rw *rewriter) rangeInt(s *ast.RangeStmt) ast.Stmt {
	n, i := rw.fresh("n"), rw.fresh("ri")
	loop := &ast.ForStmt{
		Init: define(i, &ast.BinaryExpr{X: ast.NewIdent(n), Op: token.SUB, Y: ast.NewIdent(n)}),
		Cond: &ast.BinaryExpr{X: ast.NewIdent(i), Op: token.LSS, Y: ast.NewIdent(n)},
		Post: &ast.IncDecStmt{X: ast.NewIdent(i), Tok: token.INC},
		Body: s.Body,
	}
	if id, ok := s.Key.(*ast.Ident); ok && id.Name != "_" {
		if s.Tok == token.DEFINE {
			loop.Body.List = append([]ast.Stmt{define(id.Name, ast.NewIdent(i))}, loop.Body.List...)
		} else {
			loop.Body.List = append([]ast.Stmt{assign(id.Name, ast.NewIdent(i))}, loop.Body.List...)
		}
	}
	return &ast.BlockStmt{Lbrace: s.For, List: []ast.Stmt{define(n, s.X), loop}}
}

// goStmt guards a goroutine the cell starts, so that its panic is reported in the cell that
// started it instead of killing the kernel (yaegi starts goroutines without a recover):
//
//	go f(a, b)
//
// becomes
//
//	{ __gf1, __ga2, __ga3 := f, a, b; __go4 := __lb.GoStart(); go func() { defer func() { __lb.GoEnd(__go4, recover()) }(); __lb.GoEnter(__go4); __gf1(__ga2, __ga3) }() }
//
// The function and its arguments are still evaluated by the go statement, as Go requires.
func (rw *rewriter) goStmt(s *ast.GoStmt, loops *loopInfo) ast.Stmt {
	call := rw.expr(s.Call).(*ast.CallExpr)
	if id, ok := call.Fun.(*ast.Ident); ok && builtins[id.Name] && !rw.shadowed(id.Name) {
		s.Call = call
		return s // go println(x): a builtin cannot be a value
	}
	pre, later := rw.capture(call, "g")
	tok := rw.fresh("go")
	recoverCall := &ast.CallExpr{Fun: ast.NewIdent("recover")}
	guard := &ast.DeferStmt{Call: &ast.CallExpr{Fun: &ast.FuncLit{
		Type: &ast.FuncType{Params: &ast.FieldList{}},
		Body: &ast.BlockStmt{List: []ast.Stmt{&ast.ExprStmt{X: helperCall("GoEnd", ast.NewIdent(tok), recoverCall)}}},
	}}}
	body := &ast.BlockStmt{List: []ast.Stmt{
		guard,
		&ast.ExprStmt{X: helperCall("GoEnter", ast.NewIdent(tok))},
		&ast.ExprStmt{X: later},
	}}
	return &ast.BlockStmt{Lbrace: s.Go, List: append(pre,
		define(tok, helperCall("GoStart")),
		&ast.GoStmt{Go: s.Go, Call: &ast.CallExpr{Fun: &ast.FuncLit{Type: &ast.FuncType{Params: &ast.FieldList{}}, Body: body}}},
	)}
}

// builtins that can be started with go but are not values.
var builtins = map[string]bool{
	"append": true, "cap": true, "clear": true, "close": true, "complex": true, "copy": true,
	"delete": true, "imag": true, "len": true, "make": true, "max": true, "min": true, "new": true,
	"panic": true, "print": true, "println": true, "real": true, "recover": true,
}

func (rw *rewriter) exprs(list []ast.Expr) {
	for i, e := range list {
		list[i] = rw.expr(e)
	}
}

// expr rewrites inside an expression: calls of min, max and clear (missing in yaegi) go to the
// prelude's versions, and function literals get the statement rewrites.
func (rw *rewriter) expr(e ast.Expr) ast.Expr {
	if e == nil {
		return nil
	}
	ast.Inspect(e, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			n.Body.List = rw.funcBody(n.Body.List)
			return false
		case *ast.CallExpr:
			for i, a := range n.Args {
				if lit, ok := a.(*ast.FuncLit); ok {
					n.Args[i] = closureValue(lit)
				}
			}
			if id, ok := n.Fun.(*ast.Ident); ok && !rw.shadowed(id.Name) {
				switch id.Name {
				case "min", "max":
					id.Name = "__lb_" + id.Name
					if len(n.Args) == 1 && n.Ellipsis == token.NoPos {
						// yaegi's compiler fails on an empty variadic of a generic func.
						id.Name = "__lb_same"
					}
				case "clear":
					n.Fun = &ast.SelectorExpr{X: ast.NewIdent(helperPkg), Sel: ast.NewIdent("Clear")}
				}
			}
		}
		return true
	})
	return e
}

// isInt reports whether an expression is surely an integer: a literal, a known integer name,
// len or cap, a conversion to an integer type, or arithmetic on those.
func (rw *rewriter) isInt(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.BasicLit:
		return e.Kind == token.INT
	case *ast.Ident:
		return rw.ints[e.Name]
	case *ast.ParenExpr:
		return rw.isInt(e.X)
	case *ast.UnaryExpr:
		return (e.Op == token.SUB || e.Op == token.ADD || e.Op == token.XOR) && rw.isInt(e.X)
	case *ast.BinaryExpr:
		switch e.Op {
		case token.ADD, token.SUB, token.MUL, token.QUO, token.REM, token.AND, token.OR, token.XOR, token.AND_NOT:
			return rw.isInt(e.X) && rw.isInt(e.Y)
		case token.SHL, token.SHR:
			return rw.isInt(e.X)
		}
	case *ast.CallExpr:
		if id, ok := e.Fun.(*ast.Ident); ok {
			if rw.intFuncs[id.Name] || rw.intTypes[id.Name] {
				return true
			}
			if !rw.shadowed(id.Name) {
				return id.Name == "len" || id.Name == "cap" || intTypes[id.Name]
			}
		}
	case *ast.SelectorExpr:
		return rw.intFields[e.Sel.Name]
	}
	return false
}

// notInt reports whether an expression is surely not an integer (a composite literal, a
// string, a make or append call, a conversion to a slice), so ranging over it needs no rewrite.
func (rw *rewriter) notInt(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.CompositeLit:
		return true
	case *ast.BasicLit:
		return e.Kind == token.STRING
	case *ast.ParenExpr:
		return rw.notInt(e.X)
	case *ast.CallExpr:
		switch fn := e.Fun.(type) {
		case *ast.Ident:
			return (fn.Name == "make" || fn.Name == "append") && !rw.shadowed(fn.Name)
		case *ast.ArrayType, *ast.MapType, *ast.ChanType:
			return true
		}
	case *ast.SliceExpr:
		return true
	case *ast.UnaryExpr:
		return e.Op == token.ARROW
	}
	return false
}

// isFunc reports whether an expression is surely a function: a literal or a func declared in
// a cell (ranging over it is ranging over an iterator).
func (rw *rewriter) isFunc(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.FuncLit:
		return true
	case *ast.Ident:
		return rw.funcs[e.Name]
	case *ast.ParenExpr:
		return rw.isFunc(e.X)
	}
	return false
}

var intTypes = map[string]bool{
	"int": true, "int8": true, "int16": true, "int32": true, "int64": true, "uint": true,
	"uint8": true, "uint16": true, "uint32": true, "uint64": true, "uintptr": true, "byte": true, "rune": true,
}

// learnInts records the names a cell declares with an integer value or type, anywhere in the
// cell (a flat approximation of scopes, good for deciding what `range n` ranges over).
func (rw *rewriter) learnInts(root ast.Node) {
	ast.Inspect(root, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.AssignStmt:
			if n.Tok == token.DEFINE && len(n.Lhs) == len(n.Rhs) {
				for i, l := range n.Lhs {
					if id, ok := l.(*ast.Ident); ok && rw.isInt(n.Rhs[i]) {
						rw.ints[id.Name] = true
					}
				}
			}
		case *ast.TypeSpec:
			if id, ok := n.Type.(*ast.Ident); ok && (intTypes[id.Name] || rw.intTypes[id.Name]) {
				rw.intTypes[n.Name.Name] = true
			}
		case *ast.FuncDecl:
			if n.Recv == nil {
				rw.funcs[n.Name.Name] = true
			}
			if r := n.Type.Results; r != nil && len(r.List) == 1 && len(r.List[0].Names) <= 1 {
				if id, ok := r.List[0].Type.(*ast.Ident); ok && (intTypes[id.Name] || rw.intTypes[id.Name]) {
					rw.intFuncs[n.Name.Name] = true
				}
			}
		case *ast.StructType:
			for _, f := range n.Fields.List {
				if id, ok := f.Type.(*ast.Ident); ok && (intTypes[id.Name] || rw.intTypes[id.Name]) {
					for _, name := range f.Names {
						rw.intFields[name.Name] = true
					}
				}
			}
		case *ast.GenDecl:
			if n.Tok == token.CONST {
				for _, spec := range n.Specs {
					for _, id := range spec.(*ast.ValueSpec).Names {
						rw.consts[id.Name] = true
					}
				}
			}
		case *ast.ValueSpec:
			typed := false
			if id, ok := n.Type.(*ast.Ident); ok && (intTypes[id.Name] || rw.intTypes[id.Name]) {
				typed = true
			}
			for i, id := range n.Names {
				if typed || (n.Type == nil && i < len(n.Values) && rw.isInt(n.Values[i])) {
					rw.ints[id.Name] = true
				}
			}
		case *ast.Field:
			if id, ok := n.Type.(*ast.Ident); ok && (intTypes[id.Name] || rw.intTypes[id.Name]) {
				for _, name := range n.Names {
					rw.ints[name.Name] = true
				}
			}
		}
		return true
	})
}

// closureValue turns a function literal passed straight to a call into
//
//	func() FT { return LIT }()
//
// with FT the literal's own type. yaegi converts a literal passed straight to native code (a
// callback given to L.CallSoon) into a wrapper bound to the live frame of the code creating it,
// so in a loop every callback saw the last iteration's variables; a closure value made by a call
// keeps its own.
func closureValue(lit *ast.FuncLit) ast.Expr {
	return &ast.CallExpr{Fun: &ast.FuncLit{
		Type: &ast.FuncType{Params: &ast.FieldList{}, Results: &ast.FieldList{List: []*ast.Field{{Type: lit.Type}}}},
		Body: &ast.BlockStmt{List: []ast.Stmt{&ast.ReturnStmt{Results: []ast.Expr{lit}}}},
	}}
}

func define(name string, value ast.Expr) ast.Stmt {
	return &ast.AssignStmt{Lhs: []ast.Expr{ast.NewIdent(name)}, Tok: token.DEFINE, Rhs: []ast.Expr{value}}
}

func assign(name string, value ast.Expr) ast.Stmt {
	return &ast.AssignStmt{Lhs: []ast.Expr{ast.NewIdent(name)}, Tok: token.ASSIGN, Rhs: []ast.Expr{value}}
}

func helperCall(fn string, args ...ast.Expr) *ast.CallExpr {
	return &ast.CallExpr{Fun: &ast.SelectorExpr{X: ast.NewIdent(helperPkg), Sel: ast.NewIdent(fn)}, Args: args}
}

// capture evaluates a call's function and arguments now and returns the statements that do so
// and a call of the captured values, for a go or defer statement: Go evaluates them at the
// statement, the call happens later. A builtin cannot be a value, so only its arguments are
// captured.
func (rw *rewriter) capture(call *ast.CallExpr, prefix string) (pre []ast.Stmt, later *ast.CallExpr) {
	var lhs, rhs, args []ast.Expr
	fun := call.Fun
	_, lit := call.Fun.(*ast.FuncLit)
	if id, ok := call.Fun.(*ast.Ident); !lit && (!ok || !builtins[id.Name] || rw.shadowed(id.Name)) {
		// A func literal is not captured: making it later makes the same closure, and a
		// literal called directly avoids yaegi's call through reflection, which races when
		// goroutines run the same closure.

		fn := rw.fresh(prefix + "f")
		lhs, rhs = append(lhs, ast.NewIdent(fn)), append(rhs, call.Fun)
		fun = ast.NewIdent(fn)
	}
	for i, a := range call.Args {
		if i == 0 && isTypeArg(call) {
			args = append(args, a) // make([]T, n), new(T): the first argument is a type
			continue
		}
		if rw.constant(a) {
			// An untyped constant keeps its value and takes the parameter's type at the call;
			// captured in a variable it would take its default type (nil has none).
			args = append(args, a)
			continue
		}
		v := rw.fresh(prefix + "a")
		lhs, rhs, args = append(lhs, ast.NewIdent(v)), append(rhs, a), append(args, ast.NewIdent(v))
	}
	if len(lhs) > 0 {
		pre = append(pre, &ast.AssignStmt{Lhs: lhs, Tok: token.DEFINE, Rhs: rhs})
	}
	return pre, &ast.CallExpr{Fun: fun, Args: args, Ellipsis: call.Ellipsis}
}

// isTypeArg reports whether a builtin call's first argument is a type (make, new).
func isTypeArg(call *ast.CallExpr) bool {
	id, ok := call.Fun.(*ast.Ident)
	return ok && (id.Name == "make" || id.Name == "new")
}

// cellDefer turns a defer in a cell's top-level code into a registration with the session,
// which runs the deferred calls, last first, when the cell's code ends (also after a panic):
//
//	defer f(a)
//
// becomes
//
//	{ __df1, __da2 := f, a; __lb.Defer(func() { __df1(__da2) }) }
//
// yaegi runs the cell's statements in its global frame, whose deferred calls are never cleared:
// they would run again at the end of every later cell.
func (rw *rewriter) cellDefer(s *ast.DeferStmt) ast.Stmt {
	pre, later := rw.capture(s.Call, "d")
	fn := &ast.FuncLit{
		Type: &ast.FuncType{Func: s.Pos(), Params: &ast.FieldList{}},
		Body: &ast.BlockStmt{List: []ast.Stmt{&ast.ExprStmt{X: later}}},
	}
	reg := &ast.ExprStmt{X: helperCall("Defer", closureValue(fn))}
	return &ast.BlockStmt{Lbrace: s.Pos(), List: append(pre, reg)}
}

// wrapCompound runs each compound statement of a cell's top-level code (a loop, an if, a switch,
// a block) inside a func literal called at once:
//
//	for i := 0; i < 3; i++ { … }
//
// becomes
//
//	func() { for i := 0; i < 3; i++ { … } }()
//
// yaegi runs top-level statements in its global frame, where every variable, even one declared
// inside a loop body, is a single global: closures made in the loop all saw the last iteration,
// `i := i` misbehaved, and some closures crashed the interpreter ("index out of range [-1]").
// Inside a function the variables are the function's own. Names declared at the top level
// itself (x := 1) stay globals of the notebook, as they must.
func wrapCompound(list []ast.Stmt) []ast.Stmt {
	for i, st := range list {
		switch st.(type) {
		case *ast.ForStmt, *ast.RangeStmt, *ast.IfStmt, *ast.SwitchStmt, *ast.TypeSwitchStmt,
			*ast.SelectStmt, *ast.BlockStmt, *ast.LabeledStmt:
			lit := &ast.FuncLit{
				Type: &ast.FuncType{Func: st.Pos(), Params: &ast.FieldList{}},
				Body: &ast.BlockStmt{Lbrace: st.Pos(), List: []ast.Stmt{st}},
			}
			list[i] = &ast.ExprStmt{X: &ast.CallExpr{Fun: lit, Lparen: st.Pos(), Rparen: st.Pos()}}
		}
	}
	return list
}

// fileLine returns the interpreter line and column of a position.
func (rw *rewriter) fileLine(pos token.Pos) (int, int) {
	if rw.fset == nil || !pos.IsValid() {
		return 0, 0
	}
	p := rw.fset.Position(pos)
	return p.Line, p.Column
}

// constant reports whether an expression is a constant (or nil): literals, named constants and
// operations on them.
func (rw *rewriter) constant(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.BasicLit:
		return true
	case *ast.Ident:
		return rw.consts[e.Name] || ((e.Name == "nil" || e.Name == "true" || e.Name == "false") && !rw.shadowed(e.Name))
	case *ast.ParenExpr:
		return rw.constant(e.X)
	case *ast.UnaryExpr:
		return e.Op != token.AND && e.Op != token.ARROW && rw.constant(e.X)
	case *ast.BinaryExpr:
		return rw.constant(e.X) && rw.constant(e.Y)
	}
	return false
}

// fillPositions gives the nodes the rewrites made (which have no position) the position of the
// user's code they stand for: the last position before them in the tree. yaegi reports the
// position of whatever node is running when a panic unwinds a frame; a node without one made
// that frame's position empty.
func fillPositions(root ast.Node) {
	last := token.NoPos
	fix := func(p *token.Pos) {
		if p.IsValid() {
			last = *p
		} else {
			*p = last
		}
	}
	ast.Inspect(root, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.Ident:
			fix(&n.NamePos)
		case *ast.BasicLit:
			fix(&n.ValuePos)
		case *ast.BlockStmt:
			fix(&n.Lbrace)
		case *ast.AssignStmt:
			if n.TokPos.IsValid() {
				last = n.TokPos
			} else if len(n.Lhs) > 0 && n.Lhs[0].Pos().IsValid() {
				n.TokPos = n.Lhs[0].Pos()
			} else {
				n.TokPos = last
			}
		case *ast.CallExpr:
			fix(&n.Lparen)
			if !n.Rparen.IsValid() {
				n.Rparen = n.Lparen
			}
		case *ast.FuncType:
			fix(&n.Func)
		case *ast.ForStmt:
			fix(&n.For)
		case *ast.IncDecStmt:
			fix(&n.TokPos)
		case *ast.BinaryExpr:
			fix(&n.OpPos)
		case *ast.ReturnStmt:
			fix(&n.Return)
		case *ast.GoStmt:
			fix(&n.Go)
		case *ast.DeferStmt:
			fix(&n.Defer)
		case *ast.SelectorExpr:
			// its parts carry the positions
		}
		return true
	})
}

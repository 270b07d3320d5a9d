package interp

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"sort"
	"strconv"
	"strings"
)

// yaegi binds a call to the function (and a use to the variable or constant) that existed when
// the caller was compiled: redefining f in one cell left every func of other cells calling the
// old f, and a redefined variable is a new variable. So when a cell declares a name, the funcs of
// other cells that use it are compiled again, and those that use them, and so on. A method that
// uses it cannot be compiled again (yaegi keeps the first method of a name), so that takes a
// rebuild, as a changed type does.

// A dependant is a func of another cell to compile again after the running cell.
type dependant struct {
	id    string
	count int
	decl  piece
	name  string
}

// declInfo is what one declaration piece declares and uses.
type declInfo struct {
	names  []string        // what it declares: funcs, types, vars, consts; "T.M" for a method
	uses   map[string]bool // the identifiers it uses
	fn     string          // the func it declares, if it is a plain func (not a method)
	method string          // "T.M", if it is a method
	imp    bool
}

// analyse parses a declaration piece on its own.
func analyse(p piece) declInfo {
	info := declInfo{uses: map[string]bool{}}
	f, err := parser.ParseFile(token.NewFileSet(), "", "package p\n"+p.src, parser.SkipObjectResolution)
	if err != nil {
		return info
	}
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Recv != nil {
				info.method = recvName(d) + "." + d.Name.Name
				info.names = append(info.names, info.method)
			} else {
				info.fn = d.Name.Name
				info.names = append(info.names, d.Name.Name)
			}
		case *ast.GenDecl:
			if d.Tok == token.IMPORT {
				info.imp = true
			}
			for _, spec := range d.Specs {
				switch sp := spec.(type) {
				case *ast.TypeSpec:
					info.names = append(info.names, sp.Name.Name)
				case *ast.ValueSpec:
					for _, n := range sp.Names {
						info.names = append(info.names, n.Name)
					}
				}
			}
		}
		for _, id := range usedNames(d) {
			info.uses[id.Name] = true
		}
	}
	return info
}

// runsByCount lists the history's runs except cell except, oldest first.
func (s *Session) runsByCount(except string) []historyRun {
	var runs []historyRun
	for id, e := range s.history {
		if id != except {
			runs = append(runs, historyRun{id: id, entry: e})
		}
	}
	sort.Slice(runs, func(i, j int) bool { return runs[i].count < runs[j].count })
	return runs
}

type historyRun struct {
	id string
	entry
}

// owners maps every name the history declares to the run that declared it last; the running
// cell (count) owns what it declares.
func (s *Session) owners(c Cell, declared []string) map[string]int {
	own := map[string]int{}
	for _, r := range s.runsByCount(c.ID) {
		for _, d := range r.decls {
			for _, n := range analyse(d).names {
				own[n] = r.count
			}
		}
	}
	for _, n := range declared {
		own[n] = c.Count
	}
	return own
}

// findDependants lists, in the order they must be compiled again, the funcs of other cells that
// use (directly or through one another) what the cell declares. A method among them asks for a
// rebuild.
func (s *Session) findDependants(c Cell, p *prepared) {
	if len(s.history) == 0 {
		return
	}
	changed := map[string]bool{}
	for _, n := range p.declared {
		changed[n] = true
	}
	if len(changed) == 0 {
		return
	}
	own := s.owners(c, p.declared)
	done := map[string]bool{}
	runs := s.runsByCount(c.ID)
	for progress := true; progress; {
		progress = false
		var layer []dependant
		for _, r := range runs {
			for _, d := range r.decls {
				info := analyse(d)
				name := info.fn
				if info.method != "" {
					name = info.method
				}
				if name == "" || name == "main" || done[name] || own[name] != r.count || !usesAny(info.uses, changed) {
					continue
				}
				done[name] = true
				if info.method != "" {
					if !p.rebuild {
						p.rebuild = true
						p.rebuildWhy = fmt.Sprintf("method %s of In[%d] uses %s, which changed", info.method, r.count, firstUsed(info.uses, changed))
					}
					continue
				}
				layer = append(layer, dependant{id: r.id, count: r.count, decl: d, name: name})
			}
		}
		for _, d := range layer {
			changed[d.name] = true
			progress = true
		}
		p.dependants = append(p.dependants, layer...)
	}
}

func usesAny(uses, names map[string]bool) bool {
	for n := range uses {
		if names[n] {
			return true
		}
	}
	return false
}

func firstUsed(uses, names map[string]bool) string {
	var found []string
	for n := range uses {
		if names[n] {
			found = append(found, n)
		}
	}
	sort.Strings(found)
	if len(found) == 0 {
		return "?"
	}
	return found[0]
}

// recompileDependants compiles again the funcs of other cells that use what the cell just
// declared; a func that no longer compiles is reported in a notice (it keeps its old body).
func (s *Session) recompileDependants(p *prepared) []string {
	var notices []string
	for i := 0; i < len(p.dependants); {
		// One compile per run: consecutive dependants of the same run go together.
		j := i
		var decls []piece
		for ; j < len(p.dependants) && p.dependants[j].id == p.dependants[i].id; j++ {
			decls = append(decls, p.dependants[j].decl)
		}
		d := p.dependants[i]
		c := Cell{ID: d.id, Count: d.count}
		pd, e := s.prepareDecls(c, decls)
		if e == nil {
			e = s.runDecls(&pd.prepared, c)
		}
		if e != nil {
			var names []string
			for _, x := range p.dependants[i:j] {
				names = append(names, x.name)
			}
			notices = append(notices, fmt.Sprintf("In[%d]'s %s no longer compiles against the new definitions: %s", d.count, strings.Join(names, ", "), e.Error()))
		} else {
			s.facts.learn(pd.declRW)
		}
		i = j
	}
	return notices
}

// A unit is the declarations of one run, replayed together.
type unit struct {
	id      string
	count   int
	decls   []piece
	current bool // the cell being run
	info    []declInfo
}

// rebuild replaces the interpreter, because yaegi silently ignores a changed type or method,
// and compiles again the declarations of every cell: the other cells' last runs and the running
// cell's declarations. It returns the notice to show and, if the running cell's own
// declarations fail, its error. Statements are not run again: variables they set are reset.
func (s *Session) rebuild(c Cell, p *prepared) (string, *Error) {
	superseded := map[string]bool{}
	for _, n := range p.declared {
		superseded[n] = true
	}
	for n := range p.shapes {
		superseded[n] = true
	}
	own := s.owners(c, append(append([]string{}, p.declared...), keys(p.shapes)...))
	runs := s.runsByCount(c.ID)
	history := s.history
	if err := s.reset(nil); err != nil {
		return "", &Error{Kind: InternalError, Msg: err.Error()}
	}
	s.history = map[string]entry{}

	// The running cell's imports first: an import that changed (rand from math/rand to
	// math/rand/v2) wins over the older cells' (theirs are then dropped as duplicates).
	var imports, current []piece
	for _, d := range p.decls {
		if analyse(d).imp {
			imports = append(imports, d)
		} else {
			current = append(current, d)
		}
	}
	if len(imports) > 0 {
		pd, e := s.prepareDecls(c, imports)
		if e == nil {
			e = s.runDecls(&pd.prepared, c)
		}
		if e != nil {
			return "", e
		}
	}

	var units []*unit
	for _, r := range runs {
		u := &unit{id: r.id, count: r.count}
		for _, d := range r.decls {
			info := analyse(d)
			latest := len(info.names) == 0
			for _, n := range info.names {
				if own[n] == r.count {
					latest = true
				}
			}
			if latest { // a piece whose every name a later run declares again is left out
				u.decls = append(u.decls, d)
				u.info = append(u.info, info)
			}
		}
		if len(u.decls) > 0 {
			units = append(units, u)
		}
	}
	cur := &unit{id: c.ID, count: c.Count, decls: current, current: true}
	for _, d := range current {
		cur.info = append(cur.info, analyse(d))
	}
	units = append(units, cur)
	units = orderUnits(units)

	// Compile them, those whose names are used by others first; a unit that fails to compile
	// is tried again after the others (it may use a name a later unit declares).
	failed := map[*unit]*Error{}
	pending := units
	for progress := true; progress && len(pending) > 0; {
		progress = false
		var next []*unit
		for _, u := range pending {
			e := s.replayUnit(u, superseded)
			switch {
			case e == nil:
				progress = true
				delete(failed, u)
				if !u.current {
					s.history[u.id] = history[u.id]
				}
			case e.Kind == Panic:
				failed[u] = e // its initialisers ran and panicked: not again
			default:
				failed[u] = e
				next = append(next, u)
			}
		}
		pending = next
	}

	var replayed, left []string
	var curErr *Error
	for _, u := range units {
		switch e := failed[u]; {
		case u.current:
			curErr = e
		case e != nil:
			left = append(left, fmt.Sprintf("In[%d] (%s)", u.count, e.Error()))
		default:
			replayed = append(replayed, "In["+strconv.Itoa(u.count)+"]")
		}
	}
	sort.Slice(replayed, func(i, j int) bool { return countOf(replayed[i]) < countOf(replayed[j]) })
	msg := p.rebuildWhy + ": the interpreter was rebuilt (it cannot change a type or method in place)"
	if len(replayed) > 0 {
		msg += " and the declarations of " + strings.Join(replayed, ", ") + " were replayed"
	}
	msg += "; variables set by statements were reset."
	if len(left) > 0 {
		msg += " Left out, they no longer compile: " + strings.Join(left, "; ") + "."
	}
	return msg, curErr
}

func countOf(s string) int {
	n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(s, "In["), "]"))
	return n
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// replayUnit compiles and runs one unit's declarations in the fresh interpreter. Older cells'
// declarations of names the running cell declares again are dropped.
func (s *Session) replayUnit(u *unit, superseded map[string]bool) *Error {
	c := Cell{ID: u.id, Count: u.count}
	pd, e := s.prepareDecls(c, u.decls)
	if e != nil {
		return e
	}
	if !u.current {
		dropSuperseded(pd.file, superseded)
	}
	if e := s.runDecls(&pd.prepared, c); e != nil {
		return e
	}
	for name, sh := range pd.shapes {
		s.shapes[name] = sh
	}
	s.facts.learn(pd.declRW)
	for _, n := range pd.declared {
		s.names[n] = true
	}
	return nil
}

// orderUnits sorts units so that a unit comes after the units declaring names it uses, oldest
// first among equals; units that use one another keep their run order.
func orderUnits(units []*unit) []*unit {
	declares := map[string]*unit{}
	for _, u := range units {
		for _, info := range u.info {
			for _, n := range info.names {
				declares[n] = u
			}
		}
	}
	deps := map[*unit]map[*unit]bool{}
	for _, u := range units {
		deps[u] = map[*unit]bool{}
		for _, info := range u.info {
			for n := range info.uses {
				if d := declares[n]; d != nil && d != u {
					deps[u][d] = true
				}
			}
		}
	}
	var out []*unit
	placed := map[*unit]bool{}
	for len(out) < len(units) {
		var next *unit
		for _, u := range units { // the oldest unit whose dependencies are all placed
			if placed[u] {
				continue
			}
			ready := true
			for d := range deps[u] {
				if !placed[d] {
					ready = false
					break
				}
			}
			if ready {
				next = u
				break
			}
		}
		if next == nil { // a cycle: take the oldest left
			for _, u := range units {
				if !placed[u] {
					next = u
					break
				}
			}
		}
		placed[next] = true
		out = append(out, next)
	}
	return out
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

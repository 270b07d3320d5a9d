package interp

import (
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"strings"
)

// A piece is one top-level statement or declaration of a cell, as source text with its line and
// column in the cell (1-based).
type piece struct {
	src       string
	line, col int
	decl      bool // import, type, const, var or func declaration; otherwise a statement
	imports   bool // an import declaration
}

// split cuts a cell into its top-level pieces, the way a Go file and a function body would read
// them: a semicolon (written or automatic) at bracket depth 0 ends a piece. yaegi rejects sources
// that mix declarations and statements; the session compiles the two kinds separately. A leading
// `package` clause (a program pasted from the Go Playground) is dropped.
func split(src string) ([]piece, error) {
	fset := token.NewFileSet()
	file := fset.AddFile("cell", -1, len(src))
	var errs scanner.ErrorList
	var s scanner.Scanner
	s.Init(file, []byte(src), func(pos token.Position, msg string) { errs.Add(pos, msg) }, 0)

	var pieces []piece
	depth := 0
	start := -1 // offset of the current piece's first token
	var first, second token.Token
	end := func(at int) {
		if start < 0 {
			return
		}
		text := strings.TrimRight(src[start:at], " \t\r\n;")
		pos := file.Position(file.Pos(start))
		p := piece{src: text, line: pos.Line, col: pos.Column}
		switch first {
		case token.IMPORT:
			p.decl, p.imports = true, true
		case token.TYPE, token.CONST, token.VAR:
			p.decl = true
		case token.FUNC:
			p.decl = second == token.IDENT || (second == token.LPAREN && isMethod(text))
		}
		if first != token.PACKAGE {
			pieces = append(pieces, p)
		}
		start, first, second = -1, token.ILLEGAL, token.ILLEGAL
	}
	for {
		pos, tok, lit := s.Scan()
		off := file.Offset(pos)
		if tok == token.EOF {
			end(len(src))
			break
		}
		if tok == token.COMMENT {
			continue
		}
		if tok == token.SEMICOLON && depth == 0 {
			if lit == "\n" || lit == "" { // automatic: the piece ends at the line end
				end(off)
			} else {
				end(off + 1)
			}
			continue
		}
		if start < 0 {
			start, first = off, tok
		} else if second == token.ILLEGAL {
			second = tok
		}
		switch tok {
		case token.LPAREN, token.LBRACK, token.LBRACE:
			depth++
		case token.RPAREN, token.RBRACK, token.RBRACE:
			if depth > 0 {
				depth--
			}
		}
	}
	if len(errs) > 0 {
		errs.Sort()
		return nil, errs
	}
	return pieces, nil
}

// isMethod tells a method declaration `func (r T) M()` from a statement that starts with a
// function literal `func(x int) { … }(3)`.
func isMethod(src string) bool {
	f, err := parser.ParseFile(token.NewFileSet(), "", "package p;"+src, parser.SkipObjectResolution)
	if err != nil || len(f.Decls) != 1 {
		return false
	}
	fn, ok := f.Decls[0].(*ast.FuncDecl)
	return ok && fn.Recv != nil
}

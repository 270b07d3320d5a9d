package interp

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// lineBlock spaces the cells out in the interpreter's one file: the code of execution n starts
// at line n*lineBlock, so every position yaegi reports (in errors and in the stack of a panic,
// whichever cell the frame belongs to) names its cell.
const lineBlock = 100000

// Pos is a place in a cell: In[Count]:Line:Col.
type Pos struct {
	Count int // execution count of the cell run the code came from (the n of In[n])
	Line  int // 1-based line in the cell
	Col   int // 1-based column, 0 if unknown
}

func (p Pos) String() string {
	if p.Count == 0 && p.Line == 0 {
		return ""
	}
	s := "In[" + strconv.Itoa(p.Count) + "]:" + strconv.Itoa(p.Line)
	if p.Col > 0 {
		s += ":" + strconv.Itoa(p.Col)
	}
	return s
}

// posOf turns an interpreter line and column into a cell position; ok is false for lines that
// belong to no cell (the prelude, or code the kernel generated).
func posOf(line, col int) (Pos, bool) {
	if line < lineBlock {
		return Pos{}, false
	}
	return Pos{Count: line / lineBlock, Line: line % lineBlock, Col: col}, true
}

// ErrorKind says what went wrong with a cell.
type ErrorKind string

// The kinds of cell errors.
const (
	SyntaxError      ErrorKind = "SyntaxError"      // the cell does not parse
	CompileError     ErrorKind = "CompileError"     // it parses but does not compile (types, names)
	Panic            ErrorKind = "Panic"            // it panicked while running
	Interrupted      ErrorKind = "Interrupted"      // the user interrupted it
	InternalError    ErrorKind = "InternalError"    // the interpreter itself failed
	CancelledError   ErrorKind = "CancelledError"   // its task was cancelled while it awaited
	UnsupportedError ErrorKind = "UnsupportedError" // Go the interpreter cannot run
)

// Frame is one interpreted call of a panic's stack.
type Frame struct {
	Func string
	Pos  Pos
}

// Error is what a failed cell reports: a kind, a message, where, and for panics the interpreted
// stack (innermost call first).
type Error struct {
	Kind   ErrorKind
	Msg    string
	Pos    Pos
	Frames []Frame
}

func (e *Error) Error() string {
	if p := e.Pos.String(); p != "" {
		return p + ": " + e.Msg
	}
	return e.Msg
}

// Traceback is the error as lines for a notebook's error output: the message, then the stack.
func (e *Error) Traceback() []string {
	lines := []string{fmt.Sprintf("%s: %s", e.Kind, e.Error())}
	for _, f := range e.Frames {
		lines = append(lines, fmt.Sprintf("    %s at %s", f.Func, f.Pos))
	}
	return lines
}

// posRE finds the interpreter positions in yaegi's messages: "300002:5: undefined: x", also
// with a "_.go:" prefix, and inside longer texts.
var posRE = regexp.MustCompile(`(?:_\.go:)?(\d+):(\d+)`)

// mapPositions rewrites every interpreter position inside msg as In[n]:line:col and returns the
// first one it found.
func mapPositions(msg string) (string, Pos) {
	var first Pos
	out := posRE.ReplaceAllStringFunc(msg, func(m string) string {
		sm := posRE.FindStringSubmatch(m)
		line, _ := strconv.Atoi(sm[1])
		col, _ := strconv.Atoi(sm[2])
		p, ok := posOf(line, col)
		if !ok {
			return m
		}
		if first == (Pos{}) {
			first = p
		}
		return p.String()
	})
	return out, first
}

// compileError makes an Error from a yaegi or go/parser error, with positions mapped to cells
// and the leading position moved into Pos.
func compileError(kind ErrorKind, err error) *Error {
	msg, pos := mapPositions(err.Error())
	if m := importRE.FindStringSubmatch(msg); m != nil {
		msg = m[1] + "cannot import " + strconv.Quote(m[2]) + ": the package is not available in notebook cells"
	}
	msg = strings.TrimPrefix(msg, pos.String()+": ")
	return &Error{Kind: kind, Msg: msg, Pos: pos}
}

// importRE matches yaegi's error for an import that is in no symbol table (it then looks for
// source in a GOPATH, which the kernel has none of).
var importRE = regexp.MustCompile(`^(.*?)import "([^"]+)" error: unable to find source related to: .*$`)

// panicLineRE matches the lines yaegi writes to stderr for each interpreted frame a panic unwinds:
// "300002:6: panic: main.inner(...)".
var panicLineRE = regexp.MustCompile(`^(?:(\d+):(\d+)|-): panic: (.*?)(\(\.\.\.\))?$`)

// parsePanicLine turns one of those lines into a Frame.
func parsePanicLine(line string) (Frame, bool) {
	sm := panicLineRE.FindStringSubmatch(strings.TrimSpace(line))
	if sm == nil {
		return Frame{}, false
	}
	l, _ := strconv.Atoi(sm[1])
	c, _ := strconv.Atoi(sm[2])
	p, _ := posOf(l, c)
	fn := strings.TrimPrefix(sm[3], "main.")
	switch {
	case fn == "main" || strings.HasPrefix(fn, "main.func") || fn == "func":
		fn = "cell" // the cell's own code, or a compound statement of it (run as a func literal)
	case strings.HasPrefix(fn, "func"):
		fn = "func literal"
	default:
		if i := strings.Index(fn, ".func"); i > 0 {
			fn = fn[:i] + " (func literal)"
		}
	}
	return Frame{Func: fn, Pos: p}, true
}

package interp

import (
	"bytes"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/loopbook/loopbook/interp/display"
)

// formatValue makes the Out[n] of a trailing expression: a display.Bundle shows as itself, a
// string is quoted (so "" and " " are visible, as Python's repr does), and several results (a
// call returning (v, err)) show as a tuple.
func formatValue(vals []any) display.Bundle {
	if len(vals) == 1 {
		switch v := vals[0].(type) {
		case nil:
			return nil // like Python's None: `co.Sleep(d)` or a nil err shows no Out
		case display.Bundle:
			return v
		case *display.Handle:
			return nil
		}
	}
	parts := make([]string, len(vals))
	for i, v := range vals {
		parts[i] = formatOne(v)
	}
	text := strings.Join(parts, ", ")
	if len(vals) != 1 {
		text = "(" + text + ")"
	}
	return display.Text(text)
}

func formatOne(v any) string {
	switch v := v.(type) {
	case nil:
		return "<nil>"
	case string:
		return strconv.Quote(v)
	case error:
		return "error(" + strconv.Quote(v.Error()) + ")"
	case fmt.Stringer:
		return v.String()
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Func {
		return "func"
	}
	return fmt.Sprintf("%+v", v)
}

// panicFilter sits between yaegi and the cell's stderr. yaegi prints one "L:C: panic: f(...)"
// line per interpreted frame a panic unwinds, even when the panic is recovered later; those
// lines become the frames of the cell's error instead of noise in its output.
type panicFilter struct {
	w io.Writer

	mu     sync.Mutex
	frames []Frame
}

func (f *panicFilter) Write(p []byte) (int, error) {
	if !bytes.Contains(p, []byte(": panic: ")) {
		return f.w.Write(p)
	}
	var rest bytes.Buffer
	for _, line := range bytes.SplitAfter(p, []byte("\n")) {
		if fr, ok := parsePanicLine(string(line)); ok {
			f.mu.Lock()
			f.frames = append(f.frames, fr)
			f.mu.Unlock()
			continue
		}
		rest.Write(line)
	}
	if rest.Len() > 0 {
		if _, err := f.w.Write(rest.Bytes()); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

func (f *panicFilter) take() []Frame {
	f.mu.Lock()
	defer f.mu.Unlock()
	fr := f.frames
	f.frames = nil
	return fr
}

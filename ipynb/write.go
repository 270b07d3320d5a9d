package ipynb

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Marshal validates nb and encodes it in Jupyter's canonical on-disk style:
// one-space indentation, keys sorted, multiline text as a list of lines that
// keep their line endings, no \u escapes for non-ASCII or <, >, &, and a
// final newline. Validation errors are *Error values.
func (nb *Notebook) Marshal() ([]byte, error) {
	if err := nb.Validate(); err != nil {
		return nil, err
	}
	e := &encoder{indent: true}
	if err := e.value(nb.tree(), 0); err != nil {
		return nil, err
	}
	e.buf.WriteByte('\n')
	return e.buf.Bytes(), nil
}

// Write writes nb to w; see Marshal.
func Write(w io.Writer, nb *Notebook) error {
	b, err := nb.Marshal()
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// testHookBeforeRename, when set by tests, runs after the temporary file is
// written and synced and before it replaces the target.
var testHookBeforeRename func(tmp string) error

// WriteFile writes nb to path atomically: it writes a temporary file in the
// same directory, syncs it, renames it over path and syncs the directory.
// If anything fails, the previous file at path is left as it was and the
// temporary file is removed. An existing file keeps its permission bits; a
// new one gets 0644 (before umask). If path is a symbolic link, the file it
// points to is replaced.
func WriteFile(path string, nb *Notebook) (err error) {
	data, err := nb.Marshal()
	if err != nil {
		return err
	}
	perm, existing := fs.FileMode(0o644), false
	if target, err := filepath.EvalSymlinks(path); err == nil {
		path = target
		if fi, err := os.Stat(path); err == nil {
			if !fi.Mode().IsRegular() {
				return &fs.PathError{Op: "write", Path: path, Err: errors.New("not a regular file")}
			}
			perm, existing = fi.Mode().Perm(), true
		}
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	// Create the temporary file with the final permissions (the kernel
	// applies the umask), then restore an existing file's exact mode.
	var f *os.File
	for {
		f, err = os.OpenFile(filepath.Join(dir, "."+base+".tmp-"+NewCellID()), os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
		if !errors.Is(err, fs.ErrExist) {
			break
		}
	}
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if existing {
		if err = f.Chmod(perm); err != nil {
			return err
		}
	}
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if testHookBeforeRename != nil {
		if err = testHookBeforeRename(tmp); err != nil {
			return err
		}
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(dir)
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil // directories cannot be opened for syncing there
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// tree converts nb into generic JSON values for the encoder.
func (nb *Notebook) tree() map[string]any {
	cells := make([]any, len(nb.Cells))
	for i, c := range nb.Cells {
		cells[i] = c.tree()
	}
	return map[string]any{
		"cells":          cells,
		"metadata":       orEmpty(nb.Metadata),
		"nbformat":       nb.Nbformat,
		"nbformat_minor": nb.NbformatMinor,
	}
}

func (c *Cell) tree() map[string]any {
	m := map[string]any{
		"cell_type": string(c.Type),
		"id":        c.ID,
		"metadata":  orEmpty(c.Metadata),
		"source":    splitLines(c.Source),
	}
	if c.Type == CellCode {
		m["execution_count"] = countTree(c.ExecutionCount)
		outs := make([]any, len(c.Outputs))
		for i := range c.Outputs {
			outs[i] = c.Outputs[i].tree()
		}
		m["outputs"] = outs
	} else if c.Attachments != nil {
		m["attachments"] = attachmentsTree(c.Attachments)
	}
	return m
}

func (o *Output) tree() map[string]any {
	m := map[string]any{"output_type": string(o.Type)}
	switch o.Type {
	case OutputStream:
		m["name"] = o.Name
		m["text"] = splitLines(o.Text)
	case OutputDisplayData, OutputExecuteResult:
		m["data"] = bundleTree(o.Data, true)
		m["metadata"] = orEmpty(o.Metadata)
		if o.Type == OutputExecuteResult {
			m["execution_count"] = countTree(o.ExecutionCount)
		}
	case OutputError:
		m["ename"] = o.Ename
		m["evalue"] = o.Evalue
		tb := o.Traceback
		if tb == nil {
			tb = []string{}
		}
		m["traceback"] = tb
	}
	return m
}

func countTree(n *int) any {
	if n == nil {
		return nil
	}
	return *n
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// splitMIME reports whether Jupyter writes values of the MIME type as a list
// of lines: text types, JavaScript and SVG. Others (base64 images, ...) are
// written as one string.
func splitMIME(mime string) bool {
	return strings.HasPrefix(mime, "text/") || mime == "application/javascript" || mime == "image/svg+xml"
}

// bundleTree turns JSON values into JSON trees (Validate has checked that
// they parse) and, if split is set, text values into lists of lines.
func bundleTree(data map[string]string, split bool) map[string]any {
	m := make(map[string]any, len(data))
	for k, v := range data {
		switch {
		case IsJSONMIME(k):
			m[k] = json.RawMessage(v)
		case split && splitMIME(k):
			m[k] = splitLines(v)
		default:
			m[k] = v
		}
	}
	return m
}

// attachmentsTree parses attachments (checked by Validate) and splits their
// text values into lines, as Jupyter does.
func attachmentsTree(raw json.RawMessage) any {
	t, err := parseTree(raw)
	if err != nil {
		return raw // unreachable after Validate; the encoder reports it
	}
	if att, ok := t.(map[string]any); ok {
		for _, b := range att {
			bundle, ok := b.(map[string]any)
			if !ok {
				continue
			}
			for k, v := range bundle {
				if s, ok := v.(string); ok && splitMIME(k) {
					bundle[k] = splitLines(s)
				}
			}
		}
	}
	return t
}

// splitLines splits s after each line break, keeping the breaks, exactly
// like Python's str.splitlines(keepends=True), which Jupyter uses. The
// empty string gives an empty (non-nil) list.
func splitLines(s string) []string {
	lines := []string{}
	start := 0
	for i := 0; i < len(s); {
		n := 0
		switch c := s[i]; {
		case c == '\n' || c == '\v' || c == '\f' || c == 0x1c || c == 0x1d || c == 0x1e:
			n = 1
		case c == '\r':
			n = 1
			if i+1 < len(s) && s[i+1] == '\n' {
				n = 2
			}
		case c == 0xc2 && i+1 < len(s) && s[i+1] == 0x85: // U+0085 NEXT LINE
			n = 2
		case c == 0xe2 && i+2 < len(s) && s[i+1] == 0x80 && (s[i+2] == 0xa8 || s[i+2] == 0xa9): // U+2028, U+2029
			n = 3
		}
		if n == 0 {
			i++
			continue
		}
		i += n
		lines = append(lines, s[start:i])
		start = i
	}
	if start < len(s) {
		lines = append(lines, s[start:])
	}
	return lines
}

// encodeCompact encodes a generic JSON value without whitespace, keys sorted.
func encodeCompact(v any) ([]byte, error) {
	e := &encoder{}
	if err := e.value(v, 0); err != nil {
		return nil, err
	}
	return e.buf.Bytes(), nil
}

// encoder writes JSON the way Python's json.dumps(sort_keys=True, indent=1,
// ensure_ascii=False) does (or compactly when indent is false).
type encoder struct {
	buf    bytes.Buffer
	indent bool
}

const maxDepth = 10000

func (e *encoder) newline(depth int) {
	if e.indent {
		e.buf.WriteByte('\n')
		for range depth {
			e.buf.WriteByte(' ')
		}
	}
}

func (e *encoder) value(v any, depth int) error {
	if depth > maxDepth {
		return errors.New("JSON value nested too deeply (cyclic metadata?)")
	}
	switch v := v.(type) {
	case nil:
		e.buf.WriteString("null")
	case bool:
		e.buf.WriteString(strconv.FormatBool(v))
	case string:
		e.str(v)
	case int:
		e.buf.WriteString(strconv.Itoa(v))
	case json.Number:
		if !isNumber(string(v)) {
			return fmt.Errorf("invalid number %q", string(v))
		}
		e.buf.WriteString(string(v))
	case []string:
		if len(v) == 0 {
			e.buf.WriteString("[]")
			return nil
		}
		e.buf.WriteByte('[')
		for i, s := range v {
			if i > 0 {
				e.buf.WriteByte(',')
			}
			e.newline(depth + 1)
			e.str(s)
		}
		e.newline(depth)
		e.buf.WriteByte(']')
	case []any:
		if len(v) == 0 {
			e.buf.WriteString("[]")
			return nil
		}
		e.buf.WriteByte('[')
		for i, x := range v {
			if i > 0 {
				e.buf.WriteByte(',')
			}
			e.newline(depth + 1)
			if err := e.value(x, depth+1); err != nil {
				return err
			}
		}
		e.newline(depth)
		e.buf.WriteByte(']')
	case map[string]any:
		if len(v) == 0 {
			e.buf.WriteString("{}")
			return nil
		}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys) // byte order of UTF-8 is code point order, as in Python
		e.buf.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				e.buf.WriteByte(',')
			}
			e.newline(depth + 1)
			e.str(k)
			e.buf.WriteByte(':')
			if e.indent {
				e.buf.WriteByte(' ')
			}
			if err := e.value(v[k], depth+1); err != nil {
				return err
			}
		}
		e.newline(depth)
		e.buf.WriteByte('}')
	case json.RawMessage:
		t, err := parseTree(v)
		if err != nil {
			return fmt.Errorf("invalid JSON: %v", err)
		}
		return e.value(t, depth)
	default:
		// Any other Go value: use its JSON encoding, then write that in
		// canonical style.
		t, err := toTree(v)
		if err != nil {
			return err
		}
		return e.value(t, depth)
	}
	return nil
}

// str writes a JSON string as Python's json module does with
// ensure_ascii=False: only ", \ and control characters are escaped.
// Invalid UTF-8 is replaced by U+FFFD.
func (e *encoder) str(s string) {
	const hex = "0123456789abcdef"
	b := &e.buf
	b.WriteByte('"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b.WriteString(s[start:i])
				b.WriteString("\uFFFD")
				i++
				start = i
				continue
			}
			i += size
			continue
		}
		if c >= 0x20 && c != '"' && c != '\\' {
			i++
			continue
		}
		b.WriteString(s[start:i])
		switch c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			b.WriteString(`\u00`)
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xf])
		}
		i++
		start = i
	}
	b.WriteString(s[start:])
	b.WriteByte('"')
}

// isNumber reports whether s is a JSON number literal.
func isNumber(s string) bool {
	i := 0
	digits := func() bool {
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i > j
	}
	if i < len(s) && s[i] == '-' {
		i++
	}
	if i < len(s) && s[i] == '0' {
		i++
	} else if !digits() {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if !digits() {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if !digits() {
			return false
		}
	}
	return i == len(s)
}

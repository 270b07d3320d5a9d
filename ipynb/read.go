package ipynb

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Read parses a notebook in nbformat 4.0 to 4.5 and returns it upgraded to
// 4.5 (cells without an id get a new one). The result passes Validate.
//
// Read is strict about structure, with a few lenient defaults: a missing
// metadata object is taken as empty, and a code cell without outputs or
// execution_count is taken as not run. Keys that nbformat does not define
// are errors, except inside metadata, where anything goes.
//
// Errors are *Error values carrying a line and column and, for structural
// problems, the path of the offending value.
func Read(r io.Reader) (*Notebook, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, &Error{Msg: "reading notebook: " + err.Error()}
	}
	return parse(data)
}

// ReadFile reads the notebook file at path; see Read. Errors about the
// content are *Error values with File set to path; errors opening or reading
// the file are returned as they come from the os package.
func ReadFile(path string) (*Notebook, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	nb, err := parse(data)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			e.File = path
		}
		return nil, err
	}
	return nb, nil
}

// Unmarshal parses a notebook from data; see Read.
func Unmarshal(data []byte) (*Notebook, error) { return parse(data) }

func parse(data []byte) (*Notebook, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // UTF-8 byte order mark
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, &Error{Msg: "empty file, not a notebook"}
	}
	if !json.Valid(data) {
		var raw json.RawMessage
		return nil, syntaxError(data, json.Unmarshal(data, &raw))
	}
	p := &treeParser{data: data}
	root, err := p.value()
	if err != nil {
		return nil, err
	}
	d := &decoder{data: data, pos: map[string]int{}}
	nb, err := d.notebook(root)
	if err != nil {
		return nil, err
	}
	if err := nb.Validate(); err != nil {
		var e *Error
		if errors.As(err, &e) && e.Line == 0 {
			if off, ok := d.lookup(e.Path); ok {
				e.Line, e.Column = position(data, off)
			}
		}
		return nil, err
	}
	return nb, nil
}

func syntaxError(data []byte, err error) *Error {
	e := &Error{Msg: "invalid JSON: " + err.Error()}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		off := int(se.Offset)
		if off >= len(data) {
			off = len(data)
			e.Msg = "invalid JSON: unexpected end of file (the notebook is truncated)"
		} else if off > 0 {
			off-- // Offset counts the bytes read, including the bad one
		}
		e.Line, e.Column = position(data, off)
	}
	if bytes.HasPrefix(data, []byte("<<<<<<< ")) || bytes.Contains(data, []byte("\n<<<<<<< ")) {
		e.Msg += " (the file contains git merge conflict markers)"
	}
	return e
}

// position converts a byte offset into a 1-based line and column (counted
// in characters).
func position(data []byte, off int) (line, col int) {
	off = min(max(off, 0), len(data))
	line = 1 + bytes.Count(data[:off], []byte("\n"))
	start := bytes.LastIndexByte(data[:off], '\n') + 1
	return line, utf8.RuneCount(data[start:off]) + 1
}

// A node is a JSON value with its byte offset in the input.
type node struct {
	kind    kind
	off     int
	str     string // string value, or the text of a number
	b       bool
	elems   []*node
	members []member
}

type member struct {
	key string
	off int
	val *node
}

type kind uint8

const (
	kNull kind = iota
	kBool
	kNumber
	kString
	kArray
	kObject
)

func (k kind) String() string {
	return [...]string{"null", "a boolean", "a number", "a string", "a list", "an object"}[k]
}

// get returns the member named key, or nil.
func (n *node) get(key string) *member {
	for i := range n.members {
		if n.members[i].key == key {
			return &n.members[i]
		}
	}
	return nil
}

// treeParser builds a node tree from JSON that json.Valid has already
// accepted (so nesting depth is bounded); it still checks every step so that
// it cannot misbehave, and reports duplicate object keys.
type treeParser struct {
	data []byte
	i    int
	path []any // keys (string) and indexes (int) of the values being parsed
}

func (p *treeParser) ws() {
	for p.i < len(p.data) {
		switch p.data[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
			continue
		}
		return
	}
}

func (p *treeParser) pathString() string {
	s := ""
	for _, x := range p.path {
		switch x := x.(type) {
		case int:
			s = pathIndex(s, x)
		case string:
			s = pathKey(s, x)
		}
	}
	return s
}

func (p *treeParser) fail(msg string) error {
	e := &Error{Path: p.pathString(), Msg: "invalid JSON: " + msg}
	e.Line, e.Column = position(p.data, p.i)
	return e
}

// expect consumes c after optional white space.
func (p *treeParser) expect(c byte) error {
	p.ws()
	if p.i >= len(p.data) || p.data[p.i] != c {
		return p.fail(fmt.Sprintf("expected %q", c))
	}
	p.i++
	return nil
}

func (p *treeParser) value() (*node, error) {
	p.ws()
	off := p.i
	if p.i >= len(p.data) {
		return nil, p.fail("unexpected end of input")
	}
	switch c := p.data[p.i]; {
	case c == '{':
		p.i++
		n := &node{kind: kObject, off: off}
		p.ws()
		if p.i < len(p.data) && p.data[p.i] == '}' {
			p.i++
			return n, nil
		}
		var seen map[string]bool
		for {
			p.ws()
			koff := p.i
			if p.i >= len(p.data) || p.data[p.i] != '"' {
				return nil, p.fail("expected an object key")
			}
			key, err := p.str()
			if err != nil {
				return nil, err
			}
			if seen == nil {
				seen = map[string]bool{}
			}
			if seen[key] {
				e := &Error{Path: p.pathString(), Msg: fmt.Sprintf("duplicate key %q", key)}
				e.Line, e.Column = position(p.data, koff)
				return nil, e
			}
			seen[key] = true
			if err := p.expect(':'); err != nil {
				return nil, err
			}
			p.path = append(p.path, key)
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			p.path = p.path[:len(p.path)-1]
			n.members = append(n.members, member{key: key, off: koff, val: v})
			p.ws()
			if p.i < len(p.data) && p.data[p.i] == ',' {
				p.i++
				continue
			}
			return n, p.expect('}')
		}
	case c == '[':
		p.i++
		n := &node{kind: kArray, off: off}
		p.ws()
		if p.i < len(p.data) && p.data[p.i] == ']' {
			p.i++
			return n, nil
		}
		for i := 0; ; i++ {
			p.path = append(p.path, i)
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			p.path = p.path[:len(p.path)-1]
			n.elems = append(n.elems, v)
			p.ws()
			if p.i < len(p.data) && p.data[p.i] == ',' {
				p.i++
				continue
			}
			return n, p.expect(']')
		}
	case c == '"':
		s, err := p.str()
		if err != nil {
			return nil, err
		}
		return &node{kind: kString, off: off, str: s}, nil
	case c == 't' || c == 'f' || c == 'n':
		for _, lit := range []string{"true", "false", "null"} {
			if bytes.HasPrefix(p.data[p.i:], []byte(lit)) {
				p.i += len(lit)
				if lit == "null" {
					return &node{kind: kNull, off: off}, nil
				}
				return &node{kind: kBool, off: off, b: lit == "true"}, nil
			}
		}
	case c == '-' || c >= '0' && c <= '9':
		for p.i < len(p.data) && strings.IndexByte("+-.eE0123456789", p.data[p.i]) >= 0 {
			p.i++
		}
		text := string(p.data[off:p.i])
		if !isNumber(text) {
			p.i = off
			return nil, p.fail("bad number " + strconv.Quote(text))
		}
		return &node{kind: kNumber, off: off, str: text}, nil
	}
	return nil, p.fail("unexpected character")
}

// str parses the string starting at p.i.
func (p *treeParser) str() (string, error) {
	start := p.i
	p.i++ // opening quote
	escaped := false
	for p.i < len(p.data) && p.data[p.i] != '"' {
		if p.data[p.i] == '\\' {
			escaped = true
			p.i++
		}
		p.i++
	}
	if p.i >= len(p.data) {
		return "", p.fail("unterminated string")
	}
	p.i++ // closing quote
	raw := p.data[start:p.i]
	if !escaped && utf8.Valid(raw) {
		return string(raw[1 : len(raw)-1]), nil
	}
	var s string // escapes and invalid UTF-8 are decoded as encoding/json does
	if err := json.Unmarshal(raw, &s); err != nil {
		p.i = start
		return "", p.fail(err.Error())
	}
	return s, nil
}

// decoder turns a node tree into a Notebook, remembering where cells,
// outputs and their fields are so that Validate errors can be located.
type decoder struct {
	data []byte
	pos  map[string]int
}

func (d *decoder) errf(n *node, path, format string, args ...any) *Error {
	e := &Error{Path: path, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = position(d.data, n.off)
	}
	return e
}

// lookup finds the recorded offset of path or of its nearest ancestor.
func (d *decoder) lookup(path string) (int, bool) {
	for path != "" {
		if off, ok := d.pos[path]; ok {
			return off, true
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 0, false
}

func (d *decoder) want(n *node, path string, k kind) error {
	if n.kind != k {
		return d.errf(n, path, "want %s, got %s", k, n.kind)
	}
	return nil
}

func (d *decoder) notebook(root *node) (*Notebook, error) {
	if root.kind != kObject {
		return nil, d.errf(root, "", "not a Jupyter notebook: the file holds %s, want an object with nbformat, metadata and cells", root.kind)
	}
	for _, m := range root.members {
		d.pos[m.key] = m.val.off
	}
	nbf := root.get("nbformat")
	if nbf == nil {
		if root.get("worksheets") != nil {
			return nil, d.errf(root, "", "not a supported notebook: no \"nbformat\" key, but \"worksheets\" suggests an nbformat 3 or older notebook; convert it with: jupyter nbconvert --to notebook --nbformat 4 FILE")
		}
		return nil, d.errf(root, "", "not a Jupyter notebook: the top-level object has no \"nbformat\" key")
	}
	major, err := d.integer(nbf.val, "nbformat")
	if err != nil {
		return nil, err
	}
	switch {
	case major < 4:
		return nil, d.errf(nbf.val, "nbformat", "this is an nbformat %d notebook; only nbformat 4 is supported, convert it with: jupyter nbconvert --to notebook --nbformat 4 FILE", major)
	case major > 4:
		return nil, d.errf(nbf.val, "nbformat", "nbformat %d is newer than this program supports (4)", major)
	}
	nb := &Notebook{Nbformat: major}
	var cellsNode *node
	for _, m := range root.members {
		switch m.key {
		case "nbformat":
		case "nbformat_minor":
			if nb.NbformatMinor, err = d.integer(m.val, m.key); err != nil {
				return nil, err
			}
			if nb.NbformatMinor < 0 {
				return nil, d.errf(m.val, m.key, "must not be negative, got %d", nb.NbformatMinor)
			}
		case "metadata":
			if nb.Metadata, err = d.metadata(m.val, m.key); err != nil {
				return nil, err
			}
		case "cells":
			cellsNode = m.val
		default:
			return nil, d.errf(&node{off: m.off}, "", "unexpected top-level key %q (nbformat 4 allows cells, metadata, nbformat and nbformat_minor)", m.key)
		}
	}
	if root.get("nbformat_minor") == nil {
		return nil, d.errf(root, "", "missing \"nbformat_minor\" key")
	}
	if cellsNode == nil {
		return nil, d.errf(root, "", "missing \"cells\" key")
	}
	if err := d.want(cellsNode, "cells", kArray); err != nil {
		return nil, err
	}
	if nb.Metadata == nil {
		nb.Metadata = map[string]any{}
	}
	nb.Cells = make([]*Cell, 0, len(cellsNode.elems))
	for i, cn := range cellsNode.elems {
		c, err := d.cell(cn, pathIndex("cells", i))
		if err != nil {
			return nil, err
		}
		nb.Cells = append(nb.Cells, c)
	}
	// Cells of files older than 4.5 have no id; give them one.
	taken := map[string]bool{}
	for _, c := range nb.Cells {
		taken[c.ID] = true
	}
	for _, c := range nb.Cells {
		if c.ID == "" {
			c.ID = nb.unusedID(taken)
			taken[c.ID] = true
		}
	}
	if nb.NbformatMinor < NbformatMinor {
		nb.NbformatMinor = NbformatMinor
	}
	return nb, nil
}

func (d *decoder) cell(n *node, path string) (*Cell, error) {
	d.pos[path] = n.off
	if err := d.want(n, path, kObject); err != nil {
		return nil, err
	}
	for _, m := range n.members {
		d.pos[pathKey(path, m.key)] = m.val.off
	}
	tm := n.get("cell_type")
	if tm == nil {
		return nil, d.errf(n, path, "missing \"cell_type\" key")
	}
	if err := d.want(tm.val, pathKey(path, "cell_type"), kString); err != nil {
		return nil, err
	}
	c := &Cell{Type: CellType(tm.val.str)}
	switch c.Type {
	case CellCode, CellMarkdown, CellRaw:
	default:
		return nil, d.errf(tm.val, pathKey(path, "cell_type"), "unknown value %q (want code, markdown or raw)", tm.val.str)
	}
	hasSource := false
	for _, m := range n.members {
		mp := pathKey(path, m.key)
		var err error
		switch m.key {
		case "cell_type":
		case "id":
			if err = d.want(m.val, mp, kString); err == nil {
				c.ID = m.val.str
				if c.ID == "" {
					err = d.errf(m.val, mp, "empty cell id")
				}
			}
		case "source":
			hasSource = true
			c.Source, err = d.multiline(m.val, mp)
		case "metadata":
			c.Metadata, err = d.metadata(m.val, mp)
		case "execution_count", "outputs":
			if c.Type != CellCode {
				return nil, d.errf(&node{off: m.off}, path, "unexpected key %q in a %s cell (only code cells have it)", m.key, c.Type)
			}
			if m.key == "execution_count" {
				c.ExecutionCount, err = d.count(m.val, mp)
				break
			}
			if err = d.want(m.val, mp, kArray); err != nil {
				break
			}
			c.Outputs = make([]Output, 0, len(m.val.elems))
			for j, on := range m.val.elems {
				o, err := d.output(on, pathIndex(mp, j))
				if err != nil {
					return nil, err
				}
				c.Outputs = append(c.Outputs, *o)
			}
		case "attachments":
			if c.Type == CellCode {
				return nil, d.errf(&node{off: m.off}, path, "unexpected key \"attachments\" in a code cell (only markdown and raw cells have it)")
			}
			c.Attachments, err = d.attachments(m.val, mp)
		default:
			return nil, d.errf(&node{off: m.off}, path, "unexpected key %q in a %s cell", m.key, c.Type)
		}
		if err != nil {
			return nil, err
		}
	}
	if !hasSource {
		return nil, d.errf(n, path, "missing \"source\" key")
	}
	if c.Metadata == nil {
		c.Metadata = map[string]any{}
	}
	if c.Type == CellCode && c.Outputs == nil {
		c.Outputs = []Output{}
	}
	return c, nil
}

var outputKeys = map[OutputType][]string{
	OutputStream:        {"name", "text"},
	OutputDisplayData:   {"data", "metadata"},
	OutputExecuteResult: {"data", "metadata", "execution_count"},
	OutputError:         {"ename", "evalue", "traceback"},
}

func (d *decoder) output(n *node, path string) (*Output, error) {
	d.pos[path] = n.off
	if err := d.want(n, path, kObject); err != nil {
		return nil, err
	}
	for _, m := range n.members {
		d.pos[pathKey(path, m.key)] = m.val.off
	}
	tm := n.get("output_type")
	if tm == nil {
		return nil, d.errf(n, path, "missing \"output_type\" key")
	}
	tp := pathKey(path, "output_type")
	if err := d.want(tm.val, tp, kString); err != nil {
		return nil, err
	}
	o := &Output{Type: OutputType(tm.val.str)}
	keys, ok := outputKeys[o.Type]
	if !ok {
		return nil, d.errf(tm.val, tp, "unknown value %q (want stream, display_data, execute_result or error)", tm.val.str)
	}
	for _, k := range keys {
		if k != "metadata" && k != "execution_count" && n.get(k) == nil {
			return nil, d.errf(n, path, "missing %q key in a %s output", k, o.Type)
		}
	}
	for _, m := range n.members {
		if m.key == "output_type" {
			continue
		}
		if !contains(keys, m.key) {
			return nil, d.errf(&node{off: m.off}, path, "unexpected key %q in a %s output (allowed: output_type, %s)", m.key, o.Type, strings.Join(keys, ", "))
		}
		mp := pathKey(path, m.key)
		var err error
		switch m.key {
		case "name":
			if err = d.want(m.val, mp, kString); err == nil {
				o.Name = m.val.str
			}
		case "text":
			o.Text, err = d.multiline(m.val, mp)
		case "data":
			o.Data, err = d.bundle(m.val, mp)
		case "metadata":
			o.Metadata, err = d.metadata(m.val, mp)
		case "execution_count":
			o.ExecutionCount, err = d.count(m.val, mp)
		case "ename", "evalue":
			if err = d.want(m.val, mp, kString); err == nil {
				if m.key == "ename" {
					o.Ename = m.val.str
				} else {
					o.Evalue = m.val.str
				}
			}
		case "traceback":
			if err = d.want(m.val, mp, kArray); err != nil {
				break
			}
			o.Traceback = make([]string, 0, len(m.val.elems))
			for j, e := range m.val.elems {
				if err = d.want(e, pathIndex(mp, j), kString); err != nil {
					break
				}
				o.Traceback = append(o.Traceback, e.str)
			}
		}
		if err != nil {
			return nil, err
		}
	}
	if (o.Type == OutputDisplayData || o.Type == OutputExecuteResult) && o.Metadata == nil {
		o.Metadata = map[string]any{}
	}
	return o, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (d *decoder) integer(n *node, path string) (int, error) {
	if n.kind != kNumber {
		return 0, d.errf(n, path, "want an integer, got %s", n.kind)
	}
	v, err := strconv.Atoi(n.str)
	if err != nil {
		if strings.ContainsAny(n.str, ".eE") {
			return 0, d.errf(n, path, "want an integer, got %s", n.str)
		}
		return 0, d.errf(n, path, "integer %s out of range", n.str)
	}
	return v, nil
}

// count decodes an execution count: an integer or null.
func (d *decoder) count(n *node, path string) (*int, error) {
	if n.kind == kNull {
		return nil, nil
	}
	if n.kind != kNumber {
		return nil, d.errf(n, path, "want an integer or null, got %s", n.kind)
	}
	v, err := d.integer(n, path)
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// multiline decodes a string or a list of strings.
func (d *decoder) multiline(n *node, path string) (string, error) {
	switch n.kind {
	case kString:
		return n.str, nil
	case kArray:
		var b strings.Builder
		for i, e := range n.elems {
			if e.kind != kString {
				return "", d.errf(e, pathIndex(path, i), "want a string (a line of text), got %s", e.kind)
			}
			b.WriteString(e.str)
		}
		return b.String(), nil
	}
	return "", d.errf(n, path, "want a string or a list of strings, got %s", n.kind)
}

func (d *decoder) metadata(n *node, path string) (map[string]any, error) {
	if err := d.want(n, path, kObject); err != nil {
		return nil, err
	}
	d.record(n, path, 3)
	return n.tree().(map[string]any), nil
}

// record remembers the positions of the values under n, down to depth
// levels and skipping long lists, so that Validate errors about metadata
// can be located.
func (d *decoder) record(n *node, path string, depth int) {
	d.pos[path] = n.off
	if depth == 0 || len(n.elems) > 100 {
		return
	}
	for i, e := range n.elems {
		d.record(e, pathIndex(path, i), depth-1)
	}
	for _, m := range n.members {
		d.record(m.val, pathKey(path, m.key), depth-1)
	}
}

// bundle decodes a MIME bundle.
func (d *decoder) bundle(n *node, path string) (map[string]string, error) {
	if err := d.want(n, path, kObject); err != nil {
		return nil, err
	}
	out := make(map[string]string, len(n.members))
	for _, m := range n.members {
		mp := pathKey(path, m.key)
		d.pos[mp] = m.val.off
		if IsJSONMIME(m.key) {
			b, err := encodeCompact(m.val.tree())
			if err != nil {
				return nil, d.errf(m.val, mp, "%v", err)
			}
			out[m.key] = string(b)
			continue
		}
		s, err := d.multiline(m.val, mp)
		if err != nil {
			return nil, err
		}
		out[m.key] = s
	}
	return out, nil
}

// attachments checks that n maps names to MIME bundles and returns it as
// compact JSON, with multiline text joined into strings.
func (d *decoder) attachments(n *node, path string) (json.RawMessage, error) {
	if err := d.want(n, path, kObject); err != nil {
		return nil, err
	}
	att := make(map[string]any, len(n.members))
	for _, m := range n.members {
		bundle, err := d.bundle(m.val, pathKey(path, m.key))
		if err != nil {
			return nil, err
		}
		att[m.key] = bundleTree(bundle, false)
	}
	b, err := encodeCompact(att)
	if err != nil {
		return nil, d.errf(n, path, "%v", err)
	}
	return b, nil
}

// tree converts n to a generic JSON value.
func (n *node) tree() any {
	switch n.kind {
	case kBool:
		return n.b
	case kNumber:
		return json.Number(n.str)
	case kString:
		return n.str
	case kArray:
		a := make([]any, len(n.elems))
		for i, e := range n.elems {
			a[i] = e.tree()
		}
		return a
	case kObject:
		m := make(map[string]any, len(n.members))
		for _, mb := range n.members {
			m[mb.key] = mb.val.tree()
		}
		return m
	}
	return nil
}

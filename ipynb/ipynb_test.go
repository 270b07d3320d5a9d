package ipynb

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

func ptr(n int) *int { return &n }

// lineDiff describes the first line where two texts differ.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return fmt.Sprintf("first difference at line %d:\nwant %q\n got %q", i+1, wl, gl)
		}
	}
	return "texts are equal"
}

// richNotebook builds a notebook with every cell and output type, unicode,
// empty cells, attachments, JSON MIME data and Loopbook metadata.
func richNotebook(t testing.TB) *Notebook {
	nb := New()
	if err := SetMetadata(&nb.Metadata, LoopbookKey, map[string]any{
		"timeline": []any{
			map[string]any{"tick": 0, "due_ns": int64(1500000), "event": "timer"},
			map[string]any{"tick": 1, "ready": []string{"task-1", "task-2"}, "ok": true, "err": nil},
		},
		"virtual_time": 2.5,
	}); err != nil {
		t.Fatal(err)
	}
	nb.Cells = []*Cell{
		{ID: "intro", Type: CellMarkdown, Source: "# Event loops 🔁\n\n<b>bold</b> & \"quoted\" — ünïcödé 日本語\n", Metadata: map[string]any{"tags": []any{"intro"}}},
		{ID: "empty-code", Type: CellCode, Outputs: []Output{}},
		{ID: "empty-md", Type: CellMarkdown},
		{ID: "run", Type: CellCode, Source: "x := 41\nx + 1", ExecutionCount: ptr(7),
			Metadata: map[string]any{"collapsed": false, "scrolled": "auto", LoopbookKey: map[string]any{"ms": json.Number("12.5")}},
			Outputs: []Output{
				{Type: OutputStream, Name: StreamStdout, Text: "line 1\nline 2\r\nno newline"},
				{Type: OutputStream, Name: StreamStderr, Text: "\x1b[31mwarn\x1b[0m \x00\t\u2028end\n"},
				{Type: OutputDisplayData, Data: map[string]string{
					"text/html":                     "<table>\n<tr><td>&amp;</td></tr>\n</table>",
					"image/png":                     "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
					"image/svg+xml":                 "<svg>\n<circle r=\"1\"/>\n</svg>\n",
					"application/json":              `{"b":[1,2.5,null],"a":{"nested":true}}`,
					"application/vnd.loopbook+json": `"just a string"`,
					"text/plain":                    "<Figure>",
				}, Metadata: map[string]any{"image/png": map[string]any{"width": 1}}},
				{Type: OutputExecuteResult, ExecutionCount: ptr(7), Data: map[string]string{"text/plain": "42"}, Metadata: map[string]any{}},
				{Type: OutputError, Ename: "panic", Evalue: "boom", Traceback: []string{"\x1b[31mpanic: boom\x1b[0m", "", "goroutine 1 [running]:"}},
			}},
		{ID: "not_run", Type: CellCode, Source: "select {}\n", Outputs: []Output{}},
		{ID: "raw-1", Type: CellRaw, Source: "raw\n\n", Metadata: map[string]any{"format": "text/markdown"}},
		{ID: "with-attachment", Type: CellMarkdown, Source: "![a](attachment:a.png)",
			Attachments: json.RawMessage(`{"a.png":{"image/png":"iVBORw0KGgo=","text/plain":"alt\ntext"}}`)},
	}
	return nb
}

// TestJupyterStyleRoundTrip reads files written by Jupyter's own writer
// (testdata/gen_jupyter_style.py) and checks that writing them again gives
// the same bytes.
func TestJupyterStyleRoundTrip(t *testing.T) {
	for _, name := range []string{"jupyter_style.ipynb"} {
		t.Run(name, func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join("testdata", name))
			if err != nil {
				t.Fatal(err)
			}
			nb, err := Read(bytes.NewReader(want))
			if err != nil {
				t.Fatal(err)
			}
			got, err := nb.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("Read→Marshal changed the file; %s", lineDiff(string(want), string(got)))
			}
		})
	}
}

// TestJupyterStyleContent checks what Read makes of the Jupyter fixture.
func TestJupyterStyleContent(t *testing.T) {
	nb, err := ReadFile("testdata/jupyter_style.ipynb")
	if err != nil {
		t.Fatal(err)
	}
	if nb.Nbformat != 4 || nb.NbformatMinor != 5 || len(nb.Cells) != 7 {
		t.Fatalf("nbformat %d.%d with %d cells", nb.Nbformat, nb.NbformatMinor, len(nb.Cells))
	}
	intro := nb.Cell("md-intro")
	if want := "# Loopbook fixture\n\nText with <html> & \"quotes\" and a tab\there.\nWindows line\r\nOld Mac line\rform\x0cfeed and line\u2028separator\n"; intro.Source != want {
		t.Errorf("markdown source = %q, want %q", intro.Source, want)
	}
	code := nb.Cell("code-1")
	if code.ExecutionCount == nil || *code.ExecutionCount != 3 || len(code.Outputs) != 5 {
		t.Fatalf("code cell: count %v, %d outputs", code.ExecutionCount, len(code.Outputs))
	}
	if o := code.Outputs[0]; o.Type != OutputStream || o.Name != "stdout" || o.Text != "héllo, 世界\nno final newline" {
		t.Errorf("stream output = %+v", o)
	}
	if o := code.Outputs[2]; o.Data["text/html"] != "<b>42</b> &amp; more\n<i>x</i>" || *o.ExecutionCount != 3 || o.Metadata["isolated"] != true {
		t.Errorf("execute_result = %+v", o)
	}
	disp := code.Outputs[3]
	if got, want := disp.Data["application/json"], `{"a":"x\ny","b":[1,2.5,null,true],"n":-0.0}`; got != want {
		t.Errorf("application/json = %s, want %s", got, want)
	}
	if got := disp.Data["application/vnd.loopbook.timeline+json"]; got != `[{"tick":1}]` {
		t.Errorf("+json data = %s", got)
	}
	if o := code.Outputs[4]; o.Ename != "panic" || len(o.Traceback) != 3 || o.Traceback[2] != "" {
		t.Errorf("error output = %+v", o)
	}
	if c := nb.Cell("never-run"); c.ExecutionCount != nil || c.Outputs == nil || len(c.Outputs) != 0 {
		t.Errorf("never-run cell = %+v", c)
	}
	if c := nb.Cell("md-attach"); !strings.Contains(string(c.Attachments), `"text/plain":"a dot"`) {
		t.Errorf("attachments = %s", c.Attachments)
	}
	var lb struct {
		Big      json.Number `json:"big"`
		Timeline []struct {
			Tick int     `json:"tick"`
			Due  float64 `json:"due"`
		} `json:"timeline"`
	}
	if ok, err := GetMetadata(nb.Metadata, LoopbookKey, &lb); !ok || err != nil {
		t.Fatalf("GetMetadata: %v %v", ok, err)
	}
	if lb.Big != "12345678901234567890" || len(lb.Timeline) != 2 || lb.Timeline[0].Due != 1e-05 {
		t.Errorf("loopbook metadata = %+v", lb)
	}
}

// TestReadOlderMinor reads an nbformat 4.0 file (no cell ids, multiline
// fields as plain strings) and checks the upgrade to 4.5.
func TestReadOlderMinor(t *testing.T) {
	nb, err := ReadFile("testdata/v4_0_no_ids.ipynb")
	if err != nil {
		t.Fatal(err)
	}
	if nb.NbformatMinor != 5 {
		t.Errorf("nbformat_minor = %d, want 5", nb.NbformatMinor)
	}
	idRE := regexp.MustCompile(`^[0-9a-f]{8}$`)
	seen := map[string]bool{}
	for i, c := range nb.Cells {
		if !idRE.MatchString(c.ID) || seen[c.ID] {
			t.Errorf("cells[%d].id = %q: not a fresh unique id", i, c.ID)
		}
		seen[c.ID] = true
	}
	if got := nb.Cells[1].Source; got != "print('a')\nprint('b')" {
		t.Errorf("joined source = %q", got)
	}
	out := nb.Cells[1].Outputs[1]
	if out.Data["image/png"] != "iVBORw0KGgo=\nAAAA\n" || out.Data["text/plain"] != "'a'" {
		t.Errorf("joined data = %q", out.Data)
	}
	if got := nb.Metadata["custom"]; !reflect.DeepEqual(got, map[string]any{"keep": []any{json.Number("1"), json.Number("2.50"), map[string]any{"deep": nil}}}) {
		t.Errorf("custom metadata = %#v", got)
	}
	b1, err := nb.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b1, []byte(`"nbformat_minor": 5`)) || !bytes.Contains(b1, []byte(`2.50`)) {
		t.Errorf("upgraded file:\n%s", b1)
	}
	nb2, err := Unmarshal(b1)
	if err != nil {
		t.Fatal(err)
	}
	b2, err := nb2.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b1, b2) {
		t.Errorf("second round trip differs: %s", lineDiff(string(b1), string(b2)))
	}
}

// TestRoundTrip writes notebooks built in Go, reads them back and compares.
func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	for name, nb := range map[string]*Notebook{
		"new":  New(),
		"rich": richNotebook(t),
		"minimal": {Nbformat: 4, NbformatMinor: 5, Cells: []*Cell{
			{ID: "a", Type: CellCode}, {ID: "b", Type: CellMarkdown}, {ID: "c", Type: CellRaw},
		}},
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name+".ipynb")
			if err := WriteFile(path, nb); err != nil {
				t.Fatal(err)
			}
			got, err := ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			want := normalized(t, nb)
			if !reflect.DeepEqual(got, want) {
				gb, _ := json.MarshalIndent(got, "", " ")
				wb, _ := json.MarshalIndent(want, "", " ")
				t.Errorf("round trip changed the notebook; %s", lineDiff(string(wb), string(gb)))
			}
			b1, _ := os.ReadFile(path)
			b2, err := got.Marshal()
			if err != nil || !bytes.Equal(b1, b2) {
				t.Errorf("second write differs (err %v): %s", err, lineDiff(string(b1), string(b2)))
			}
		})
	}
}

// normalized returns what Read should make of nb: empty maps and lists
// instead of nil, metadata as generic JSON trees, compact sorted JSON data.
func normalized(t *testing.T, nb *Notebook) *Notebook {
	if _, err := nb.Marshal(); err != nil {
		t.Fatal(err)
	}
	tree := func(v any) map[string]any {
		x, err := toTree(orEmpty(v.(map[string]any)))
		if err != nil {
			t.Fatal(err)
		}
		return x.(map[string]any)
	}
	out := &Notebook{Nbformat: nb.Nbformat, NbformatMinor: nb.NbformatMinor, Metadata: tree(nb.Metadata), Cells: []*Cell{}}
	for _, c := range nb.Cells {
		nc := &Cell{ID: c.ID, Type: c.Type, Source: c.Source, Metadata: tree(c.Metadata), ExecutionCount: c.ExecutionCount}
		if c.Attachments != nil {
			a, err := parseTree(c.Attachments)
			if err != nil {
				t.Fatal(err)
			}
			nc.Attachments, _ = encodeCompact(a)
		}
		if c.Type == CellCode {
			nc.Outputs = []Output{}
		}
		for _, o := range c.Outputs {
			no := o
			if o.Data != nil {
				no.Data = map[string]string{}
				for k, v := range o.Data {
					if IsJSONMIME(k) {
						x, _ := parseTree([]byte(v))
						cb, _ := encodeCompact(x)
						v = string(cb)
					}
					no.Data[k] = v
				}
			}
			if o.Type == OutputDisplayData || o.Type == OutputExecuteResult {
				no.Metadata = tree(o.Metadata)
			}
			if o.Type == OutputError && o.Traceback == nil {
				no.Traceback = []string{}
			}
			no.Text = strings.ToValidUTF8(o.Text, "\uFFFD")
			nc.Outputs = append(nc.Outputs, no)
		}
		out.Cells = append(out.Cells, nc)
	}
	return out
}

// TestMarshalStyle checks details of the canonical style on small inputs.
func TestMarshalStyle(t *testing.T) {
	one := func(c *Cell) *Notebook {
		nb := &Notebook{Nbformat: 4, NbformatMinor: 5, Cells: []*Cell{c}}
		return nb
	}
	tests := []struct {
		name string
		nb   *Notebook
		want []string // substrings of the output
		not  []string // must not appear
	}{
		{"empty notebook", &Notebook{Nbformat: 4, NbformatMinor: 5},
			[]string{"{\n \"cells\": [],\n \"metadata\": {},\n \"nbformat\": 4,\n \"nbformat_minor\": 5\n}\n"}, nil},
		{"source split keeping newlines", one(&Cell{ID: "a", Type: CellMarkdown, Source: "a\nb\r\nc\rd\n"}),
			[]string{"\"source\": [\n    \"a\\n\",\n    \"b\\r\\n\",\n    \"c\\r\",\n    \"d\\n\"\n   ]"}, nil},
		{"empty source is an empty list", one(&Cell{ID: "a", Type: CellMarkdown}), []string{`"source": []`}, nil},
		{"no HTML escaping", one(&Cell{ID: "a", Type: CellMarkdown, Source: "<a href=\"x\">&</a>"}),
			[]string{`"<a href=\"x\">&</a>"`}, []string{`\u003c`, `\u0026`}},
		{"unicode written as is", one(&Cell{ID: "a", Type: CellMarkdown, Source: "é世🔁\u2028x"}),
			[]string{"\"é世🔁\u2028\",\n    \"x\""}, []string{`\u`}},
		{"control characters escaped like Python", one(&Cell{ID: "a", Type: CellRaw, Source: "\x00\x01\x1b\b\t\x7f\\"}),
			[]string{`"\u0000\u0001\u001b\b\t` + "\x7f" + `\\"`}, nil},
		{"form feed and vertical tab split lines", one(&Cell{ID: "a", Type: CellRaw, Source: "a\fb\vc\x1cd\u0085e\u2029f"}),
			[]string{`"a\f",`, "\"b\\u000b\",", `"c\u001c",`, "\"d\u0085\",", "\"e\u2029\",", `"f"`}, nil},
		{"invalid UTF-8 replaced", one(&Cell{ID: "a", Type: CellCode, Outputs: []Output{{Type: OutputStream, Name: "stdout", Text: "a\xffb"}}}),
			[]string{"\"a\uFFFDb\""}, nil},
		{"code cell keys sorted, null count", one(&Cell{ID: "a", Type: CellCode}),
			[]string{"{\n   \"cell_type\": \"code\",\n   \"execution_count\": null,\n   \"id\": \"a\",\n   \"metadata\": {},\n   \"outputs\": [],\n   \"source\": []\n  }"}, nil},
		{"image data stays one string, text is split", one(&Cell{ID: "a", Type: CellCode, Outputs: []Output{{Type: OutputDisplayData,
			Data: map[string]string{"image/png": "AAAA\nBBBB\n", "text/plain": "x\ny"}}}}),
			[]string{`"image/png": "AAAA\nBBBB\n"`, "\"text/plain\": [\n       \"x\\n\",\n       \"y\"\n      ]"}, nil},
		{"JSON data written as JSON with sorted keys", one(&Cell{ID: "a", Type: CellCode, Outputs: []Output{{Type: OutputExecuteResult,
			Data: map[string]string{"application/json": `{"z":1e400,"a":[]}`}}}}),
			[]string{"\"application/json\": {\n       \"a\": [],\n       \"z\": 1e400\n      }", `"execution_count": null`}, nil},
		{"metadata numbers keep their spelling", &Notebook{Nbformat: 4, NbformatMinor: 5, Metadata: map[string]any{
			"n": json.Number("1.0"), "f": 0.5, "i": 3, "s": []string{"a"}, "raw": json.RawMessage(`{"b":1,"a":2}`)}},
			[]string{`"n": 1.0`, `"f": 0.5`, `"i": 3`, "\"raw\": {\n   \"a\": 2,\n   \"b\": 1\n  }"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := tt.nb.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			s := string(b)
			for _, w := range tt.want {
				if !strings.Contains(s, w) {
					t.Errorf("output lacks %q:\n%s", w, s)
				}
			}
			for _, w := range tt.not {
				if strings.Contains(s, w) {
					t.Errorf("output has %q:\n%s", w, s)
				}
			}
			if !strings.HasSuffix(s, "}\n") {
				t.Errorf("output does not end with a newline")
			}
			if _, err := Unmarshal(b); err != nil {
				t.Errorf("output does not read back: %v", err)
			}
		})
	}
}

func TestSplitLines(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", []string{}},
		{"a", []string{"a"}},
		{"a\n", []string{"a\n"}},
		{"\n\n", []string{"\n", "\n"}},
		{"a\r\nb", []string{"a\r\n", "b"}},
		{"a\r\r\n", []string{"a\r", "\r\n"}},
		{"a\u2028b\u2029c\u0085d", []string{"a\u2028", "b\u2029", "c\u0085", "d"}},
		{"x\x1dy\x1ez", []string{"x\x1d", "y\x1e", "z"}},
		{"\u00c2\u0085", []string{"\u00c2\u0085"}}, // "Â" then NEL: the NEL ends the line
	}
	for _, tt := range tests {
		if got := splitLines(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("splitLines(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestLoopbookMetadata checks that arbitrary JSON under the loopbook key
// survives a round trip unchanged.
func TestLoopbookMetadata(t *testing.T) {
	const doc = `{"timeline":[{"t":0.000001,"big":123456789012345678901234567890,"neg":-1.5E+10,"ok":true,"nil":null,"s":"\u2603 <&>","deep":[[[[]]]],"o":{}}],"version":1}`
	in := fmt.Sprintf(`{"cells":[{"cell_type":"code","id":"c1","metadata":{"loopbook":%s},"source":"","outputs":[],"execution_count":null}],"metadata":{"loopbook":%s},"nbformat":4,"nbformat_minor":5}`, doc, doc)
	nb, err := Unmarshal([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	b, err := nb.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	nb2, err := Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, md := range []map[string]any{nb2.Metadata, nb2.Cells[0].Metadata} {
		got, err := encodeCompact(md[LoopbookKey])
		if err != nil {
			t.Fatal(err)
		}
		want := `{"timeline":[{"big":123456789012345678901234567890,"deep":[[[[]]]],"neg":-1.5E+10,"nil":null,"o":{},"ok":true,"s":"☃ <&>","t":0.000001}],"version":1}`
		if string(got) != want {
			t.Errorf("loopbook metadata after round trip:\n got %s\nwant %s", got, want)
		}
	}
}

func TestGetSetMetadata(t *testing.T) {
	type frame struct {
		Tick  int      `json:"tick"`
		Tasks []string `json:"tasks"`
	}
	var md map[string]any
	if err := SetMetadata(&md, LoopbookKey, []frame{{1, []string{"a"}}}); err != nil {
		t.Fatal(err)
	}
	want := []any{map[string]any{"tick": json.Number("1"), "tasks": []any{"a"}}}
	if !reflect.DeepEqual(md[LoopbookKey], want) {
		t.Errorf("stored %#v", md[LoopbookKey])
	}
	var got []frame
	if ok, err := GetMetadata(md, LoopbookKey, &got); !ok || err != nil || len(got) != 1 || got[0].Tick != 1 {
		t.Errorf("GetMetadata = %v, %v, %+v", ok, err, got)
	}
	if ok, err := GetMetadata(md, "absent", &got); ok || err != nil {
		t.Errorf("absent key: %v %v", ok, err)
	}
	if err := SetMetadata(&md, "bad", func() {}); err == nil {
		t.Error("SetMetadata accepted a func")
	}
}

func TestNew(t *testing.T) {
	nb := New()
	if err := nb.Validate(); err != nil {
		t.Fatal(err)
	}
	b, err := nb.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	want := `{
 "cells": [],
 "metadata": {
  "kernelspec": {
   "display_name": "Go (Loopbook)",
   "language": "go",
   "name": "go"
  },
  "language_info": {
   "file_extension": ".go",
   "mimetype": "text/x-go",
   "name": "go"
  }
 },
 "nbformat": 4,
 "nbformat_minor": 5
}
`
	if string(b) != want {
		t.Errorf("New() marshals to\n%s\nwant\n%s", b, want)
	}
}

func TestNewCellID(t *testing.T) {
	re := regexp.MustCompile(`^[a-zA-Z0-9-_]{1,64}$`)
	seen := map[string]bool{}
	for range 1000 {
		id := NewCellID()
		if !re.MatchString(id) || len(id) != 8 {
			t.Fatalf("bad id %q", id)
		}
		seen[id] = true
	}
	if len(seen) < 995 {
		t.Errorf("only %d distinct ids in 1000", len(seen))
	}
}

func TestNewCell(t *testing.T) {
	nb := New()
	for range 200 {
		nb.Cells = append(nb.Cells, nb.NewCell(CellCode, "x"), nb.NewCell(CellMarkdown, "y"))
	}
	if err := nb.Validate(); err != nil {
		t.Fatal(err)
	}
	if c := nb.Cells[0]; c.Outputs == nil || c.Metadata == nil || c.Source != "x" {
		t.Errorf("code cell = %+v", c)
	}
	if nb.Cell(nb.Cells[3].ID) != nb.Cells[3] || nb.Cell("nope") != nil {
		t.Error("Cell lookup")
	}
}

func TestIsJSONMIME(t *testing.T) {
	for mime, want := range map[string]bool{
		"application/json": true, "application/vnd.loopbook.timeline+json": true, "application/geo+json": true,
		"text/json": false, "application/javascript": false, "application/jsonx": false, "image/png": false,
	} {
		if IsJSONMIME(mime) != want {
			t.Errorf("IsJSONMIME(%q) = %v", mime, !want)
		}
	}
}

// bigNotebook has 500 code cells of 100 lines, each with a stream output
// and a 100 KB image.
func bigNotebook() *Notebook {
	nb := New()
	src := strings.Repeat("fmt.Println(\"some line of code\")\n", 100)
	img := strings.Repeat("iVBORw0KGgo", 100_000/11)
	for range 500 {
		c := nb.NewCell(CellCode, src)
		c.ExecutionCount = ptr(1)
		c.Outputs = []Output{
			{Type: OutputStream, Name: StreamStdout, Text: src},
			{Type: OutputDisplayData, Data: map[string]string{"image/png": img, "text/plain": "<img>"}},
		}
		nb.Cells = append(nb.Cells, c)
	}
	return nb
}

func BenchmarkMarshal(b *testing.B) {
	nb := bigNotebook()
	data, _ := nb.Marshal()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := nb.Marshal(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRead(b *testing.B) {
	data, _ := bigNotebook().Marshal()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Unmarshal(data); err != nil {
			b.Fatal(err)
		}
	}
}

package ipynb

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// validNB is a small valid notebook; the malformed inputs below are edits
// of it.
const validNB = `{
 "cells": [
  {
   "cell_type": "code",
   "execution_count": 1,
   "id": "c1",
   "metadata": {},
   "outputs": [
    {
     "name": "stdout",
     "output_type": "stream",
     "text": ["hi\n"]
    }
   ],
   "source": ["fmt.Println(\"hi\")"]
  },
  {
   "cell_type": "markdown",
   "id": "m1",
   "metadata": {},
   "source": "# Title"
  }
 ],
 "metadata": {},
 "nbformat": 4,
 "nbformat_minor": 5
}
`

// readErrorTests lists malformed inputs with the exact error Read gives.
// They also seed FuzzRead.
var readErrorTests = []struct {
	name string
	in   string
	want string // the full error message
	path string // Error.Path
}{
	{"empty file", "", "empty file, not a notebook", ""},
	{"only spaces", " \n\t", "empty file, not a notebook", ""},
	{"truncated", validNB[:200], "line 13, column 3: invalid JSON: unexpected end of file (the notebook is truncated)", ""},
	{"trailing comma", strings.Replace(validNB, `"metadata": {},
 "nbformat"`, `"metadata": {,},
 "nbformat"`, 1), "line 24, column 15: invalid JSON: invalid character ',' looking for beginning of object key string", ""},
	{"missing quote", `{"cells": [], "nbformat: 4}`, "line 1, column 28: invalid JSON: unexpected end of file (the notebook is truncated)", ""},
	{"extra data", "{}\n{}", "line 2, column 1: invalid JSON: invalid character '{' after top-level value", ""},
	{"merge conflict", "{\n<<<<<<< HEAD\n \"cells\": []\n=======\n}", "line 2, column 1: invalid JSON: invalid character '<' looking for beginning of object key string (the file contains git merge conflict markers)", ""},
	{"not an object", `[1, 2]`, "line 1, column 1: not a Jupyter notebook: the file holds a list, want an object with nbformat, metadata and cells", ""},
	{"some other JSON", `{"name": "loopbook", "version": "1.0.0"}`, `line 1, column 1: not a Jupyter notebook: the top-level object has no "nbformat" key`, ""},
	{"nbformat 3", `{"metadata": {}, "nbformat": 3, "nbformat_minor": 0, "worksheets": []}`, "line 1, column 30: nbformat: this is an nbformat 3 notebook; only nbformat 4 is supported, convert it with: jupyter nbconvert --to notebook --nbformat 4 FILE", "nbformat"},
	{"worksheets without nbformat", `{"worksheets": []}`, `line 1, column 1: not a supported notebook: no "nbformat" key, but "worksheets" suggests an nbformat 3 or older notebook; convert it with: jupyter nbconvert --to notebook --nbformat 4 FILE`, ""},
	{"nbformat 5", strings.Replace(validNB, `"nbformat": 4`, `"nbformat": 5`, 1), "line 25, column 14: nbformat: nbformat 5 is newer than this program supports (4)", "nbformat"},
	{"nbformat as string", strings.Replace(validNB, `"nbformat": 4`, `"nbformat": "4"`, 1), "line 25, column 14: nbformat: want an integer, got a string", "nbformat"},
	{"nbformat_minor float", strings.Replace(validNB, `"nbformat_minor": 5`, `"nbformat_minor": 4.5`, 1), "line 26, column 20: nbformat_minor: want an integer, got 4.5", "nbformat_minor"},
	{"missing cells", `{"metadata": {}, "nbformat": 4, "nbformat_minor": 5}`, `line 1, column 1: missing "cells" key`, ""},
	{"cells not a list", `{"cells": {}, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}`, "line 1, column 11: cells: want a list, got an object", "cells"},
	{"metadata not an object", strings.Replace(validNB, `"metadata": {},
 "nbformat"`, `"metadata": [],
 "nbformat"`, 1), "line 24, column 14: metadata: want an object, got a list", "metadata"},
	{"unknown top-level key", strings.Replace(validNB, `"nbformat": 4,`, `"nbformat": 4, "worksheets": [],`, 1), `line 25, column 17: unexpected top-level key "worksheets" (nbformat 4 allows cells, metadata, nbformat and nbformat_minor)`, ""},
	{"cell not an object", `{"cells": ["x"], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}`, "line 1, column 12: cells[0]: want an object, got a string", "cells[0]"},
	{"unknown cell type", strings.Replace(validNB, `"cell_type": "markdown"`, `"cell_type": "heading"`, 1), `line 18, column 17: cells[1].cell_type: unknown value "heading" (want code, markdown or raw)`, "cells[1].cell_type"},
	{"missing cell type", strings.Replace(validNB, `"cell_type": "markdown",`, ``, 1), `line 17, column 3: cells[1]: missing "cell_type" key`, "cells[1]"},
	{"missing source", strings.Replace(validNB, `,
   "source": "# Title"`, ``, 1), `line 17, column 3: cells[1]: missing "source" key`, "cells[1]"},
	{"unknown cell key", strings.Replace(validNB, `"source": "# Title"`, `"source": "", "tags": []`, 1), `line 21, column 18: cells[1]: unexpected key "tags" in a markdown cell`, "cells[1]"},
	{"source is a number", strings.Replace(validNB, `"source": "# Title"`, `"source": 42`, 1), "line 21, column 14: cells[1].source: want a string or a list of strings, got a number", "cells[1].source"},
	{"source line is a number", strings.Replace(validNB, `["fmt.Println(\"hi\")"]`, `["a\n", 7]`, 1), "line 15, column 22: cells[0].source[1]: want a string (a line of text), got a number", "cells[0].source[1]"},
	{"execution_count as string", strings.Replace(validNB, `"execution_count": 1`, `"execution_count": "1"`, 1), "line 5, column 23: cells[0].execution_count: want an integer or null, got a string", "cells[0].execution_count"},
	{"negative execution_count", strings.Replace(validNB, `"execution_count": 1`, `"execution_count": -1`, 1), "line 5, column 23: cells[0].execution_count: must not be negative, got -1", "cells[0].execution_count"},
	{"outputs on markdown", strings.Replace(validNB, `"source": "# Title"`, `"source": "# Title", "outputs": []`, 1), `line 21, column 25: cells[1]: unexpected key "outputs" in a markdown cell (only code cells have it)`, "cells[1]"},
	{"attachments on code", strings.Replace(validNB, `"id": "c1",`, `"id": "c1", "attachments": {},`, 1), `line 6, column 16: cells[0]: unexpected key "attachments" in a code cell (only markdown and raw cells have it)`, "cells[0]"},
	{"v3 cell key", strings.Replace(validNB, `"id": "c1",`, `"id": "c1", "prompt_number": 1,`, 1), `line 6, column 16: cells[0]: unexpected key "prompt_number" in a code cell`, "cells[0]"},
	{"unknown output type", strings.Replace(validNB, `"output_type": "stream"`, `"output_type": "strem"`, 1), `line 11, column 21: cells[0].outputs[0].output_type: unknown value "strem" (want stream, display_data, execute_result or error)`, "cells[0].outputs[0].output_type"},
	{"output type not a string", strings.Replace(validNB, `"output_type": "stream"`, `"output_type": 1`, 1), `line 11, column 21: cells[0].outputs[0].output_type: want a string, got a number`, "cells[0].outputs[0].output_type"},
	{"missing output type", strings.Replace(validNB, `"output_type": "stream",`, ``, 1), `line 9, column 5: cells[0].outputs[0]: missing "output_type" key`, "cells[0].outputs[0]"},
	{"stream without text", strings.Replace(validNB, `,
     "text": ["hi\n"]`, ``, 1), `line 9, column 5: cells[0].outputs[0]: missing "text" key in a stream output`, "cells[0].outputs[0]"},
	{"unknown stream", strings.Replace(validNB, `"name": "stdout"`, `"name": "stdlog"`, 1), `line 10, column 14: cells[0].outputs[0].name: unknown stream "stdlog" (want stdout or stderr)`, "cells[0].outputs[0].name"},
	{"stream with data", strings.Replace(validNB, `"name": "stdout",`, `"name": "stdout", "data": {},`, 1), `line 10, column 24: cells[0].outputs[0]: unexpected key "data" in a stream output (allowed: output_type, name, text)`, "cells[0].outputs[0]"},
	{"display_data without data", `{"cells": [{"cell_type": "code", "execution_count": null, "metadata": {}, "source": "", "outputs": [{"output_type": "display_data", "metadata": {}}]}], "metadata": {}, "nbformat": 4, "nbformat_minor": 4}`, `line 1, column 101: cells[0].outputs[0]: missing "data" key in a display_data output`, "cells[0].outputs[0]"},
	{"mime value a number", `{"cells": [{"cell_type": "code", "execution_count": null, "metadata": {}, "source": "", "outputs": [{"output_type": "display_data", "metadata": {}, "data": {"text/plain": 42}}]}], "metadata": {}, "nbformat": 4, "nbformat_minor": 4}`, `line 1, column 172: cells[0].outputs[0].data["text/plain"]: want a string or a list of strings, got a number`, `cells[0].outputs[0].data["text/plain"]`},
	{"transient in output", `{"cells": [{"cell_type": "code", "execution_count": null, "metadata": {}, "source": "", "outputs": [{"output_type": "display_data", "metadata": {}, "data": {}, "transient": {}}]}], "metadata": {}, "nbformat": 4, "nbformat_minor": 4}`, `line 1, column 161: cells[0].outputs[0]: unexpected key "transient" in a display_data output (allowed: output_type, data, metadata)`, "cells[0].outputs[0]"},
	{"error output traceback not a list", `{"cells": [{"cell_type": "code", "execution_count": null, "metadata": {}, "source": "", "outputs": [{"output_type": "error", "ename": "E", "evalue": "v", "traceback": "t"}]}], "metadata": {}, "nbformat": 4, "nbformat_minor": 4}`, `line 1, column 168: cells[0].outputs[0].traceback: want a list, got a string`, "cells[0].outputs[0].traceback"},
	{"duplicate cell ids", strings.Replace(validNB, `"id": "m1"`, `"id": "c1"`, 1), `line 19, column 10: cells[1].id: duplicate cell id "c1" (also used by cells[0])`, "cells[1].id"},
	{"bad cell id", strings.Replace(validNB, `"id": "m1"`, `"id": "m 1"`, 1), `line 19, column 10: cells[1].id: cell id "m 1" has the character ' '; only letters, digits, - and _ are allowed`, "cells[1].id"},
	{"long cell id", strings.Replace(validNB, `"id": "m1"`, `"id": "`+strings.Repeat("x", 65)+`"`, 1), `line 19, column 10: cells[1].id: cell id is 65 characters long, at most 64 are allowed`, "cells[1].id"},
	{"empty cell id", strings.Replace(validNB, `"id": "m1"`, `"id": ""`, 1), `line 19, column 10: cells[1].id: empty cell id`, "cells[1].id"},
	{"duplicate key", strings.Replace(validNB, `"id": "m1",`, `"id": "m1", "id": "m2",`, 1), `line 19, column 16: cells[1]: duplicate key "id"`, "cells[1]"},
	{"bad kernelspec", strings.Replace(validNB, `"metadata": {},
 "nbformat"`, `"metadata": {"kernelspec": {"name": "go"}},
 "nbformat"`, 1), `line 24, column 29: metadata.kernelspec: missing "display_name" key`, "metadata.kernelspec"},
	{"tags not strings", strings.Replace(validNB, `"id": "m1",
   "metadata": {}`, `"id": "m1",
   "metadata": {"tags": [1]}`, 1), `line 20, column 26: cells[1].metadata.tags[0]: want a string, got a number`, "cells[1].metadata.tags[0]"},
	{"scrolled wrong", strings.Replace(validNB, `"id": "c1",
   "metadata": {}`, `"id": "c1",
   "metadata": {"scrolled": "yes"}`, 1), `line 7, column 29: cells[0].metadata.scrolled: want true, false or "auto", got a string`, "cells[0].metadata.scrolled"},
}

func TestReadErrors(t *testing.T) {
	for _, tt := range readErrorTests {
		t.Run(tt.name, func(t *testing.T) {
			nb, err := Unmarshal([]byte(tt.in))
			if err == nil {
				t.Fatalf("no error; read %d cells", len(nb.Cells))
			}
			if err.Error() != tt.want {
				t.Errorf("error:\n got %s\nwant %s", err, tt.want)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error is a %T, not *Error", err)
			}
			if e.Path != tt.path {
				t.Errorf("Path = %q, want %q", e.Path, tt.path)
			}
		})
	}
}

func TestReadFileErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.ipynb")
	if err := os.WriteFile(path, []byte(strings.Replace(validNB, `"stream"`, `"strem"`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := ReadFile(path)
	want := path + `:11:21: cells[0].outputs[0].output_type: unknown value "strem" (want stream, display_data, execute_result or error)`
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
	_, err = ReadFile("testdata/v3.ipynb")
	if err == nil || !strings.HasPrefix(err.Error(), "testdata/v3.ipynb:3:14: nbformat: this is an nbformat 3 notebook") {
		t.Errorf("v3: %v", err)
	}
	_, err = ReadFile(filepath.Join(dir, "missing.ipynb"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// TestReadLenient checks the defaults Read fills in.
func TestReadLenient(t *testing.T) {
	in := "\xef\xbb\xbf" + `{"cells": [{"cell_type": "code", "source": "x"}, {"cell_type": "markdown", "source": ["a"]}], "nbformat": 4, "nbformat_minor": 2}`
	nb, err := Unmarshal([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	c := nb.Cells[0]
	if c.ID == "" || c.Metadata == nil || c.Outputs == nil || c.ExecutionCount != nil || nb.Metadata == nil || nb.NbformatMinor != 5 {
		t.Errorf("defaults not filled: %+v", c)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		modify func(nb *Notebook)
		want   string
	}{
		{"valid", func(nb *Notebook) {}, ""},
		{"nbformat 3", func(nb *Notebook) { nb.Nbformat = 3 }, "nbformat: must be 4, got 3"},
		{"minor 4", func(nb *Notebook) { nb.NbformatMinor = 4 }, "nbformat_minor: must be at least 5 (cell ids need nbformat 4.5), got 4"},
		{"nil cell", func(nb *Notebook) { nb.Cells[1] = nil }, "cells[1]: nil cell"},
		{"missing id", func(nb *Notebook) { nb.Cells[2].ID = "" }, "cells[2].id: missing cell id"},
		{"bad id", func(nb *Notebook) { nb.Cells[2].ID = "a/b" }, `cells[2].id: cell id "a/b" has the character '/'; only letters, digits, - and _ are allowed`},
		{"duplicate id", func(nb *Notebook) { nb.Cells[3].ID = nb.Cells[0].ID }, `cells[3].id: duplicate cell id "intro" (also used by cells[0])`},
		{"unknown cell type", func(nb *Notebook) { nb.Cells[0].Type = "heading" }, `cells[0].cell_type: unknown value "heading" (want code, markdown or raw)`},
		{"count on markdown", func(nb *Notebook) { nb.Cells[0].ExecutionCount = ptr(1) }, "cells[0].execution_count: only code cells have an execution count, this is a markdown cell"},
		{"outputs on raw", func(nb *Notebook) { nb.Cells[5].Outputs = []Output{{Type: OutputStream, Name: "stdout"}} }, "cells[5].outputs: only code cells have outputs, this is a raw cell"},
		{"attachments on code", func(nb *Notebook) { nb.Cells[1].Attachments = json.RawMessage(`{}`) }, "cells[1].attachments: code cells cannot have attachments"},
		{"attachments not JSON", func(nb *Notebook) { nb.Cells[6].Attachments = json.RawMessage(`{`) }, "cells[6].attachments: invalid JSON: unexpected end of JSON input"},
		{"attachment not a bundle", func(nb *Notebook) { nb.Cells[6].Attachments = json.RawMessage(`{"a.png": "x"}`) }, `cells[6].attachments["a.png"]: want a MIME bundle (an object), got a string`},
		{"negative count", func(nb *Notebook) { nb.Cells[3].ExecutionCount = ptr(-2) }, "cells[3].execution_count: must not be negative, got -2"},
		{"unknown output type", func(nb *Notebook) { nb.Cells[3].Outputs[0].Type = "strem" }, `cells[3].outputs[0].output_type: unknown value "strem" (want stream, display_data, execute_result or error)`},
		{"stream name", func(nb *Notebook) { nb.Cells[3].Outputs[0].Name = "" }, `cells[3].outputs[0].name: unknown stream "" (want stdout or stderr)`},
		{"ename on stream", func(nb *Notebook) { nb.Cells[3].Outputs[0].Ename = "E" }, "cells[3].outputs[0].ename: set in a stream output, which has no ename (it has name, text)"},
		{"count on display_data", func(nb *Notebook) { nb.Cells[3].Outputs[2].ExecutionCount = ptr(1) }, "cells[3].outputs[2].execution_count: set in a display_data output, which has no execution_count (it has data, metadata)"},
		{"text on error", func(nb *Notebook) { nb.Cells[3].Outputs[4].Text = "x" }, "cells[3].outputs[4].text: set in a error output, which has no text (it has ename, evalue, traceback)"},
		{"bad JSON data", func(nb *Notebook) { nb.Cells[3].Outputs[2].Data["application/json"] = "{nope}" }, `cells[3].outputs[2].data["application/json"]: application/json data must be JSON text: invalid character 'n' looking for beginning of object key string`},
		{"kernelspec not an object", func(nb *Notebook) { nb.Metadata["kernelspec"] = "go" }, "metadata.kernelspec: want an object, got a string"},
		{"language_info name", func(nb *Notebook) { nb.Metadata["language_info"] = map[string]any{"name": 1} }, "metadata.language_info.name: want a string, got a number"},
		{"kernelspec as Go map", func(nb *Notebook) { nb.Metadata["kernelspec"] = map[string]string{"name": "go"} }, `metadata.kernelspec: missing "display_name" key`},
		{"unencodable metadata", func(nb *Notebook) { nb.Metadata["f"] = func() {} }, "metadata: json: unsupported type: func()"},
		{"bad json.Number", func(nb *Notebook) { nb.Cells[0].Metadata["n"] = json.Number("1x") }, `cells[0].metadata: invalid number "1x"`},
		{"duplicate tag", func(nb *Notebook) { nb.Cells[0].Metadata["tags"] = []string{"a", "a"} }, `cells[0].metadata.tags[1]: duplicate tag "a"`},
		{"tag with comma", func(nb *Notebook) { nb.Cells[0].Metadata["tags"] = []any{"a,b"} }, `cells[0].metadata.tags[0]: tag "a,b" must be non-empty and have no comma`},
		{"collapsed not bool", func(nb *Notebook) { nb.Cells[3].Metadata["collapsed"] = "no" }, "cells[3].metadata.collapsed: want a boolean, got a string"},
		{"outputs_hidden", func(nb *Notebook) { nb.Cells[3].Metadata["jupyter"] = map[string]any{"outputs_hidden": 1} }, "cells[3].metadata.jupyter.outputs_hidden: want a boolean, got a number"},
		{"execution time", func(nb *Notebook) { nb.Cells[3].Metadata["execution"] = map[string]any{"shell.execute_reply": 5} }, "cells[3].metadata.execution[\"shell.execute_reply\"]: want a string (an ISO 8601 time), got a number"},
		{"raw format", func(nb *Notebook) { nb.Cells[5].Metadata["format"] = 1 }, "cells[5].metadata.format: want a string, got a number"},
		{"cell name", func(nb *Notebook) { nb.Cells[5].Metadata["name"] = "" }, "cells[5].metadata.name: want a non-empty string, got a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nb := richNotebook(t)
			tt.modify(nb)
			err := nb.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || err.Error() != tt.want {
				t.Fatalf("error:\n got %v\nwant %s", err, tt.want)
			}
			var e *Error
			if !errors.As(err, &e) || e.Line != 0 {
				t.Errorf("not an *Error without position: %#v", err)
			}
			if _, merr := nb.Marshal(); merr == nil || merr.Error() != tt.want {
				t.Errorf("Marshal did not refuse the notebook: %v", merr)
			}
		})
	}
}

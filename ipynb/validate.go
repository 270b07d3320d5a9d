package ipynb

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Validate checks nb against the structural rules of the nbformat 4.5
// schema: format version, cell and output types, cell ids (pattern, length,
// uniqueness), fields that belong to another cell or output type, execution
// counts, stream names, JSON MIME data, attachments, and the types of the
// well-known metadata keys (kernelspec, language_info, tags, collapsed,
// scrolled, jupyter). It returns the first problem found as an *Error whose
// Path names the offending value.
func (nb *Notebook) Validate() error {
	if nb == nil {
		return &Error{Msg: "nil notebook"}
	}
	if nb.Nbformat != Nbformat {
		return &Error{Path: "nbformat", Msg: fmt.Sprintf("must be 4, got %d", nb.Nbformat)}
	}
	if nb.NbformatMinor < NbformatMinor {
		return &Error{Path: "nbformat_minor", Msg: fmt.Sprintf("must be at least 5 (cell ids need nbformat 4.5), got %d", nb.NbformatMinor)}
	}
	if err := validateNotebookMetadata(nb.Metadata); err != nil {
		return err
	}
	ids := make(map[string]int, len(nb.Cells))
	for i, c := range nb.Cells {
		path := pathIndex("cells", i)
		if c == nil {
			return &Error{Path: path, Msg: "nil cell"}
		}
		if err := checkID(c.ID); err != nil {
			return &Error{Path: pathKey(path, "id"), Msg: err.Error()}
		}
		if j, dup := ids[c.ID]; dup {
			return &Error{Path: pathKey(path, "id"), Msg: fmt.Sprintf("duplicate cell id %q (also used by cells[%d])", c.ID, j)}
		}
		ids[c.ID] = i
		if err := c.validate(path); err != nil {
			return err
		}
	}
	return nil
}

// checkID checks the nbformat 4.5 cell id rule: ^[a-zA-Z0-9-_]+$, 1 to 64
// characters.
func checkID(id string) error {
	if id == "" {
		return fmt.Errorf("missing cell id")
	}
	if len(id) > 64 {
		return fmt.Errorf("cell id is %d characters long, at most 64 are allowed", len(id))
	}
	for _, r := range id {
		if !(r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return fmt.Errorf("cell id %q has the character %q; only letters, digits, - and _ are allowed", id, r)
		}
	}
	return nil
}

func (c *Cell) validate(path string) error {
	switch c.Type {
	case CellCode:
		if c.Attachments != nil {
			return &Error{Path: pathKey(path, "attachments"), Msg: "code cells cannot have attachments"}
		}
		if err := checkCount(c.ExecutionCount, pathKey(path, "execution_count")); err != nil {
			return err
		}
		for j := range c.Outputs {
			if err := c.Outputs[j].validate(pathIndex(pathKey(path, "outputs"), j)); err != nil {
				return err
			}
		}
	case CellMarkdown, CellRaw:
		if c.ExecutionCount != nil {
			return &Error{Path: pathKey(path, "execution_count"), Msg: fmt.Sprintf("only code cells have an execution count, this is a %s cell", c.Type)}
		}
		if len(c.Outputs) > 0 {
			return &Error{Path: pathKey(path, "outputs"), Msg: fmt.Sprintf("only code cells have outputs, this is a %s cell", c.Type)}
		}
		if c.Attachments != nil {
			if err := validateAttachments(c.Attachments, pathKey(path, "attachments")); err != nil {
				return err
			}
		}
	default:
		return &Error{Path: pathKey(path, "cell_type"), Msg: fmt.Sprintf("unknown value %q (want code, markdown or raw)", c.Type)}
	}
	return validateCellMetadata(c.Type, c.Metadata, pathKey(path, "metadata"))
}

func checkCount(n *int, path string) error {
	if n != nil && *n < 0 {
		return &Error{Path: path, Msg: fmt.Sprintf("must not be negative, got %d", *n)}
	}
	return nil
}

func (o *Output) validate(path string) error {
	// Fields that do not belong to the output type would be silently
	// dropped on write, so they are errors.
	type field struct {
		key string
		set bool
	}
	fields := []field{
		{"name", o.Name != ""},
		{"text", o.Text != ""},
		{"data", len(o.Data) > 0},
		{"metadata", len(o.Metadata) > 0},
		{"execution_count", o.ExecutionCount != nil},
		{"ename", o.Ename != ""},
		{"evalue", o.Evalue != ""},
		{"traceback", len(o.Traceback) > 0},
	}
	keys, ok := outputKeys[o.Type]
	if !ok {
		return &Error{Path: pathKey(path, "output_type"), Msg: fmt.Sprintf("unknown value %q (want stream, display_data, execute_result or error)", o.Type)}
	}
	for _, f := range fields {
		if f.set && !contains(keys, f.key) {
			return &Error{Path: pathKey(path, f.key), Msg: fmt.Sprintf("set in a %s output, which has no %s (it has %s)", o.Type, f.key, strings.Join(keys, ", "))}
		}
	}
	switch o.Type {
	case OutputStream:
		if o.Name != StreamStdout && o.Name != StreamStderr {
			return &Error{Path: pathKey(path, "name"), Msg: fmt.Sprintf("unknown stream %q (want stdout or stderr)", o.Name)}
		}
	case OutputExecuteResult, OutputDisplayData:
		if err := checkCount(o.ExecutionCount, pathKey(path, "execution_count")); err != nil {
			return err
		}
		if err := validateBundle(o.Data, pathKey(path, "data")); err != nil {
			return err
		}
		if _, err := encodeCompact(orEmpty(o.Metadata)); err != nil {
			return &Error{Path: pathKey(path, "metadata"), Msg: err.Error()}
		}
	}
	return nil
}

func validateBundle(data map[string]string, path string) error {
	for k, v := range data {
		if !IsJSONMIME(k) {
			continue
		}
		if _, err := parseTree([]byte(v)); err != nil {
			return &Error{Path: pathKey(path, k), Msg: fmt.Sprintf("%s data must be JSON text: %v", k, err)}
		}
	}
	return nil
}

func validateAttachments(raw json.RawMessage, path string) error {
	t, err := parseTree(raw)
	if err != nil {
		return &Error{Path: path, Msg: "invalid JSON: " + err.Error()}
	}
	att, ok := t.(map[string]any)
	if !ok {
		return &Error{Path: path, Msg: "want an object mapping file names to MIME bundles, got " + jsonKind(t)}
	}
	for name, b := range att {
		bundle, ok := b.(map[string]any)
		if !ok {
			return &Error{Path: pathKey(path, name), Msg: "want a MIME bundle (an object), got " + jsonKind(b)}
		}
		for mime, v := range bundle {
			if IsJSONMIME(mime) {
				continue
			}
			if !isMultiline(v) {
				return &Error{Path: pathKey(pathKey(path, name), mime), Msg: "want a string or a list of strings, got " + jsonKind(v)}
			}
		}
	}
	return nil
}

func isMultiline(v any) bool {
	switch v := v.(type) {
	case string:
		return true
	case []any:
		for _, x := range v {
			if _, ok := x.(string); !ok {
				return false
			}
		}
		return true
	}
	return false
}

// jsonKind names the JSON type of a generic value.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case string:
		return "a string"
	case json.Number, float64, int:
		return "a number"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// asTree returns v as a generic JSON value (Go values set by callers are
// converted through their JSON encoding).
func asTree(v any) (any, error) {
	switch v.(type) {
	case nil, bool, string, json.Number, []any, map[string]any:
		return v, nil
	}
	return toTree(v)
}

func validateNotebookMetadata(md map[string]any) error {
	if _, err := encodeCompact(orEmpty(md)); err != nil {
		return &Error{Path: "metadata", Msg: err.Error()}
	}
	if err := checkObject(md, "kernelspec", "metadata", "name", "display_name"); err != nil {
		return err
	}
	return checkObject(md, "language_info", "metadata", "name")
}

// checkObject checks that md[key], if present, is an object whose required
// members are strings.
func checkObject(md map[string]any, key, path string, required ...string) error {
	v, ok := md[key]
	if !ok {
		return nil
	}
	p := pathKey(path, key)
	t, err := asTree(v)
	if err != nil {
		return &Error{Path: p, Msg: err.Error()}
	}
	obj, ok := t.(map[string]any)
	if !ok {
		return &Error{Path: p, Msg: "want an object, got " + jsonKind(t)}
	}
	for _, r := range required {
		s, ok := obj[r]
		if !ok {
			return &Error{Path: p, Msg: fmt.Sprintf("missing %q key", r)}
		}
		if _, ok := s.(string); !ok {
			return &Error{Path: pathKey(p, r), Msg: "want a string, got " + jsonKind(s)}
		}
	}
	return nil
}

func validateCellMetadata(t CellType, md map[string]any, path string) error {
	if _, err := encodeCompact(orEmpty(md)); err != nil {
		return &Error{Path: path, Msg: err.Error()}
	}
	get := func(key string) (any, bool, error) {
		v, ok := md[key]
		if !ok {
			return nil, false, nil
		}
		t, err := asTree(v)
		if err != nil {
			return nil, true, &Error{Path: pathKey(path, key), Msg: err.Error()}
		}
		return t, true, nil
	}
	if v, ok, err := get("tags"); err != nil {
		return err
	} else if ok {
		list, isList := v.([]any)
		if !isList {
			return &Error{Path: pathKey(path, "tags"), Msg: "want a list of strings, got " + jsonKind(v)}
		}
		seen := map[string]bool{}
		for i, x := range list {
			s, isStr := x.(string)
			switch {
			case !isStr:
				return &Error{Path: pathIndex(pathKey(path, "tags"), i), Msg: "want a string, got " + jsonKind(x)}
			case s == "" || strings.Contains(s, ","):
				return &Error{Path: pathIndex(pathKey(path, "tags"), i), Msg: fmt.Sprintf("tag %q must be non-empty and have no comma", s)}
			case seen[s]:
				return &Error{Path: pathIndex(pathKey(path, "tags"), i), Msg: fmt.Sprintf("duplicate tag %q", s)}
			}
			seen[s] = true
		}
	}
	if v, ok, err := get("name"); err != nil {
		return err
	} else if s, isStr := v.(string); ok && (!isStr || s == "") {
		return &Error{Path: pathKey(path, "name"), Msg: "want a non-empty string, got " + jsonKind(v)}
	}
	if v, ok, err := get("format"); err != nil {
		return err
	} else if _, isStr := v.(string); ok && t == CellRaw && !isStr {
		return &Error{Path: pathKey(path, "format"), Msg: "want a string, got " + jsonKind(v)}
	}
	if t != CellCode {
		return validateJupyterMetadata(path, get)
	}
	if v, ok, err := get("execution"); err != nil {
		return err
	} else if ok {
		obj, isObj := v.(map[string]any)
		if !isObj {
			return &Error{Path: pathKey(path, "execution"), Msg: "want an object, got " + jsonKind(v)}
		}
		for k, x := range obj {
			if _, isStr := x.(string); !isStr {
				return &Error{Path: pathKey(pathKey(path, "execution"), k), Msg: "want a string (an ISO 8601 time), got " + jsonKind(x)}
			}
		}
	}
	if v, ok, err := get("collapsed"); err != nil {
		return err
	} else if _, isBool := v.(bool); ok && !isBool {
		return &Error{Path: pathKey(path, "collapsed"), Msg: "want a boolean, got " + jsonKind(v)}
	}
	if v, ok, err := get("scrolled"); err != nil {
		return err
	} else if _, isBool := v.(bool); ok && !isBool && v != "auto" {
		return &Error{Path: pathKey(path, "scrolled"), Msg: fmt.Sprintf("want true, false or \"auto\", got %s", jsonKind(v))}
	}
	return validateJupyterMetadata(path, get)
}

func validateJupyterMetadata(path string, get func(string) (any, bool, error)) error {
	if v, ok, err := get("jupyter"); err != nil {
		return err
	} else if ok {
		obj, isObj := v.(map[string]any)
		if !isObj {
			return &Error{Path: pathKey(path, "jupyter"), Msg: "want an object, got " + jsonKind(v)}
		}
		for _, k := range []string{"source_hidden", "outputs_hidden"} {
			if x, ok := obj[k]; ok {
				if _, isBool := x.(bool); !isBool {
					return &Error{Path: pathKey(pathKey(path, "jupyter"), k), Msg: "want a boolean, got " + jsonKind(x)}
				}
			}
		}
	}
	return nil
}

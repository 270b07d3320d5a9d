package ipynb

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
)

// Format version written by this package.
const (
	Nbformat      = 4
	NbformatMinor = 5
)

// LoopbookKey is the metadata key under which Loopbook keeps its own data
// (for example recorded loop timelines) in notebook and cell metadata.
const LoopbookKey = "loopbook"

// CellType is the kind of a cell: code, markdown or raw.
type CellType string

// Cell types of nbformat 4.
const (
	CellCode     CellType = "code"
	CellMarkdown CellType = "markdown"
	CellRaw      CellType = "raw"
)

// OutputType is the kind of a code cell output.
type OutputType string

// Output types of nbformat 4.
const (
	OutputStream        OutputType = "stream"
	OutputDisplayData   OutputType = "display_data"
	OutputExecuteResult OutputType = "execute_result"
	OutputError         OutputType = "error"
)

// Stream names allowed in stream outputs.
const (
	StreamStdout = "stdout"
	StreamStderr = "stderr"
)

// Notebook is an nbformat 4 notebook.
type Notebook struct {
	Cells []*Cell
	// Metadata is the notebook metadata (kernelspec, language_info, and any
	// other keys, which are kept as they are).
	Metadata map[string]any
	// Nbformat is the major format version; always 4.
	Nbformat int
	// NbformatMinor is the minor format version; 5 after Read and New.
	NbformatMinor int
}

// Cell is one notebook cell.
type Cell struct {
	// ID is the nbformat 4.5 cell id: 1 to 64 characters of [a-zA-Z0-9-_],
	// unique in the notebook.
	ID   string
	Type CellType
	// Source is the cell text. On disk it is a list of lines.
	Source   string
	Metadata map[string]any
	// ExecutionCount is the In[n] number of a code cell; nil if the cell has
	// not run. Must be nil for markdown and raw cells.
	ExecutionCount *int
	// Outputs of a code cell. Must be empty for markdown and raw cells.
	Outputs []Output
	// Attachments of a markdown or raw cell, as the raw JSON object that maps
	// a file name to a MIME bundle; nil when the cell has none.
	Attachments json.RawMessage
}

// Output is one output of a code cell. Which fields are used depends on Type:
//
//	stream:          Name, Text
//	display_data:    Data, Metadata
//	execute_result:  Data, Metadata, ExecutionCount
//	error:           Ename, Evalue, Traceback
type Output struct {
	Type OutputType
	// Name is the stream name, StreamStdout or StreamStderr.
	Name string
	// Text is the stream text.
	Text string
	// Data is the MIME bundle of display_data and execute_result outputs.
	// For JSON MIME types (see IsJSONMIME) the value is JSON text.
	Data     map[string]string
	Metadata map[string]any
	// ExecutionCount is the Out[n] number of an execute_result.
	ExecutionCount *int
	Ename          string
	Evalue         string
	Traceback      []string
}

// New returns an empty nbformat 4.5 notebook whose metadata declares
// Loopbook's Go kernel.
func New() *Notebook {
	return &Notebook{
		Cells: []*Cell{},
		Metadata: map[string]any{
			"kernelspec": map[string]any{
				"name":         "go",
				"display_name": "Go (Loopbook)",
				"language":     "go",
			},
			"language_info": map[string]any{
				"name":           "go",
				"file_extension": ".go",
				"mimetype":       "text/x-go",
			},
		},
		Nbformat:      Nbformat,
		NbformatMinor: NbformatMinor,
	}
}

// NewCellID returns a random cell id of 8 lowercase hex characters, like
// Jupyter's. Use [Notebook.NewCell] to get an id that is also unique in a
// given notebook.
func NewCellID() string {
	var b [4]byte
	rand.Read(b[:]) // never fails (crypto/rand crashes the program instead)
	return hex.EncodeToString(b[:])
}

// NewCell returns a new cell of type t (not yet added to nb) whose id is
// not used by any cell of nb. Code cells get an empty output list.
func (nb *Notebook) NewCell(t CellType, source string) *Cell {
	c := &Cell{ID: nb.unusedID(nil), Type: t, Source: source, Metadata: map[string]any{}}
	if t == CellCode {
		c.Outputs = []Output{}
	}
	return c
}

// unusedID returns a fresh id that is neither used by a cell of nb nor in
// taken.
func (nb *Notebook) unusedID(taken map[string]bool) string {
	for {
		id := NewCellID()
		if taken[id] {
			continue
		}
		if nb != nil && nb.Cell(id) != nil {
			continue
		}
		return id
	}
}

// Cell returns the cell with the given id, or nil.
func (nb *Notebook) Cell(id string) *Cell {
	for _, c := range nb.Cells {
		if c != nil && c.ID == id {
			return c
		}
	}
	return nil
}

// IsJSONMIME reports whether values of the MIME type are JSON values rather
// than text: application/json and application/*+json.
func IsJSONMIME(mime string) bool {
	return mime == "application/json" ||
		(strings.HasPrefix(mime, "application/") && strings.HasSuffix(mime, "+json"))
}

// GetMetadata decodes md[key] into v, which must be a pointer, as
// encoding/json would. It reports whether the key was present.
func GetMetadata(md map[string]any, key string, v any) (bool, error) {
	x, ok := md[key]
	if !ok {
		return false, nil
	}
	b, err := json.Marshal(x)
	if err != nil {
		return true, fmt.Errorf("metadata %q: %w", key, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return true, fmt.Errorf("metadata %q: %w", key, err)
	}
	return true, nil
}

// SetMetadata stores v in (*md)[key] as a plain JSON tree (the JSON encoding
// of v, decoded again), so that the notebook holds no Go-specific types. It
// allocates the map if *md is nil.
func SetMetadata(md *map[string]any, key string, v any) error {
	tree, err := toTree(v)
	if err != nil {
		return fmt.Errorf("metadata %q: %w", key, err)
	}
	if *md == nil {
		*md = map[string]any{}
	}
	(*md)[key] = tree
	return nil
}

// toTree converts v to a generic JSON tree (numbers as json.Number).
func toTree(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return parseTree(b)
}

// parseTree decodes JSON text into a generic tree with json.Number numbers.
func parseTree(b []byte) (any, error) {
	var raw json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, err // syntax error, trailing data
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var x any
	if err := dec.Decode(&x); err != nil {
		return nil, err
	}
	return x, nil
}

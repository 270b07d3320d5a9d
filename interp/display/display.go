package display

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
)

// Bundle is one output in several representations, keyed by MIME type, as in Jupyter's
// display_data: text types hold the text, binary types (image/png) hold base64.
type Bundle map[string]string

// MIME types a notebook front end understands.
const (
	MIMEText     = "text/plain"
	MIMEHTML     = "text/html"
	MIMEMarkdown = "text/markdown"
	MIMESVG      = "image/svg+xml"
	MIMEPNG      = "image/png"
	MIMEJSON     = "application/json"
)

// Text is plain text.
func Text(s string) Bundle { return Bundle{MIMEText: s} }

// HTML is an HTML fragment. The notebook shows it inside a sandboxed frame.
func HTML(s string) Bundle { return Bundle{MIMEHTML: s, MIMEText: "<HTML>"} }

// Markdown is CommonMark text.
func Markdown(s string) Bundle { return Bundle{MIMEMarkdown: s, MIMEText: s} }

// SVG is an SVG document.
func SVG(s string) Bundle { return Bundle{MIMESVG: s, MIMEText: "<SVG>"} }

// PNG is a PNG image.
func PNG(b []byte) Bundle {
	return Bundle{MIMEPNG: base64.StdEncoding.EncodeToString(b), MIMEText: "<PNG, " + strconv.Itoa(len(b)) + " bytes>"}
}

// JSON is any value that encoding/json can encode; the notebook shows it as a collapsible tree.
// A value that cannot be encoded shows as the error, in text.
func JSON(v any) Bundle {
	b, err := json.Marshal(v)
	if err != nil {
		return Text("display.JSON: " + err.Error())
	}
	pretty, _ := json.MarshalIndent(v, "", "  ")
	return Bundle{MIMEJSON: string(b), MIMEText: string(pretty)}
}

// Handle is a shown output that can be replaced in place.
type Handle struct{ id string }

// ID is the display id, unique within the kernel.
func (h *Handle) ID() string { return h.id }

// Update replaces what the handle shows, wherever it is shown.
func (h *Handle) Update(b Bundle) { publish(Output{ID: h.id, Update: true, Data: b}) }

// Show shows b in the output of the cell running this code and returns a handle to update it.
func Show(b Bundle) *Handle {
	h := &Handle{id: "d" + strconv.FormatUint(nextID.Add(1), 10)}
	publish(Output{ID: h.id, Data: b})
	return h
}

var nextID atomic.Uint64

// Output is what a Publisher receives: a bundle to show, or to put in place of display ID.
type Output struct {
	ID     string
	Update bool
	Data   Bundle
}

// Publisher carries outputs to the notebook. The kernel installs one; it is not visible to cells.
type Publisher func(Output)

var (
	mu        sync.Mutex
	publisher Publisher
)

// SetPublisher installs p (nil restores printing to standard output) and returns the previous one.
func SetPublisher(p Publisher) Publisher {
	mu.Lock()
	defer mu.Unlock()
	prev := publisher
	publisher = p
	return prev
}

func publish(o Output) {
	mu.Lock()
	p := publisher
	mu.Unlock()
	if p != nil {
		p(o)
		return
	}
	fmt.Fprintln(os.Stdout, o.Data[MIMEText])
}

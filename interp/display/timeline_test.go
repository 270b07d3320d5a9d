package display_test

import (
	"encoding/xml"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/loopbook/loopbook/interp/display"
	"github.com/loopbook/loopbook/loop"
)

// svgElem is an element of the timeline with the attributes the tests look at.
type svgElem struct {
	Name  string
	Class string
	Owner string
	Runs  int
	Fill  string
	Title string
}

// parseSVG checks that s is well-formed XML with an svg root and returns its elements.
func parseSVG(t *testing.T, s string) []svgElem {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(s))
	var out []svgElem
	depth := 0
	var open []int // indexes in out of the open elements
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("the timeline is not well-formed XML: %v\n%s", err, s)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if depth == 0 && (tok.Name.Local != "svg" || tok.Name.Space != "http://www.w3.org/2000/svg") {
				t.Fatalf("root element %v, want svg in the SVG namespace", tok.Name)
			}
			depth++
			e := svgElem{Name: tok.Name.Local}
			for _, a := range tok.Attr {
				switch a.Name.Local {
				case "class":
					e.Class = a.Value
				case "data-owner":
					e.Owner = a.Value
				case "data-runs":
					e.Runs, _ = strconv.Atoi(a.Value)
				case "fill":
					e.Fill = a.Value
				}
			}
			out = append(out, e)
			open = append(open, len(out)-1)
		case xml.EndElement:
			depth--
			open = open[:len(open)-1]
		case xml.CharData:
			if len(open) > 1 && out[open[len(open)-1]].Name == "title" {
				parent := open[len(open)-2]
				out[parent].Title += string(tok)
			}
		}
	}
	if depth != 0 || len(out) == 0 {
		t.Fatalf("unbalanced or empty SVG:\n%s", s)
	}
	return out
}

// A loop runs callbacks of two cells and a timer; the timeline draws a bar for every callback
// (neighbours too narrow to tell apart share one, and say how many), coloured by owner, the idle
// poll before the timer, and the timer's mark.
func TestTimelineSVG(t *testing.T) {
	l, err := loop.New()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	spin := func(d time.Duration) func() {
		return func() {
			for start := time.Now(); time.Since(start) < d; {
			}
		}
	}
	for range 3 {
		l.CallSoon(spin(200*time.Microsecond), loop.WithOwner(1), loop.WithName("work"))
	}
	l.CallSoon(spin(100*time.Microsecond), loop.WithOwner(2), loop.WithName("other"))
	l.CallLater(5*time.Millisecond, func() {
		spin(100 * time.Microsecond)()
		l.Stop()
	}, loop.WithOwner(2), loop.WithName("<done & stop>"))
	if err := l.RunForever(); err != nil {
		t.Fatal(err)
	}
	b := display.Timeline(l, 20)
	svg := b[display.MIMESVG]
	if !strings.HasPrefix(b[display.MIMEText], "<loop timeline: iterations ") {
		t.Errorf("text/plain %q", b[display.MIMEText])
	}
	runs := map[string]int{}
	fills := map[string]string{}
	var polls, timers int
	for _, e := range parseSVG(t, svg) {
		switch {
		case e.Class == "run":
			runs[e.Owner] += e.Runs
			if f, ok := fills[e.Owner]; ok && f != e.Fill {
				t.Errorf("owner %s drawn in %s and %s", e.Owner, f, e.Fill)
			}
			fills[e.Owner] = e.Fill
			if e.Runs == 1 && !strings.HasPrefix(e.Title, "In["+e.Owner+"] ") {
				t.Errorf("bar of owner %s titled %q", e.Owner, e.Title)
			}
		case e.Class == "poll":
			polls++
		case e.Class == "mark timer":
			timers++
		}
	}
	if runs["1"] != 3 || runs["2"] != 2 || len(runs) != 2 {
		t.Errorf("callbacks drawn per owner %v, want 1: 3, 2: 2", runs)
	}
	if fills["1"] == fills["2"] {
		t.Errorf("owners 1 and 2 share the colour %s", fills["1"])
	}
	if polls < 1 || timers != 1 {
		t.Errorf("%d polls and %d timer marks drawn, want at least 1 poll and exactly 1 timer", polls, timers)
	}
	if !strings.Contains(svg, "&lt;done &amp; stop&gt;") {
		t.Errorf("the timer's name is not escaped in the picture:\n%s", svg)
	}

	// n limits the iterations drawn.
	one := parseSVG(t, display.Timeline(l, 1)[display.MIMESVG])
	iters := 0
	for _, e := range one {
		if e.Class == "iter" {
			iters++
		}
	}
	if iters != 1 {
		t.Errorf("Timeline(l, 1) drew %d iterations", iters)
	}
}

// A loop that never ran has nothing to draw, and says so in a valid picture.
func TestTimelineEmpty(t *testing.T) {
	l, err := loop.New()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	b := display.Timeline(l, 5)
	parseSVG(t, b[display.MIMESVG])
	if b[display.MIMEText] != "<loop timeline: no iterations>" {
		t.Errorf("text/plain %q", b[display.MIMEText])
	}
}

package interp_test

import (
	"fmt"
	"go/parser"
	"regexp"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	yaegi "github.com/traefik/yaegi/interp"

	"github.com/loopbook/loopbook/interp"
	"github.com/loopbook/loopbook/interp/display"
	"github.com/loopbook/loopbook/interp/symbols"
	"github.com/loopbook/loopbook/loop"
)

// compilePrelude compiles the symbols package's generic helpers into a new interpreter, as the
// kernel does (Options.Setup runs after the symbol tables are loaded).
func compilePrelude(i *yaegi.Interpreter) error {
	for _, f := range symbols.Prelude() {
		file, err := parser.ParseFile(i.FileSet(), f.Name, f.Src, parser.SkipObjectResolution)
		if err != nil {
			return fmt.Errorf("prelude %s: %w", f.Name, err)
		}
		if _, err := i.CompileAST(file); err != nil {
			return fmt.Errorf("prelude %s: %w", f.Name, err)
		}
	}
	return nil
}

// A chunk is one piece of output a cell run owns.
type chunk struct {
	stream string // "stdout", "stderr", "display", "loop", "goroutine"
	text   string
	after  bool // it arrived after the run's Execute returned
}

// notebook runs cells the way the kernel does: one loop (debug mode, virtual time so that
// timers fire at once and in order) running on its own goroutine; each cell a task on it owned
// by its run; the next cell started by a CallSoon at the end of the previous one's task, as the
// kernel's pump does; output collected per owner through Session.CallerOwner.
type notebook struct {
	t *testing.T
	l *loop.Loop
	s *interp.Session

	mu       sync.Mutex
	outs     map[loop.Owner][]chunk
	finished map[loop.Owner]bool
	done     chan struct{}

	// reporting is the run whose leftovers the loop is reporting (see report). Loop goroutine.
	reporting loop.Owner

	// waitGoroutines makes runCells start a cell only when the goroutines of the earlier ones
	// have ended (the fixture's comment says "wait: goroutines").
	waitGoroutines bool
}

// ownerWriter routes what interpreted code prints to the output of the run that owns it.
type ownerWriter struct {
	nb     *notebook
	stream string
}

func (w ownerWriter) Write(p []byte) (int, error) {
	o, _ := w.nb.s.CallerOwner()
	w.nb.add(o, w.stream, string(p))
	return len(p), nil
}

func (nb *notebook) add(o loop.Owner, stream, text string) {
	nb.mu.Lock()
	defer nb.mu.Unlock()
	nb.outs[o] = append(nb.outs[o], chunk{stream: stream, text: text, after: nb.finished[o]})
}

func newNotebook(t *testing.T) *notebook {
	t.Helper()
	nb := &notebook{t: t, outs: map[loop.Owner][]chunk{}, finished: map[loop.Owner]bool{}, done: make(chan struct{})}
	l, err := loop.New(loop.Options{VirtualTime: true, Debug: true, Log: ownerWriter{nb, "loop"}})
	if err != nil {
		t.Fatal(err)
	}
	nb.l = l
	l.SetExceptionHandler(func(_ *loop.Loop, c loop.ExceptionContext) {
		// The message and the error, not c.String(): that adds the Go stack of the panic.
		msg := c.Message
		if c.Err != nil {
			msg += ": " + c.Err.Error()
		}
		o := c.Owner()
		if o == 0 {
			o = nb.reporting // a coroutine never awaited: the report is about the run being reported
		}
		nb.add(o, "loop", msg+"\n")
	})
	nb.s, err = interp.New(interp.Options{
		Loop:    l,
		Stdout:  ownerWriter{nb, "stdout"},
		Stderr:  ownerWriter{nb, "stderr"},
		Exports: symbols.Exports,
		Setup:   compilePrelude,
		OnGoPanic: func(o loop.Owner, e *interp.Error) {
			nb.add(o, "goroutine", strings.Join(e.Traceback(), "\n")+"\n")
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	// Creation sites name cells, as the kernel's hook does (In[n] and the running line).
	l.SetSiteHook(func() *loop.Site {
		o := int(l.CurrentOwner())
		if o == 0 {
			return nil
		}
		site := &loop.Site{File: fmt.Sprintf("In[%d]", o)}
		if count, line, ok := nb.s.Line(); ok && count == o {
			site.Line = line
		}
		return site
	})
	prev := display.SetPublisher(func(out display.Output) {
		o, _ := nb.s.CallerOwner()
		what := "show"
		if out.Update {
			what = "update"
		}
		nb.add(o, "display", what+" "+renderBundle(out.Data)+"\n")
	})
	go func() {
		defer close(nb.done)
		l.RunForever()
	}()
	t.Cleanup(func() {
		display.SetPublisher(prev)
		l.CallSoonThreadSafe(l.Stop)
		<-nb.done
	})
	return nb
}

// runCells runs the cells in order, the next one queued by the end of the previous one's task,
// and returns their results once the last one has finished.
func (nb *notebook) runCells(cells []interp.Cell) []interp.Result {
	results := make([]interp.Result, len(cells))
	all := make(chan struct{})
	var pump func(i int)
	pump = func(i int) {
		if i == len(cells) {
			close(all)
			return
		}
		c := cells[i]
		owner := loop.Owner(c.Count)
		_, err := nb.l.CreateTask(func(co *loop.Co) (any, error) {
			defer func() {
				if r := recover(); r != nil {
					results[i] = interp.Result{Err: &interp.Error{Kind: interp.InternalError, Msg: fmt.Sprintf("Execute panicked: %v\n%s", r, debug.Stack())}}
					nb.l.CallSoon(func() { pump(i + 1) }, loop.WithOwner(0))
				}
			}()
			results[i] = nb.s.Execute(co, c)
			nb.report(owner)
			nb.mu.Lock()
			nb.finished[owner] = true
			nb.mu.Unlock()
			if nb.waitGoroutines {
				// yaegi is not safe against a goroutine still running interpreted code (or
				// unwinding a panic through it) while the next cell compiles: the race
				// detector sees it. Such fixtures start the next cell once they are done.
				go func() {
					for nb.s.Goroutines(0) > 0 {
						time.Sleep(time.Millisecond)
					}
					nb.l.CallSoonThreadSafe(func() { pump(i + 1) }, loop.WithOwner(0))
				}()
				return nil, nil
			}
			nb.l.CallSoon(func() { pump(i + 1) }, loop.WithOwner(0))
			return nil, nil
		}, loop.WithOwner(owner), loop.WithName(fmt.Sprintf("In[%d]", c.Count)))
		if err != nil {
			results[i] = interp.Result{Err: &interp.Error{Kind: interp.InternalError, Msg: err.Error()}}
			close(all)
		}
	}
	nb.l.CallSoonThreadSafe(func() { pump(0) })
	select {
	case <-all:
	case <-time.After(30 * time.Second): // a hang, not a slow cell: fail instead of blocking go test
		nb.t.Fatalf("the cells did not finish")
	}
	return results
}

// report has the loop report what run o left behind that asyncio would warn about when it
// collects garbage (a task exception never retrieved, a coroutine never awaited), as the kernel
// does when a cell returns and when the last work it left ends. Loop goroutine, or a cell's task.
func (nb *notebook) report(o loop.Owner) {
	nb.reporting = o
	nb.l.Report(o)
	nb.reporting = 0
}

// reportAll reports, once the notebook has settled, what every run left behind (for the kernel,
// the moment the last work a run left on the loop ends).
func (nb *notebook) reportAll(cells []interp.Cell) {
	done := make(chan struct{})
	if !nb.l.Inspect(func(*loop.Loop) {
		for _, c := range cells {
			nb.report(loop.Owner(c.Count))
		}
		close(done)
	}) {
		return
	}
	<-done
}

// settle waits until the loop has nothing left to do and no goroutine a cell started is still
// running, so that everything the cells scheduled has printed what it prints.
func (nb *notebook) settle() {
	deadline := time.Now().Add(30 * time.Second) // a hang, not a slow fixture
	for {
		idle := make(chan bool, 1)
		if !nb.l.Inspect(func(l *loop.Loop) {
			sn := l.Snapshot()
			pending := len(sn.Ready) + len(sn.Timers) + len(sn.Watchers)
			for _, ts := range sn.Tasks {
				if ts.State != "done" {
					pending++
				}
			}
			idle <- pending == 0
		}) {
			return // closed
		}
		if <-idle && nb.s.Goroutines(0) == 0 {
			return
		}
		if time.Now().After(deadline) {
			nb.t.Fatalf("the notebook did not settle: work or goroutines are left")
		}
		time.Sleep(time.Millisecond)
	}
}

// render writes what run o produced: the notices, what it printed while it ran, its Out or
// error, then what its callbacks, tasks and goroutines printed after it returned, and the
// panics of its goroutines.
func (nb *notebook) render(o loop.Owner, res interp.Result) string {
	nb.mu.Lock()
	chunks := slices.Clone(nb.outs[o])
	nb.mu.Unlock()
	var b strings.Builder
	for _, n := range res.Notices {
		b.WriteString("notice: " + n + "\n")
	}
	var during, after, gor []chunk
	for _, c := range chunks {
		switch {
		case c.stream == "goroutine":
			gor = append(gor, c)
		case c.after:
			after = append(after, c)
		default:
			during = append(during, c)
		}
	}
	during, after = stamps(during), stamps(after)
	writeStreams(&b, during, "")
	if res.Value != nil {
		b.WriteString(renderOut(res.Value))
	}
	if res.Err != nil {
		for i, line := range res.Err.Traceback() {
			if i == 0 {
				b.WriteString("error: " + line + "\n")
			} else {
				b.WriteString("error|" + line + "\n")
			}
		}
	}
	writeStreams(&b, after, "after ")
	writeStreams(&b, gor, "")
	return b.String()
}

// writeStreams writes chunks as lines: stdout as it is, every other stream's lines prefixed
// with its name. Consecutive chunks of one stream are joined first (a Print without a newline).
func writeStreams(b *strings.Builder, chunks []chunk, prefix string) {
	for i := 0; i < len(chunks); {
		j := i
		var text strings.Builder
		for ; j < len(chunks) && chunks[j].stream == chunks[i].stream; j++ {
			text.WriteString(chunks[j].text)
		}
		s := text.String()
		if !strings.HasSuffix(s, "\n") {
			s += "⏎\n" // no newline at the end: shown, so that a missing one is visible
		}
		for line := range strings.Lines(s) {
			if chunks[i].stream == "stdout" {
				b.WriteString(prefix + line)
			} else {
				b.WriteString(prefix + chunks[i].stream + "| " + line)
			}
		}
		i = j
	}
}

// renderOut shows Out[n]: its text/plain form, and the other MIME types it carries by name.
func renderOut(v display.Bundle) string {
	return "Out: " + renderBundle(v) + "\n"
}

func renderBundle(v display.Bundle) string {
	text := v[display.MIMEText]
	var others []string
	for k := range v {
		if k != display.MIMEText {
			others = append(others, k+"="+v[k])
		}
	}
	sort.Strings(others)
	if len(others) > 0 {
		text += " [" + strings.Join(others, " ") + "]"
	}
	return text
}

// run is a shorthand for tests outside the fixtures: one cell, its rendering.
func (nb *notebook) run(count int, src string) (interp.Result, string) {
	c := interp.Cell{ID: fmt.Sprint("c", count), Count: count, Source: src}
	res := nb.runCells([]interp.Cell{c})[0]
	return res, nb.render(loop.Owner(count), res)
}

// logStamp is the date and time the log package puts before its lines.
var logStamp = regexp.MustCompile(`\d{4}/\d\d/\d\d \d\d:\d\d:\d\d `)

// stamps replaces log timestamps, which change from run to run.
func stamps(chunks []chunk) []chunk {
	out := slices.Clone(chunks)
	for i := range out {
		out[i].text = logStamp.ReplaceAllString(out[i].text, "<date> <time> ")
	}
	return out
}

package server_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/loopbook/loopbook/ipynb"
	"github.com/loopbook/loopbook/server"
)

// Browser tests drive the real UI in headless Chromium against a real server and kernel.
// Without a Chromium binary they skip (or fail, when LOOPBOOK_CI is set).

// chromiumPath finds a Chromium or Chrome binary: $LOOPBOOK_CHROMIUM, then the usual names.
func chromiumPath() string {
	if p := os.Getenv("LOOPBOOK_CHROMIUM"); p != "" {
		if _, err := exec.LookPath(p); err == nil {
			return p
		}
		return ""
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

func needChromium(tb testing.TB) string {
	tb.Helper()
	p := chromiumPath()
	if p == "" {
		msg := "no Chromium found (install it: apt-get install chromium, or set LOOPBOOK_CHROMIUM)"
		if os.Getenv("LOOPBOOK_CI") != "" {
			tb.Fatal(msg)
		}
		tb.Skip("browser tests skipped: " + msg)
	}
	return p
}

// browser is one test's server, notebooks directory and headless Chromium tab.
type browser struct {
	tb    testing.TB
	ctx   context.Context
	url   string
	dir   string
	shots string
	wait  time.Duration

	exceptions *exceptions // what the page threw: any exception fails the test
}

// exceptions collects the uncaught JavaScript exceptions and unhandled promise rejections of
// a test's tabs.
type exceptions struct {
	mu   sync.Mutex
	seen []string
}

// listen is a chromedp listener (it runs on the tab's reader goroutine: it only records).
func (e *exceptions) listen(ev any) {
	t, ok := ev.(*runtime.EventExceptionThrown)
	if !ok || t.ExceptionDetails == nil {
		return
	}
	d := t.ExceptionDetails
	text := d.Text
	if d.Exception != nil && d.Exception.Description != "" {
		text += " " + d.Exception.Description
	}
	e.mu.Lock()
	e.seen = append(e.seen, fmt.Sprintf("%s (%s:%d:%d)", text, d.URL, d.LineNumber+1, d.ColumnNumber+1))
	e.mu.Unlock()
}

// check returns a cleanup that fails the test if a page threw.
func (e *exceptions) check(tb testing.TB) func() {
	return func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		for _, s := range e.seen {
			tb.Errorf("JavaScript exception: %s", s)
		}
	}
}

// newTab opens a second tab in the same browser, watched for exceptions like the first.
func (b *browser) newTab() *browser {
	b.tb.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithListener(b.exceptions.listen))
	b.tb.Cleanup(cancel)
	second := *b
	second.ctx = ctx
	return &second
}

// newBrowser starts a server (temp notebook dir, real kernels) and a headless Chromium with a
// window of w×h CSS pixels.
func newBrowser(tb testing.TB, w, h int) *browser {
	tb.Helper()
	exe := needChromium(tb)
	dir := tb.TempDir()
	shipped := ipynb.New()
	intro := shipped.NewCell(ipynb.CellMarkdown, "# A tour\n\nShipped with Loopbook.")
	intro.ID = "intro"
	shipped.Cells = append(shipped.Cells, intro)
	var buf bytes.Buffer
	if err := ipynb.Write(&buf, shipped); err != nil {
		tb.Fatal(err)
	}
	srv, err := server.New(server.Config{
		NotebookDir: dir,
		Shipped:     fstest.MapFS{"tour.ipynb": {Data: buf.Bytes()}},
		Kernel:      testKernel(),
		CloseGrace:  time.Minute,
	})
	if err != nil {
		tb.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	tb.Cleanup(func() {
		hs.Close()
		srv.Close()
	})

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.DisableGPU,
		chromedp.NoSandbox, // tests may run as root
		chromedp.WindowSize(w, h),
		chromedp.Flag("disable-dev-shm-usage", true),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	b := &browser{tb: tb, url: hs.URL, dir: dir, wait: 30 * time.Second, exceptions: &exceptions{}}
	ctx, cancelCtx := chromedp.NewContext(actx, chromedp.WithListener(b.exceptions.listen))
	b.ctx = ctx
	tb.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
	})
	// Registered after the cleanup above, so it runs before it: with the tab still there.
	tb.Cleanup(b.exceptions.check(tb))
	b.shots = os.Getenv("LOOPBOOK_SCREENSHOTS")
	if b.shots == "" {
		b.shots = filepath.Join(dir, "screenshots")
	}
	b.do(chromedp.EmulateViewport(int64(w), int64(h)))
	return b
}

// do runs actions, failing the test on an error.
func (b *browser) do(steps ...chromedp.Action[chromedp.Void]) {
	b.tb.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.tb.Fatal(err)
	}
}

// eval evaluates a JavaScript expression.
func eval[T any](b *browser, js string) T {
	b.tb.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](js))
	if err != nil {
		b.tb.Fatalf("evaluating %s: %v", js, err)
	}
	return v
}

// waitJS waits until the expression is truthy; what describes it for the failure message.
func (b *browser) waitJS(what, js string) {
	b.tb.Helper()
	deadline := time.Now().Add(b.wait)
	for {
		err := chromedp.Do(b.ctx, chromedp.Poll[chromedp.Void](js,
			chromedp.WithPollingInterval(10*time.Millisecond), chromedp.WithPollingTimeout(time.Until(deadline))))
		if err == nil {
			return
		}
		// A poll does not survive a navigation: poll again in the new page.
		if strings.Contains(err.Error(), "navigated") || strings.Contains(err.Error(), "context") && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		b.tb.Fatalf("waiting for %s (%s): %v\npage: %s", what, js, err, b.describe())
	}
}

// describe summarises the page for failure messages.
func (b *browser) describe() string {
	s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(() => {
		const cells = [...document.querySelectorAll(".cell")].map(c =>
			c.dataset.id + " " + c.dataset.type + (c.classList.contains("selected") ? " [sel]" : "") +
			" prompt=" + (c.querySelector(".prompt")?.textContent || "") +
			" src=" + JSON.stringify(c.querySelector(".cm-content")?.innerText || "") +
			" out=" + JSON.stringify((c.querySelector(".outputs")?.innerText || "").slice(-300)));
		return "mode=" + document.body.dataset.mode + " kernel=" + document.body.dataset.kernel +
			" conn=" + document.body.dataset.connection + " focus=" + document.hasFocus() +
			" active=" + (document.activeElement?.className || document.activeElement?.tagName) + "\n" + cells.join("\n");
	})()`))
	if err != nil {
		return "(" + err.Error() + ")"
	}
	return s
}

// notebook writes a notebook with code cells c0, c1, … into the notebooks directory.
func (b *browser) notebook(name string, cells ...string) {
	b.tb.Helper()
	nb := ipynb.New()
	for i, src := range cells {
		t := ipynb.CellCode
		if rest, ok := strings.CutPrefix(src, "md:"); ok {
			t, src = ipynb.CellMarkdown, rest
		}
		c := nb.NewCell(t, src)
		c.ID = fmt.Sprintf("c%d", i)
		nb.Cells = append(nb.Cells, c)
	}
	if err := ipynb.WriteFile(filepath.Join(b.dir, name), nb); err != nil {
		b.tb.Fatal(err)
	}
}

// open loads a notebook page and waits for its state and an idle kernel.
func (b *browser) open(name string) {
	b.tb.Helper()
	b.do(chromedp.Navigate(b.url + "/nb/" + name))
	b.waitJS("the notebook to load", `document.body.dataset.loaded === "true"`)
	b.waitJS("an idle kernel", `document.body.dataset.kernel === "idle"`)
}

// cell is a CSS selector for the cell with an id.
func cell(id string) string { return fmt.Sprintf(`.cell[data-id=%q]`, id) }

// jsCell is a JavaScript expression for the cell element with an id.
func jsCell(id string) string { return fmt.Sprintf(`document.querySelector(%q)`, cell(id)) }

// edit puts the cursor at the end of a cell's editor.
func (b *browser) edit(id string) {
	b.tb.Helper()
	b.do(chromedp.Click(chromedp.CSS(cell(id) + " .cm-content")))
	b.waitJS("edit mode", `document.body.dataset.mode === "edit"`)
	b.key("End", chromedp.ModifierCtrl)
}

// typeText inserts text at the cursor, as typing would (without auto-closed brackets).
func (b *browser) typeText(text string) {
	b.tb.Helper()
	b.do(chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, input.InsertText, input.InsertTextParams{Text: text})
		return err
	}))
}

// key presses one key (a name such as "Enter", "Escape", "ArrowDown", or a character) with
// modifiers, as a real keyboard does: a keyDown carrying the text (so a handler that prevents
// the keydown also prevents the typing, which chromedp.KeyEvent's separate char event would
// not), then a keyUp.
func (b *browser) key(k string, mods ...chromedp.Modifier) {
	b.tb.Helper()
	keys := map[string]string{"Enter": "\r", "Escape": "\u001b", "ArrowUp": "\u0304", "ArrowDown": "\u0301", "End": "\u0305", "Home": "\u0306"}
	if v, ok := keys[k]; ok {
		k = v
	}
	var m int64
	for _, mod := range mods {
		m |= int64(mod)
	}
	b.do(chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		for _, r := range k {
			evs := kb.Encode(r)
			var text string
			for _, e := range evs {
				if e.Type == kb.KeyChar {
					text = e.Text
				}
			}
			for _, e := range evs {
				if e.Type == kb.KeyChar {
					continue
				}
				e.Modifiers |= m
				if e.Type == kb.KeyDown || e.Type == kb.KeyRawDown {
					e.Type = kb.KeyDown
					if m&^int64(chromedp.ModifierShift) == 0 {
						e.Text, e.UnmodifiedText = text, text
					} else {
						e.Text, e.UnmodifiedText = "", ""
					}
				}
				if _, err := chromedp.Call(ctx, input.DispatchKeyEvent, *e); err != nil {
					return err
				}
			}
		}
		return nil
	}))
}

// commandMode leaves the editor.
func (b *browser) commandMode() {
	b.tb.Helper()
	b.key("Escape")
	b.waitJS("command mode", `document.body.dataset.mode === "command"`)
}

// outputText is the text of a cell's outputs.
func (b *browser) outputText(id string) string {
	b.tb.Helper()
	return eval[string](b, jsCell(id)+`.querySelector(".outputs").innerText`)
}

// waitOutput waits until a cell's outputs contain text.
func (b *browser) waitOutput(id, text string) {
	b.tb.Helper()
	b.waitJS(fmt.Sprintf("%q in the output of %s", text, id),
		fmt.Sprintf(`(%s?.querySelector(".outputs")?.innerText || "").includes(%q)`, jsCell(id), text))
}

// waitPrompt waits until a cell's prompt reads want (e.g. "In [1]:").
func (b *browser) waitPrompt(id, want string) {
	b.tb.Helper()
	b.waitJS(fmt.Sprintf("prompt %q on %s", want, id),
		fmt.Sprintf(`%s?.querySelector(".prompt")?.textContent === %q`, jsCell(id), want))
}

// setColorScheme emulates prefers-color-scheme.
func (b *browser) setColorScheme(scheme string) {
	b.tb.Helper()
	b.do(chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
		})
		return err
	}))
}

// screenshot saves a PNG of the viewport under the screenshots directory and returns its path.
func (b *browser) screenshot(name string) string {
	b.tb.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.tb.Fatal(err)
	}
	if err := os.MkdirAll(b.shots, 0o755); err != nil {
		b.tb.Fatal(err)
	}
	p := filepath.Join(b.shots, name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.tb.Fatal(err)
	}
	b.tb.Logf("screenshot: %s", p)
	return p
}

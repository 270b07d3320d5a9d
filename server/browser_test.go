package server_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/loopbook/loopbook/ipynb"
)

// These tests drive the UI in headless Chromium: they type, press Jupyter's keys and read the
// DOM, against a real server and real kernels. They never assert timings; the huge-output test
// and BenchmarkBrowserRoundTrip log what they measure.

const (
	shift = chromedp.ModifierShift
	ctrl  = chromedp.ModifierCtrl
)

// selectedIndex is a JS expression: the index of the selected cell.
const selectedIndex = `[...document.querySelectorAll(".cell")].findIndex(c => c.classList.contains("selected"))`

func TestBrowserRunCell(t *testing.T) {
	b := newBrowser(t, 1280, 800)
	b.notebook("run.ipynb", "")
	b.open("run.ipynb")

	b.edit("c0")
	src := "fmt.Println(\"hello\")\n40 + 2"
	b.typeText(src)
	b.key("Enter", shift)
	b.waitPrompt("c0", "In [1]:")
	b.waitOutput("c0", "hello")
	b.waitJS("Out[1]: 42", jsCell("c0")+`.querySelector(".output-result")?.innerText.replace(/\s+/g, " ").trim() === "Out[1]: 42"`)
	b.waitJS("the run's time", jsCell("c0")+`.querySelector(".cell-status").innerText.startsWith("✓")`)

	// Shift-Enter on the last cell adds a cell below and edits it.
	b.waitJS("a new cell below, in edit mode", `document.querySelectorAll(".cell").length === 2 && `+selectedIndex+` === 1 && document.body.dataset.mode === "edit"`)
	if got := eval[string](b, jsCell("c0")+`.querySelector(".cm-content").innerText`); got != src {
		t.Errorf("source after Shift-Enter = %q, want %q", got, src)
	}

	// What was typed is in the file.
	b.waitJS("saved", `document.querySelector(".save-status").dataset.state === "saved"`)
	nb, err := ipynb.ReadFile(filepath.Join(b.dir, "run.ipynb"))
	if err != nil {
		t.Fatal(err)
	}
	if len(nb.Cells) != 2 || nb.Cells[0].Source != src {
		t.Errorf("file: %d cells, first source %q; want 2 cells, %q", len(nb.Cells), nb.Cells[0].Source, src)
	}
}

func TestBrowserLateOutput(t *testing.T) {
	b := newBrowser(t, 1280, 800)
	b.notebook("late.ipynb",
		"L.CallLater(1500*time.Millisecond, func() { fmt.Println(\"from the timer\") })\nfmt.Println(\"the cell returned\")",
		"1 + 1")
	b.open("late.ipynb")

	b.edit("c0")
	b.key("Enter", shift) // runs c0, selects c1
	b.waitPrompt("c0", "In [1]:")
	b.waitOutput("c0", "the cell returned")
	b.waitJS("the owned-timer badge", jsCell("c0")+`.querySelector(".owned")?.innerText.includes("1 timer")`)

	// Another cell runs meanwhile; the timer's output must still go to c0.
	b.key("Enter", shift)
	b.waitPrompt("c1", "In [2]:")
	b.waitOutput("c1", "2")
	b.waitOutput("c0", "from the timer")
	if out := b.outputText("c1"); strings.Contains(out, "from the timer") {
		t.Errorf("the timer's output went to c1 too: %q", out)
	}
	b.waitJS("the badge to go", jsCell("c0")+`.querySelector(".owned") === null`)
}

func TestBrowserCommandKeys(t *testing.T) {
	b := newBrowser(t, 1280, 800)
	b.notebook("keys.ipynb", "a := 1", "b := 2")
	b.open("keys.ipynb")
	b.edit("c0")
	b.commandMode()

	count := `document.querySelectorAll(".cell").length`
	selType := `document.querySelector(".cell.selected").dataset.type`
	step := func(what string, keys []string, cond string) {
		t.Helper()
		for _, k := range keys {
			b.key(k)
		}
		b.waitJS(what, cond)
	}
	step("B inserts below", []string{"b"}, count+` === 3 && `+selectedIndex+` === 1`)
	step("A inserts above", []string{"a"}, count+` === 4 && `+selectedIndex+` === 1`)
	step("D D deletes", []string{"d", "d"}, count+` === 3 && `+selectedIndex+` === 1`)
	step("Z undoes the delete", []string{"z"}, count+` === 4 && `+selectedIndex+` === 1`)
	step("M makes Markdown", []string{"m"}, selType+` === "markdown"`)
	step("Y makes code", []string{"y"}, selType+` === "code"`)
	step("K selects up", []string{"k"}, selectedIndex+` === 0`)
	step("J selects down", []string{"j"}, selectedIndex+` === 1`)
	step("K again", []string{"k"}, selectedIndex+` === 0`)
	step("C V copies below", []string{"c", "v"}, count+` === 5 && `+selectedIndex+` === 1 && `+
		`document.querySelectorAll(".cell")[1].querySelector(".cm-content").innerText === "a := 1"`)
	step("X cuts", []string{"x"}, count+` === 4`)
	step("Enter edits", []string{"Enter"}, `document.body.dataset.mode === "edit"`)
	b.commandMode()

	// The server has the same cells, in the same order.
	b.waitJS("saved", `document.querySelector(".save-status").dataset.state === "saved"`)
	nb, err := ipynb.ReadFile(filepath.Join(b.dir, "keys.ipynb"))
	if err != nil {
		t.Fatal(err)
	}
	var page []string
	for _, s := range eval[[]string](b, `[...document.querySelectorAll(".cell")].map(c => c.dataset.id)`) {
		page = append(page, s)
	}
	var file []string
	for _, c := range nb.Cells {
		file = append(file, c.ID)
	}
	if !slices.Equal(page, file) {
		t.Errorf("cells on the page %v, in the file %v", page, file)
	}
}

func TestBrowserInterrupt(t *testing.T) {
	b := newBrowser(t, 1280, 800)
	b.notebook("spin.ipynb", "for {\n}", "1 + 1")
	b.open("spin.ipynb")
	b.edit("c0")
	b.key("Enter", shift)
	b.waitPrompt("c0", "In [*]:")
	b.waitJS("kernel busy", `document.body.dataset.kernel === "busy"`)

	b.key("i")
	b.key("i")
	b.waitJS("the spinning cell to stop", jsCell("c0")+`.querySelector(".prompt").textContent === "In [1]:"`)
	b.waitJS("an idle kernel", `document.body.dataset.kernel === "idle"`)
	t.Logf("after the interrupt, c0 shows %q", b.outputText("c0"))

	// The kernel still works.
	b.key("Enter", ctrl) // c1 is selected
	b.waitJS("Out for c1", jsCell("c1")+`.querySelector(".output-result")?.innerText.includes("2")`)
}

func TestBrowserRestart(t *testing.T) {
	b := newBrowser(t, 1280, 800)
	b.notebook("restart.ipynb", "x := 41", "x + 1")
	b.open("restart.ipynb")
	b.edit("c0")
	b.key("Enter", shift)
	b.waitPrompt("c0", "In [1]:")
	b.key("Enter", ctrl) // c1
	b.waitJS("Out[2]: 42", jsCell("c1")+`.querySelector(".output-result")?.innerText.includes("42")`)

	b.key("0")
	b.key("0")
	b.waitJS("the restart notice", `[...document.querySelectorAll(".toast")].some(t => t.textContent.includes("restarted"))`)
	b.waitJS("an idle kernel", `document.body.dataset.kernel === "idle"`)

	// x is gone with the old kernel.
	b.key("Enter", ctrl)
	b.waitJS("an error in c1", jsCell("c1")+`.querySelector(".output-error")?.innerText.includes("x")`)
	t.Logf("after the restart, c1 shows %q", b.outputText("c1"))
}

func TestBrowserMarkdown(t *testing.T) {
	b := newBrowser(t, 1280, 800)
	b.notebook("md.ipynb", "")
	b.open("md.ipynb")
	b.edit("c0")
	b.commandMode()
	b.key("m")
	b.waitJS("a Markdown cell", jsCell("c0")+`.dataset.type === "markdown"`)
	b.key("Enter")
	b.waitJS("edit mode", `document.body.dataset.mode === "edit"`)
	b.typeText("# Title\n\nSome *emphasis*, `code` and <b>raw html</b>.\n\n```go\nfunc f() {}\n```")
	b.key("Enter", shift)

	r := jsCell("c0") + `.querySelector(".rendered")`
	b.waitJS("the rendered heading", r+`.querySelector("h1")?.textContent === "Title"`)
	if !eval[bool](b, r+`.querySelector("em")?.textContent === "emphasis"`) {
		t.Error("no <em> in the rendered Markdown")
	}
	if eval[bool](b, r+`.querySelector("b") !== null`) || !eval[bool](b, r+`.textContent.includes("<b>raw html</b>")`) {
		t.Error("raw HTML in Markdown was rendered as HTML, want it shown as text")
	}
	if !eval[bool](b, r+`.querySelector("pre code .tok-keyword")?.textContent === "func"`) {
		t.Error("the Go code block is not highlighted")
	}
	// Double-click edits again.
	b.do(chromedp.DoubleClick(chromedp.CSS(cell("c0") + " .rendered h1")))
	b.waitJS("the editor again", `document.body.dataset.mode === "edit" && !`+jsCell("c0")+`.querySelector(".editor-host").hidden`)
}

func TestBrowserHTMLOutputSandboxed(t *testing.T) {
	b := newBrowser(t, 1280, 800)
	b.notebook("html.ipynb",
		`display.HTML("<p id=\"inside\">inside the frame</p><script>parent.document.title = 'escaped'</script>")`,
		"display.SVG(`<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"40\" height=\"20\"><rect width=\"40\" height=\"20\" fill=\"teal\"/></svg>`)")
	b.open("html.ipynb")

	// Run all from the command palette.
	b.edit("c0")
	b.key("p", ctrl, shift)
	b.waitJS("the palette", `document.querySelector(".palette-input") === document.activeElement`)
	b.typeText("run all cells")
	b.key("Enter")

	f := jsCell("c0") + `.querySelector("iframe.html-frame")`
	b.waitJS("the HTML frame", f+` !== null && `+f+`.srcdoc.includes("inside the frame")`)
	if got := eval[string](b, f+`.getAttribute("sandbox")`); got != "allow-scripts" {
		t.Errorf("sandbox = %q, want \"allow-scripts\" (and never allow-same-origin)", got)
	}
	if !eval[bool](b, f+`.contentDocument === null`) {
		t.Error("the page can reach into the HTML frame: it is not an opaque origin")
	}
	if eval[bool](b, `document.querySelector("#inside") !== null`) {
		t.Error("the HTML output is in the page itself")
	}
	if got := eval[string](b, `document.title`); got == "escaped" {
		t.Error("a script in an HTML output changed the page")
	}
	t.Logf("frame height: %q (sized by frame.js when the page CSP allows its hash)", eval[string](b, f+`.style.height`))

	img := jsCell("c1") + `.querySelector("img.out-image")`
	b.waitJS("the SVG as an image", img+` !== null`)
	if !eval[bool](b, img+`.src.startsWith("data:image/svg+xml")`) || eval[bool](b, `document.querySelector(".outputs svg") !== null`) {
		t.Error("the SVG output is not an <img> from a data URL")
	}
}

func TestBrowserErrorLink(t *testing.T) {
	b := newBrowser(t, 1280, 800)
	b.notebook("err.ipynb", "// a helper\nfunc boom() {\n\tpanic(\"boom\")\n}", "boom()")
	b.open("err.ipynb")
	b.do(chromedp.Click(chromedp.CSS(`[data-command="run-all"]`)))
	b.waitOutput("c1", "boom")
	t.Logf("traceback: %q", b.outputText("c1"))

	link := `[...document.querySelectorAll(".cell[data-id=c1] a.loc")].find(a => a.textContent.startsWith("In[1]:3"))`
	b.waitJS("a link to In[1]:3", link+` !== undefined`)
	b.do(chromedp.Click(chromedp.JSPath(link)))
	b.waitJS("the cursor on line 3 of c0",
		`document.body.dataset.mode === "edit" && `+jsCell("c0")+`.classList.contains("selected") && `+
			`[...`+jsCell("c0")+`.querySelectorAll(".cm-line")].findIndex(l => l.classList.contains("cm-activeLine")) === 2`)
}

func TestBrowserReloadKeepsState(t *testing.T) {
	b := newBrowser(t, 1280, 800)
	b.notebook("reload.ipynb", "for i := 0; i < 30; i++ {\n\tfmt.Println(\"tick\", i)\n\ttime.Sleep(100 * time.Millisecond)\n}", "md:*notes*")
	b.open("reload.ipynb")
	b.edit("c0")
	b.key("Enter", ctrl)
	b.waitOutput("c0", "tick 3")

	b.do(chromedp.Reload())
	b.waitJS("the notebook to load", `document.body.dataset.loaded === "true"`)
	if got := eval[string](b, jsCell("c0")+`.querySelector(".prompt").textContent`); got != "In [*]:" {
		t.Errorf("after the reload the running cell's prompt is %q, want In [*]:", got)
	}
	if out := b.outputText("c0"); !strings.Contains(out, "tick 0") || !strings.Contains(out, "tick 3") {
		t.Errorf("after the reload the running cell shows %q, want its earlier output", out)
	}
	b.waitOutput("c0", "tick 29") // and the rest arrives live
	b.waitPrompt("c0", "In [1]:")

	// A second tab shows the same.
	second := b.newTab()
	second.open("reload.ipynb")
	state := `[...document.querySelectorAll(".cell")].map(c => c.dataset.id + "|" + c.querySelector(".prompt").textContent + "|" + c.querySelector(".outputs").innerText).join("\n")`
	if one, two := eval[string](b, state), eval[string](second, state); one != two {
		t.Errorf("the tabs differ:\nfirst:\n%s\nsecond:\n%s", one, two)
	}
}

func TestBrowserHugeOutput(t *testing.T) {
	b := newBrowser(t, 1280, 800)
	b.wait = 3 * time.Minute
	const lines = 200000
	b.notebook("huge.ipynb", fmt.Sprintf("for i := 0; i < %d; i++ {\n\tfmt.Println(\"line\", i)\n}", lines), "1 + 1")
	b.open("huge.ipynb")
	b.edit("c0")

	start := time.Now()
	b.key("Enter", shift)
	b.waitOutput("c0", fmt.Sprintf("line %d", lines-1))
	shown := time.Since(start)
	b.waitPrompt("c0", "In [1]:")
	done := time.Since(start)

	// The page still answers: a frame is drawn, and the next cell runs.
	t0 := time.Now()
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[float64](`new Promise(r => requestAnimationFrame(() => r(performance.now())))`, chromedp.EvalAwaitPromise)); err != nil {
		t.Fatal(err)
	}
	frame := time.Since(t0)
	t1 := time.Now()
	b.key("Enter", shift) // c1 is selected
	b.waitJS("Out for c1", jsCell("c1")+`.querySelector(".output-result")?.innerText.includes("2")`)
	next := time.Since(t1)
	rendered := eval[int](b, jsCell("c0")+`.querySelector("pre.stream").textContent.split("\n").length`)
	t.Logf("%d lines: last line shown after %v, cell done after %v; then a frame in %v, the next cell's Out in %v; %d lines in the DOM",
		lines, shown.Round(time.Millisecond), done.Round(time.Millisecond), frame.Round(time.Millisecond), next.Round(time.Millisecond), rendered)

	bar := jsCell("c0") + `.querySelector(".trunc")`
	b.waitJS("the truncation bar", bar+` && !`+bar+`.hidden && `+bar+`.innerText.includes("earlier lines")`)
	b.do(chromedp.Click(chromedp.JSPath(`[...` + bar + `.querySelectorAll("button")].find(x => x.textContent === "show more")`)))
	if more := eval[int](b, jsCell("c0")+`.querySelector("pre.stream").textContent.split("\n").length`); more <= rendered {
		t.Errorf("show more: %d lines, before %d", more, rendered)
	}

	// The kernel keeps the head and the tail of a flood and drops the middle: the page says so
	// above the outputs, and offers what was kept.
	cut := jsCell("c0") + `.querySelector(".output-cut")`
	b.waitJS("the note that the middle was dropped", cut+` && !`+cut+`.hidden && `+cut+`.innerText.includes("dropped about")`)
	t.Logf("the page says: %q", eval[string](b, cut+`.innerText`))
	b.screenshot("huge-output")

	// "download full text" (the stream's bar) and "download the kept text" (the note) both get
	// the cell's text from the server: everything that was kept, in order, saying at the top
	// and at the place that the middle is missing.
	for _, button := range []string{
		`[...` + bar + `.querySelectorAll("button")].find(x => x.textContent === "download full text")`,
		`[...` + cut + `.querySelectorAll("button")].find(x => x.textContent === "download the kept text")`,
	} {
		text := b.download(button, "huge-In1-output.txt")
		got := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
		if !strings.HasPrefix(got[0], "[loopbook] In[1] of huge.ipynb printed about") || !strings.Contains(got[0], "dropped") {
			t.Errorf("the download's first line %q does not say the middle was dropped", got[0])
		}
		if !strings.Contains(text, "\nline 0\nline 1\n") || !strings.Contains(text, "of output elided: the cell printed") {
			t.Errorf("the download lacks the head or the kernel's note")
		}
		if last := got[len(got)-1]; last != fmt.Sprintf("line %d", lines-1) {
			t.Errorf("the download ends with %q", last)
		}
		if len(got) <= rendered {
			t.Errorf("downloaded %d lines, no more than the %d shown", len(got), rendered)
		}
		t.Logf("downloaded %d lines, %d bytes", len(got), len(text))
	}

	// A reload shows the same.
	b.do(chromedp.Reload())
	b.waitJS("the notebook to load", `document.body.dataset.loaded === "true"`)
	b.waitJS("the note after a reload", cut+` && !`+cut+`.hidden && `+cut+`.innerText.includes("dropped about")`)
}

// download clicks the element a JS expression finds, waits for the file it downloads (named
// name) and returns its content.
func (b *browser) download(js, name string) string {
	b.tb.Helper()
	dl := b.tb.TempDir()
	b.do(chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.CallBrowser(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
			Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dl})
		return err
	}))
	b.do(chromedp.Click(chromedp.JSPath(js)))
	p := filepath.Join(dl, name)
	var last []byte
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		partial, _ := filepath.Glob(filepath.Join(dl, "*.crdownload"))
		got, err := os.ReadFile(p)
		if err == nil && len(partial) == 0 && len(got) > 0 && len(got) == len(last) {
			return string(got) // stable
		}
		last = got
	}
	files, _ := filepath.Glob(filepath.Join(dl, "*"))
	b.tb.Fatalf("no download %s (the directory has %v)", name, files)
	return ""
}

// A notebook with one of each kind of output, for the theme and layout screenshots.
var showcase = []string{
	"md:# Loopbook\n\nA *notebook* with `Go` cells on **one shared event loop**.\n\n```go\nL.CallLater(time.Second, func() { fmt.Println(\"tick\") })\n```",
	"type point struct{ X, Y int }\nfmt.Println(\"hello from stdout\")\npoint{1, 2}",
	"display.JSON(map[string]any{\"tasks\": 2, \"timers\": []int{10, 20}, \"name\": \"demo\"})",
	"L.CallLater(time.Hour, func() {})\ndisplay.Show(display.Markdown(\"**rendered** markdown output\"))",
	"func boom() {\n\tpanic(\"boom\")\n}\nboom()",
}

func TestBrowserThemes(t *testing.T) {
	b := newBrowser(t, 1280, 800)
	b.notebook("themes.ipynb", showcase...)
	b.open("themes.ipynb")
	b.do(chromedp.Click(chromedp.CSS(`[data-command="run-all"]`)))
	b.waitOutput("c4", "boom")
	bg := `getComputedStyle(document.body).backgroundColor`
	b.setColorScheme("light")
	light := eval[string](b, bg)
	b.screenshot("theme-light")
	b.setColorScheme("dark")
	dark := eval[string](b, bg)
	b.screenshot("theme-dark")
	if light == dark {
		t.Errorf("the background is %s in both themes", light)
	}
	if !eval[bool](b, `(([r, g, b]) => r + g + b < 200)(`+bg+`.match(/\d+/g).map(Number))`) {
		t.Errorf("dark theme background %s is not dark", dark)
	}
	t.Logf("background: light %s, dark %s", light, dark)
}

func TestBrowserLayout(t *testing.T) {
	b := newBrowser(t, 1280, 800)
	b.notebook("layout.ipynb", showcase...)
	b.open("layout.ipynb")
	b.do(chromedp.Click(chromedp.CSS(`[data-command="run-all"]`)))
	b.waitOutput("c4", "boom")
	b.setColorScheme("light")
	b.screenshot("layout-1280x800")

	b.do(chromedp.EmulateViewport(400, 800))
	b.waitJS("the narrow layout", `innerWidth === 400`)
	b.screenshot("layout-400x800")
	if w := eval[int](b, `document.documentElement.scrollWidth`); w > 400 {
		t.Errorf("at 400 px the page is %d px wide: it scrolls sideways", w)
	}
	if !eval[bool](b, `(c => c.scrollWidth <= c.clientWidth)(document.querySelector(".cells"))`) {
		t.Error("at 400 px the cells scroll sideways")
	}
}

func TestBrowserStartPage(t *testing.T) {
	b := newBrowser(t, 1280, 800)
	b.notebook("mine.ipynb", "1")
	b.do(chromedp.Navigate(b.url + "/"))
	b.waitJS("my notebook listed", `document.querySelector('.mine li[data-path="mine.ipynb"]') !== null`)
	b.waitJS("the shipped notebook listed", `document.querySelector('.shipped .nb-open[data-path="tour.ipynb"]') !== null`)
	b.screenshot("start-page")
	row := func(path string) string { return fmt.Sprintf(`document.querySelector('.mine li[data-path=%q]')`, path) }
	action := func(path, label string) string {
		return fmt.Sprintf(`[...%s.querySelectorAll(".nb-actions button, .nb-actions a")].find(x => x.textContent === %q)`, row(path), label)
	}
	exists := func(name string) bool {
		_, err := os.Stat(filepath.Join(b.dir, name))
		return err == nil
	}

	// Rename: a dialog asks for the new name, with the name without .ipynb selected.
	b.do(chromedp.Click(chromedp.JSPath(action("mine.ipynb", "rename"))))
	b.waitJS("the rename dialog", `document.querySelector("dialog .dialog-input") === document.activeElement`)
	b.typeText("renamed")
	b.key("Enter")
	b.waitJS("the renamed notebook", row("renamed.ipynb")+` !== null && `+row("mine.ipynb")+` === null`)
	if exists("mine.ipynb") || !exists("renamed.ipynb") {
		t.Error("rename: the files are not renamed.ipynb alone")
	}

	// Duplicate.
	b.do(chromedp.Click(chromedp.JSPath(action("renamed.ipynb", "duplicate"))))
	b.waitJS("the copy", row("renamed copy.ipynb")+` !== null`)
	if orig, err1 := os.ReadFile(filepath.Join(b.dir, "renamed.ipynb")); err1 != nil || !exists("renamed copy.ipynb") {
		t.Errorf("duplicate: %v", err1)
	} else if cp, _ := os.ReadFile(filepath.Join(b.dir, "renamed copy.ipynb")); string(cp) != string(orig) {
		t.Error("duplicate: the copy differs from the original")
	}

	// Delete asks first.
	b.do(chromedp.Click(chromedp.JSPath(action("renamed copy.ipynb", "delete"))))
	b.waitJS("the confirmation", `document.querySelector("dialog .btn.primary")?.textContent === "Delete"`)
	b.do(chromedp.Click(chromedp.CSS(`dialog .btn.primary`)))
	b.waitJS("the copy gone", row("renamed copy.ipynb")+` === null`)
	if exists("renamed copy.ipynb") {
		t.Error("delete: the file is still there")
	}

	// Download gives the file's bytes.
	got := b.download(action("renamed.ipynb", "download"), "renamed.ipynb")
	if want, _ := os.ReadFile(filepath.Join(b.dir, "renamed.ipynb")); got != string(want) {
		t.Errorf("download: %d bytes, the file has %d", len(got), len(want))
	}

	// Upload: the file picker's file is stored (under a free name) and listed.
	up := filepath.Join(t.TempDir(), "uploaded.ipynb")
	if err := os.WriteFile(up, []byte(got), 0o644); err != nil {
		t.Fatal(err)
	}
	b.do(chromedp.SetUploadFiles(chromedp.CSS(`input[type=file]`), []string{up}))
	b.waitJS("the uploaded notebook", row("uploaded.ipynb")+` !== null`)
	if stored, err := os.ReadFile(filepath.Join(b.dir, "uploaded.ipynb")); err != nil || string(stored) != got {
		t.Errorf("upload: stored %d bytes (%v), want the %d uploaded", len(stored), err, len(got))
	}

	// New notebook: a dialog asks for the name.
	b.do(chromedp.Click(chromedp.CSS(`[data-action="new"]`)))
	b.waitJS("the name dialog", `document.querySelector("dialog .dialog-input") === document.activeElement`)
	b.typeText("fresh")
	b.key("Enter")
	b.waitJS("the new notebook", `location.pathname === "/nb/fresh.ipynb" && document.body.dataset.loaded === "true"`)
	if !exists("fresh.ipynb") {
		t.Error("new: no fresh.ipynb")
	}

	// A shipped notebook opens as an editable copy in the notebooks directory; edits go to the
	// copy, and opening the shipped notebook again finds them.
	b.do(chromedp.Navigate(b.url + "/"))
	b.do(chromedp.Click(chromedp.CSS(`.shipped .nb-open[data-path="tour.ipynb"]`)))
	b.waitJS("the copy", `location.pathname === "/nb/tour.ipynb" && document.body.dataset.loaded === "true"`)
	if ro := eval[bool](b, `!document.querySelector(".banner").hidden`); ro {
		t.Error("the copy of a shipped notebook is read-only")
	}
	b.do(chromedp.DoubleClick(chromedp.CSS(cell("intro") + " .rendered h1")))
	b.waitJS("editing the intro", `document.body.dataset.mode === "edit"`)
	b.key("End", ctrl)
	b.typeText(" My notes.")
	b.commandMode()
	b.waitJS("saved", `document.querySelector(".save-status").dataset.state === "saved"`)
	nb, err := ipynb.ReadFile(filepath.Join(b.dir, "tour.ipynb"))
	if err != nil || !strings.HasSuffix(nb.Cells[0].Source, "My notes.") {
		t.Fatalf("the copy: %v %+v", err, nb)
	}
	b.do(chromedp.Navigate(b.url + "/"))
	b.do(chromedp.Click(chromedp.CSS(`.shipped .nb-open[data-path="tour.ipynb"]`)))
	b.waitJS("the copy again", `location.pathname === "/nb/tour.ipynb" && document.body.dataset.loaded === "true"`)
	b.waitJS("with the edit", jsCell("intro")+`.querySelector(".rendered").innerText.includes("My notes.")`)
}

// The time of the last run is shown under the cell and is still there after a reload.
func TestBrowserElapsedKept(t *testing.T) {
	b := newBrowser(t, 1280, 800)
	b.notebook("time.ipynb", "co.Sleep(120 * time.Millisecond)\n1")
	b.open("time.ipynb")
	b.edit("c0")
	b.key("Enter", ctrl)
	status := jsCell("c0") + `.querySelector(".cell-status .timing")?.textContent`
	b.waitJS("the run's time", `/^✓ \d+ ms$/.test(`+status+` || "")`)
	shown := eval[string](b, status)
	b.do(chromedp.Reload())
	b.waitJS("the notebook to load", `document.body.dataset.loaded === "true"`)
	if again := eval[string](b, status); again != shown {
		t.Errorf("after a reload the cell shows %q, before %q", again, shown)
	}
	t.Logf("the cell shows %q", shown)
}

// A JavaScript exception fails a browser test: the listener sees one thrown by the page.
func TestBrowserExceptionsSeen(t *testing.T) {
	b := newBrowser(t, 1280, 800)
	b.do(chromedp.Navigate(b.url + "/"))
	b.waitJS("the start page", `document.querySelector(".nb-list") !== null`)
	eval[bool](b, `(setTimeout(() => { throw new Error("thrown on purpose") }), Promise.reject(new Error("rejected on purpose")), true)`)
	var seen []string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && len(seen) < 2; time.Sleep(20 * time.Millisecond) {
		b.exceptions.mu.Lock()
		seen = append([]string(nil), b.exceptions.seen...)
		b.exceptions.mu.Unlock()
	}
	joined := strings.Join(seen, "\n")
	if !strings.Contains(joined, "thrown on purpose") || !strings.Contains(joined, "rejected on purpose") {
		t.Errorf("exceptions seen: %q", seen)
	}
	b.exceptions.mu.Lock()
	b.exceptions.seen = nil // expected here: not a failure of this test
	b.exceptions.mu.Unlock()
}

// BenchmarkBrowserRoundTrip measures, in the page, the time from the Shift-Enter keydown on a
// trivial cell (1+1) to its Out[n] appearing in the DOM.
func BenchmarkBrowserRoundTrip(bm *testing.B) {
	b := newBrowser(bm, 1280, 800)
	b.notebook("bench.ipynb", "1+1", "")
	b.open("bench.ipynb")
	b.edit("c0")
	b.commandMode()
	b.key("k")
	b.waitJS("c0 selected", selectedIndex+` === 0`)
	eval[bool](b, `(() => {
		window.__rt = [];
		let t0 = 0;
		addEventListener("keydown", e => { if (e.key === "Enter" && e.shiftKey) t0 = performance.now(); }, true);
		const cells = document.querySelector(".cells");
		new MutationObserver(() => {
			if (!t0) return;
			const p = document.querySelector('.cell[data-id="c0"] .output-result .out-prompt');
			const n = document.querySelector('.cell[data-id="c0"] .prompt').textContent.match(/\d+/);
			if (p && n && p.textContent === "Out[" + n[0] + "]:") { __rt.push(performance.now() - t0); t0 = 0; }
		}).observe(cells, {childList: true, subtree: true, characterData: true});
		return true;
	})()`)
	bm.ResetTimer()
	for i := 0; i < bm.N; i++ {
		b.key("Enter", shift)
		b.waitJS("Out[n]", fmt.Sprintf(`__rt.length === %d`, i+1))
		b.key("k")
		b.waitJS("c0 selected", selectedIndex+` === 0`)
	}
	bm.StopTimer()
	rt := eval[[]float64](b, `__rt`)
	slices.Sort(rt)
	pct := func(p float64) float64 { return rt[min(len(rt)-1, int(p*float64(len(rt))))] }
	bm.ReportMetric(pct(0.5), "ms-p50")
	bm.ReportMetric(pct(0.99), "ms-p99")
	bm.ReportMetric(0, "ns/op")
}

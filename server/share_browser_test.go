package server_test

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/loopbook/loopbook/ipynb"
)

// Share by link: run a cell, share the notebook, open the link in another tab: the snapshot
// shows the cell's output, read-only, with the loop recording to replay; running it there makes
// an editable copy in the user's notebooks.
func TestBrowserShare(t *testing.T) {
	b := newBrowser(t, 1280, 800)
	b.notebook("demo.ipynb", `L.CallLater(100*time.Millisecond, func() { fmt.Println("shared hello") }, loop.WithName("greeter"))`)
	b.open("demo.ipynb")
	b.edit("c0")
	b.key("Enter", ctrl)
	b.waitOutput("c0", "shared hello")
	// The panel has shown the timer's callback run: the session has recorded that frame.
	b.waitJS("the callback in the recently-run list",
		`[...document.querySelectorAll(".lp-recent li.lp-item")].some(li => li.dataset.name === "greeter" && +li.dataset.owner > 0)`)
	b.commandMode()

	b.do(chromedp.Click(chromedp.CSS(`.toolbar button[data-command="share"]`)))
	b.waitJS("the share dialog", `/\/s\/[0-9a-f]{20}$/.test(document.querySelector(".share-dialog .share-link")?.value || "")`)
	link := eval[string](b, `document.querySelector(".share-dialog .share-link").value`)
	u, err := url.Parse(link)
	if err != nil || !strings.HasPrefix(link, b.url+"/s/") {
		t.Fatalf("share link %q: %v", link, err)
	}
	id := strings.TrimPrefix(u.Path, "/s/")
	if _, err := os.Stat(filepath.Join(b.dir, ".shares", id+".ipynb")); err != nil {
		t.Fatalf("the share is not stored: %v", err)
	}
	b.screenshot("share-dialog")

	tab := b.newTab()
	tab.do(chromedp.Navigate(link))
	tab.waitJS("the share to load", `document.body.dataset.loaded === "true"`)
	tab.waitOutput("c0", "shared hello")
	if !eval[bool](tab, `!document.querySelector(".banner").hidden && document.querySelector(".banner").textContent.includes("shared snapshot")`) {
		t.Error("the share does not say it is a read-only snapshot")
	}
	if p := eval[string](tab, jsCell("c0")+`.querySelector(".prompt").textContent`); p != "In [1]:" {
		t.Errorf("the shared cell's prompt is %q, want In [1]:", p)
	}
	// The loop panel replays the recording; the callback the cell scheduled is in it.
	tab.waitJS("replay mode", panelSel+`.dataset.mode === "replay" && +`+panelSel+`.dataset.replayLen > 0`)
	eval[bool](tab, `document.querySelector(".lp-last").click(), true`)
	tab.waitJS("the last frame drawn", panelSel+`.dataset.replayPos === String(+`+panelSel+`.dataset.replayLen - 1)`)
	tab.waitJS("the callback in the replay",
		`[...document.querySelectorAll(".lp-recent li.lp-item")].some(li => li.dataset.name === "greeter")`)
	tab.screenshot("share-view")

	// Running the share offers an editable copy; taking it opens the copy.
	eval[bool](tab, `document.querySelector(".cells").focus(), true`)
	tab.key("Enter", ctrl)
	tab.waitJS("the copy offer", `document.querySelector("dialog .dialog-title")?.textContent.includes("read-only")`)
	tab.do(chromedp.Click(chromedp.CSS(`dialog button[value="ok"]`)))
	tab.waitJS("the copy", `location.pathname === "/nb/demo%20copy.ipynb" && document.body.dataset.loaded === "true"`)
	tab.waitOutput("c0", "shared hello")
	cp, err := ipynb.ReadFile(filepath.Join(b.dir, "demo copy.ipynb"))
	if err != nil || len(cp.Cells) != 1 || !strings.Contains(cp.Cells[0].Source, "greeter") {
		t.Fatalf("the copy: %v", err)
	}
}

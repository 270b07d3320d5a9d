// Command uibench measures, in headless Chromium, the time from the Shift-Enter keydown on a
// trivial cell to its Out[n] in the page's DOM: Loopbook's notebook UI, and Jupyter Notebook
// (classic, Debian's jupyter-notebook with ipykernel) side by side when it is installed.
//
// Both pages are instrumented the same way: a capturing keydown listener takes
// performance.now() when Shift-Enter goes down, and a MutationObserver on the page takes it
// again when the cell's output prompt shows a new Out[n] — the moment the output is in the
// DOM (before it is painted). Keys are real CDP key events. Between runs the first cell is
// selected again with K in command mode (not measured) and the kernel is left to go idle.
// The runs are split into rounds that alternate which side goes first, so a busy moment of
// the machine hits both.
//
//	go run ./bench/uibench -loopbook /path/to/loopbook [-n 200] [-rounds 4] [-jupyter jupyter-notebook]
//
// bench/ui.sh builds Loopbook, runs this under flock and writes bench/results/ui-<date>.md.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/loopbook/loopbook/ipynb"
)

// trace: log Loopbook's websocket messages per run (a diagnosis, not part of the figures).
var trace bool

// traceJS wraps the page's WebSocket before the app runs: each message sent and received
// during a measured run is noted with its time after the keydown.
const traceJS = `(() => {
	const WS = window.WebSocket;
	window.WebSocket = class extends WS {
		constructor(...a) {
			super(...a);
			this.addEventListener("message", (e) => {
				if (window.__ub && __ub.t0) __ub.trace.push((performance.now() - __ub.t0).toFixed(2) + " ← " + JSON.parse(e.data).type);
			});
		}
		send(d) {
			if (window.__ub && __ub.t0) __ub.trace.push((performance.now() - __ub.t0).toFixed(2) + " → " + JSON.parse(d).type);
			return super.send(d);
		}
	};
})()`

func main() {
	lb := flag.String("loopbook", "", "the loopbook binary (required)")
	jup := flag.String("jupyter", "jupyter-notebook", "Jupyter Notebook's command; empty: Loopbook only")
	chromium := flag.String("chromium", "chromium", "the Chromium binary")
	n := flag.Int("n", 200, "measured runs per side")
	warm := flag.Int("warmup", 20, "unmeasured runs per side first")
	rounds := flag.Int("rounds", 4, "rounds (each side runs n/rounds times per round)")
	out := flag.String("out", "", "write the raw samples here (JSON lines); the summary goes beside it (.md)")
	flag.BoolVar(&trace, "trace", false, "print, for Loopbook's last runs, when each websocket message went and came (ms after the keydown)")
	flag.Parse()
	if *lb == "" {
		fmt.Fprintln(os.Stderr, "uibench: -loopbook is required")
		os.Exit(2)
	}
	// The servers it starts end with it, also when it is interrupted or its output pipe closes.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM, syscall.SIGPIPE)
	go func() {
		<-sig
		cleanup()
		os.Exit(1)
	}()
	err := run(*lb, *jup, *chromium, *n, *warm, *rounds, *out)
	cleanup()
	if err != nil {
		fmt.Fprintln(os.Stderr, "uibench:", err)
		os.Exit(1)
	}
}

var (
	cleanupMu sync.Mutex
	cleanups  []func()
)

// atExit registers a function that cleanup runs (once).
func atExit(f func()) {
	cleanupMu.Lock()
	defer cleanupMu.Unlock()
	cleanups = append(cleanups, f)
}

// cleanup runs the registered functions, last first. A second caller (a signal during the
// normal end) waits until the first is done.
func cleanup() {
	cleanupMu.Lock()
	defer cleanupMu.Unlock()
	for i := len(cleanups) - 1; i >= 0; i-- {
		cleanups[i]()
	}
	cleanups = nil
}

// side is one notebook UI under test.
type side struct {
	name    string
	version string
	ctx     context.Context // its tab
	ready   string          // JS: true when the kernel is idle and the page can take a run
	first   string          // JS: true when the first cell is selected, in command mode
	outN    string          // JS: the n of the first cell's Out[n], or -1
	samples []float64
}

func run(lb, jup, chromium string, n, warm, rounds int, out string) error {
	tmp, err := os.MkdirTemp("", "uibench")
	if err != nil {
		return err
	}
	atExit(func() { os.RemoveAll(tmp) })

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.DisableGPU, chromedp.NoSandbox,
		chromedp.WindowSize(1280, 800), chromedp.Flag("disable-dev-shm-usage", true))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	atExit(cancelAlloc) // ends Chromium
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	if err := chromedp.Do(bctx); err != nil { // starts the browser
		return err
	}
	chromeVersion := "?"
	if b, err := exec.Command(chromium, "--version").Output(); err == nil {
		chromeVersion = strings.TrimSpace(strings.SplitN(string(b), " built on", 2)[0])
	}

	var sides []*side
	s, stop, err := startLoopbook(bctx, lb, filepath.Join(tmp, "loopbook"))
	if err != nil {
		return fmt.Errorf("loopbook: %w", err)
	}
	defer stop()
	sides = append(sides, s)
	if jup != "" {
		if _, err := exec.LookPath(jup); err != nil {
			fmt.Fprintf(os.Stderr, "uibench: %s not found: Loopbook only\n", jup)
		} else {
			s, stop, err := startJupyter(bctx, jup, filepath.Join(tmp, "jupyter"))
			if err != nil {
				return fmt.Errorf("jupyter: %w", err)
			}
			defer stop()
			sides = append(sides, s)
		}
	}
	for _, s := range sides {
		if err := instrument(s); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		for range warm {
			if _, err := once(s); err != nil {
				return fmt.Errorf("%s warm-up: %w", s.name, err)
			}
		}
	}
	load0 := loadavg()
	started := time.Now()
	per := max(1, n/rounds)
	var lines []byte
	for r := range rounds {
		order := slices.Clone(sides)
		if r%2 == 1 {
			slices.Reverse(order)
		}
		for _, s := range order {
			for range per {
				ms, err := once(s)
				if err != nil {
					return fmt.Errorf("%s: %w", s.name, err)
				}
				s.samples = append(s.samples, ms)
				b, _ := json.Marshal(map[string]any{"side": s.name, "round": r, "ms": ms})
				lines = append(append(lines, b...), '\n')
			}
		}
		fmt.Fprintf(os.Stderr, "round %d/%d done\n", r+1, rounds)
	}
	elapsed := time.Since(started)
	load1 := loadavg()
	md := summary(sides, per, rounds, chromeVersion, load0, load1, elapsed)
	fmt.Print(md)
	if out != "" {
		if err := os.WriteFile(out, lines, 0o644); err != nil {
			return err
		}
		return os.WriteFile(strings.TrimSuffix(out, ".jsonl")+".md", []byte(md), 0o644)
	}
	return nil
}

// instrument installs the timing in the side's page.
func instrument(s *side) error {
	js := `(() => {
		const outN = () => (` + s.outN + `);
		window.__ub = { t0: 0, seen: -1, done: [], trace: [] };
		addEventListener("keydown", (e) => {
			if (e.key === "Enter" && e.shiftKey) {
				__ub.t0 = performance.now(); __ub.seen = outN(); __ub.trace = [];
				if (!` + strconv.FormatBool(trace && s.name == "loopbook") + `) return;
				const note = (what) => __ub.trace.push((performance.now() - __ub.t0).toFixed(2) + " " + what);
				const ch = new MessageChannel();
				ch.port1.onmessage = () => note("first task after the keydown");
				ch.port2.postMessage(0);
				requestAnimationFrame(() => { note("frame starts"); setTimeout(() => note("after the frame"), 0); });
			}
		}, true);
		new MutationObserver(() => {
			if (!__ub.t0) return;
			const n = outN();
			if (n >= 0 && n !== __ub.seen) {
				const ms = performance.now() - __ub.t0;
				__ub.done.push(ms);
				__ub.trace.push(ms.toFixed(2) + " Out[" + n + "] in the DOM");
				__ub.t0 = 0;
			}
		}).observe(document.body, { childList: true, subtree: true, characterData: true });
		return true;
	})()`
	_, err := chromedp.Run(s.ctx, chromedp.Evaluate[bool](js))
	return err
}

// once selects the first cell, waits for an idle kernel, presses Shift-Enter and returns the
// milliseconds until the new Out[n] is in the DOM.
func once(s *side) (float64, error) {
	ctx := s.ctx
	if err := waitJS(ctx, s.ready); err != nil {
		return 0, fmt.Errorf("waiting for an idle kernel: %w", err)
	}
	if ok, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](s.first)); !ok {
		if err := key(ctx, "k", 0); err != nil {
			return 0, err
		}
		if err := waitJS(ctx, s.first); err != nil {
			return 0, fmt.Errorf("selecting the first cell: %w", err)
		}
	}
	time.Sleep(20 * time.Millisecond) // let the page settle after the selection
	before, err := chromedp.Run(ctx, chromedp.Evaluate[int](`__ub.done.length`))
	if err != nil {
		return 0, err
	}
	if err := key(ctx, "Enter", 8); err != nil { // 8: Shift
		return 0, err
	}
	if err := waitJS(ctx, fmt.Sprintf(`__ub.done.length > %d`, before)); err != nil {
		return 0, fmt.Errorf("waiting for Out[n]: %w", err)
	}
	if trace && s.name == "loopbook" {
		tr, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`__ub.trace`))
		fmt.Fprintf(os.Stderr, "%s\n", strings.Join(tr, "\n"))
		fmt.Fprintln(os.Stderr, "--")
	}
	return chromedp.Run(ctx, chromedp.Evaluate[float64](`__ub.done[__ub.done.length - 1]`))
}

func waitJS(ctx context.Context, js string) error {
	return chromedp.Do(ctx, chromedp.Poll[chromedp.Void](js,
		chromedp.WithPollingInterval(2*time.Millisecond), chromedp.WithPollingTimeout(60*time.Second)))
}

// key sends a real key press: "Enter" or a lower-case letter, with CDP modifiers.
func key(ctx context.Context, k string, mods int64) error {
	down := input.DispatchKeyEventParams{Type: input.DispatchKeyEventTypeKeyDown, Modifiers: mods}
	if k == "Enter" {
		down.Key, down.Code, down.Text, down.UnmodifiedText = "Enter", "Enter", "\r", "\r"
		down.WindowsVirtualKeyCode, down.NativeVirtualKeyCode = 13, 13
	} else {
		c := strings.ToUpper(k)
		down.Key, down.Code, down.Text, down.UnmodifiedText = k, "Key"+c, k, k
		down.WindowsVirtualKeyCode, down.NativeVirtualKeyCode = int64(c[0]), int64(c[0])
	}
	up := down
	up.Type, up.Text, up.UnmodifiedText = input.DispatchKeyEventTypeKeyUp, "", ""
	return chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		if _, err := chromedp.Call(ctx, input.DispatchKeyEvent, down); err != nil {
			return err
		}
		_, err := chromedp.Call(ctx, input.DispatchKeyEvent, up)
		return err
	}))
}

// writeNotebook writes a notebook with a trivial cell and an empty one.
func writeNotebook(path, src string, python bool) error {
	nb := ipynb.New()
	if python {
		nb.Metadata["kernelspec"] = map[string]any{"name": "python3", "display_name": "Python 3", "language": "python"}
		nb.Metadata["language_info"] = map[string]any{"name": "python"}
	}
	for i, s := range []string{src, ""} {
		c := nb.NewCell(ipynb.CellCode, s)
		c.ID = fmt.Sprintf("c%d", i)
		nb.Cells = append(nb.Cells, c)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return ipynb.WriteFile(path, nb)
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// serve starts a server command and waits until url answers; stop sends it quit.
func serve(cmd *exec.Cmd, url string, quit os.Signal) (func(), error) {
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cmd.Process.Signal(os.Interrupt)
			done := make(chan struct{})
			go func() { cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				<-done
			}
		})
	}
	atExit(stop)
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return stop, nil
			}
		}
	}
	stop()
	return nil, fmt.Errorf("%s did not answer at %s", cmd.Path, url)
}

func startLoopbook(bctx context.Context, bin, dir string) (*side, func(), error) {
	if err := writeNotebook(filepath.Join(dir, "bench.ipynb"), "1+1", false); err != nil {
		return nil, nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, nil, err
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	stop, err := serve(exec.Command(bin, "-addr", fmt.Sprintf("127.0.0.1:%d", port), "-notebooks", dir, "-idle", "0"), base+"/healthz", os.Interrupt)
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := chromedp.NewContext(bctx)
	s := &side{
		name: "loopbook", version: revision(), ctx: ctx,
		ready: `document.body.dataset.loaded === "true" && document.body.dataset.kernel === "idle" && ` +
			`!document.querySelector(".cell.running, .cell.queued")`,
		first: `document.body.dataset.mode === "command" && document.querySelector(".cell.selected")?.dataset.id === "c0"`,
		outN: `(() => { const p = document.querySelector('.cell[data-id="c0"] .output-result .out-prompt');
			const m = p && p.textContent.match(/^Out\[(\d+)\]:$/); return m ? Number(m[1]) : -1; })()`,
	}
	if trace {
		if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: traceJS})
			return err
		})); err != nil {
			cancel()
			stop()
			return nil, nil, err
		}
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/nb/bench.ipynb")); err != nil {
		cancel()
		stop()
		return nil, nil, err
	}
	if err := waitJS(ctx, s.ready); err != nil {
		state, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify(document.body.dataset) + " " + document.body.innerText.slice(0, 300)`))
		cancel()
		stop()
		return nil, nil, fmt.Errorf("the notebook did not load (%s): %w", state, err)
	}
	return s, func() { cancel(); stop() }, nil
}

func startJupyter(bctx context.Context, cmdName, dir string) (*side, func(), error) {
	if err := writeNotebook(filepath.Join(dir, "bench.ipynb"), "1+1", true); err != nil {
		return nil, nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, nil, err
	}
	version := "?"
	if b, err := exec.Command(cmdName, "--version").Output(); err == nil {
		version = strings.TrimSpace(string(b))
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	args := []string{"--no-browser", "--ip=127.0.0.1", "--port=" + strconv.Itoa(port), "--port-retries=0",
		"--NotebookApp.token=", "--NotebookApp.password=", "--notebook-dir=" + dir}
	if os.Geteuid() == 0 {
		args = append(args, "--allow-root")
	}
	cmd := exec.Command(cmdName, args...)
	cmd.Env = append(os.Environ(), "JUPYTER_RUNTIME_DIR="+filepath.Join(dir, ".runtime"), "JUPYTER_CONFIG_DIR="+filepath.Join(dir, ".config"))
	stop, err := serve(cmd, base+"/api", syscall.SIGTERM)
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := chromedp.NewContext(bctx)
	s := &side{
		name: "jupyter-notebook", version: "Notebook " + version + ", " + pyVersions(), ctx: ctx,
		ready: `!!(window.Jupyter && Jupyter.notebook && Jupyter.notebook.kernel && Jupyter.notebook.kernel.is_connected() && ` +
			`document.querySelector("#kernel_indicator_icon")?.classList.contains("kernel_idle_icon") && ` +
			`!Jupyter.notebook.get_cells().some(c => c.element[0].classList.contains("running")))`,
		first: `Jupyter.notebook.mode === "command" && Jupyter.notebook.get_selected_index() === 0`,
		outN: `(() => { const p = document.querySelector('#notebook-container .cell:first-child .output_area .output_prompt');
			const m = p && p.textContent.trim().match(/^Out\[(\d+)\]:$/); return m ? Number(m[1]) : -1; })()`,
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/notebooks/bench.ipynb")); err != nil {
		cancel()
		stop()
		return nil, nil, err
	}
	if err := waitJS(ctx, s.ready); err != nil {
		cancel()
		stop()
		return nil, nil, fmt.Errorf("the notebook did not load: %w", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(Jupyter.notebook.select(0), Jupyter.notebook.command_mode(), true)`)); err != nil {
		cancel()
		stop()
		return nil, nil, err
	}
	return s, func() { cancel(); stop() }, nil
}

func pyVersions() string {
	b, err := exec.Command("/usr/bin/python3", "-c", "import sys, ipykernel; print('ipykernel', ipykernel.__version__, 'on Python', sys.version.split()[0])").Output()
	if err != nil {
		return "ipykernel ?"
	}
	return strings.TrimSpace(string(b))
}

func revision() string {
	if r := os.Getenv("REV"); r != "" {
		return r
	}
	return "?"
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func pct(sorted []float64, p float64) float64 {
	return sorted[min(len(sorted)-1, int(p*float64(len(sorted))))]
}

func summary(sides []*side, per, rounds int, chrome, load0, load1 string, took time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# UI round trip: Shift-Enter → Out[n] in the DOM\n\n")
	fmt.Fprintf(&b, "%s · %d CPUs (%s) · headless %s · %d runs per side (%d rounds of %d, alternating which side goes first; warm-up runs first) · load average %s before, %s after · %s\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), runtime.NumCPU(), cpuModel(), chrome, per*rounds, rounds, per, load0, load1, took.Round(time.Second))
	fmt.Fprintf(&b, "A trivial cell (`1+1`), its kernel warm; from the Shift-Enter keydown (a capturing listener's `performance.now()`) to the cell's new `Out[n]` prompt in the DOM (a MutationObserver's `performance.now()`), in ms.\n\n")
	fmt.Fprintf(&b, "| UI | version | p50 | p90 | p99 | max | mean | per-round p50 (min..max) |\n|---|---|---|---|---|---|---|---|\n")
	for _, s := range sides {
		x := slices.Sorted(slices.Values(s.samples))
		var sum float64
		for _, v := range x {
			sum += v
		}
		var rp []float64
		for r := range rounds {
			rs := slices.Sorted(slices.Values(s.samples[r*per : (r+1)*per]))
			rp = append(rp, pct(rs, 0.5))
		}
		slices.Sort(rp)
		fmt.Fprintf(&b, "| %s | %s | **%.1f** | %.1f | **%.1f** | %.1f | %.1f | %.1f..%.1f |\n",
			s.name, s.version, pct(x, 0.5), pct(x, 0.9), pct(x, 0.99), x[len(x)-1], sum/float64(len(x)), rp[0], rp[len(rp)-1])
	}
	if len(sides) == 2 {
		a := slices.Sorted(slices.Values(sides[0].samples))
		j := slices.Sorted(slices.Values(sides[1].samples))
		fmt.Fprintf(&b, "\n%s ÷ %s: p50 **%.2f×**, p99 **%.2f×**.\n", sides[0].name, sides[1].name, pct(a, 0.5)/pct(j, 0.5), pct(a, 0.99)/pct(j, 0.99))
	}
	x := slices.Sorted(slices.Values(sides[0].samples))
	status := "met"
	if pct(x, 0.5) > 15 {
		status = "missed"
	}
	fmt.Fprintf(&b, "\nTarget (issue 4): Loopbook p50 ≤ 15 ms on this machine — **%s** (p50 %.1f ms).\n", status, pct(x, 0.5))
	return b.String()
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

// Command panelui measures what the loop panel costs the browser (issue 5 §5): a real server
// (in this process) and kernel, a notebook whose cell runs a paced workload of RATE callbacks per
// second until TOTAL have run, and headless Chromium showing it. It measures, in the page:
//
//   - frames per second while the workload runs (requestAnimationFrame callbacks counted between
//     the click on Run and the cell's "done" line), with the frame-interval percentiles and the
//     number of frames longer than 50 ms;
//   - the JavaScript heap (after a forced GC) and the DOM size before the run and after it;
//
// and, outside it, the Go heap of this process (the server) and the kernel's RSS after the run.
// It runs each configuration (panel open, panel collapsed) REPS times, alternating, and prints
// one JSON line per run and a Markdown table of medians. bench/panel.sh builds and runs it (bench/panel-cost.sh measures the kernel side).
//
// Usage:
//
//	panelui -kernel BIN [-chromium PATH] [-rate 100000] [-total 1000000] [-reps 3] [-md out.md]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/heapprofiler"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/loopbook/loopbook/ipynb"
	"github.com/loopbook/loopbook/kernel"
	"github.com/loopbook/loopbook/server"
)

// workload is the cell: every 10 ms of loop time a timer schedules RATE/100 no-op callbacks,
// until TOTAL have been scheduled; the last one prints the rate achieved.
const workload = `rate, total := %d, %d
perTick := rate / 100
n, scheduled := 0, 0
start := L.Time()
due := start
noop := func() {
	n++
	if n == total {
		el := (L.Time() - start).Seconds()
		fmt.Printf("done %%d callbacks in %%.2f s: %%.0f/s\n", n, el, float64(n)/el)
	}
}
var tick func()
tick = func() {
	for i := 0; i < perTick && scheduled < total; i++ {
		L.CallSoon(noop)
		scheduled++
	}
	if scheduled < total {
		due += 10 * time.Millisecond
		L.CallAt(due, tick)
	}
}
L.CallSoon(tick)`

type result struct {
	Config      string  `json:"config"` // panel-open, panel-collapsed
	Rep         int     `json:"rep"`
	Seconds     float64 `json:"seconds"` // run → done, page clock
	Rate        float64 `json:"rate"`    // callbacks/s the cell reported
	Frames      int     `json:"frames"`
	FPS         float64 `json:"fps"`
	P50ms       float64 `json:"frame_p50_ms"`
	P95ms       float64 `json:"frame_p95_ms"`
	MaxMs       float64 `json:"frame_max_ms"`
	Long        int     `json:"frames_over_50ms"`
	HeapBefore  float64 `json:"js_heap_before_mb"`
	HeapAfter   float64 `json:"js_heap_after_mb"`
	DOMBefore   int     `json:"dom_nodes_before"`
	DOMAfter    int     `json:"dom_nodes_after"`
	PanelRan    int64   `json:"panel_callbacks_counted"`
	ServerHeap  float64 `json:"server_go_heap_mb"`
	KernelRSS   float64 `json:"kernel_rss_mb"`
	Description string  `json:"done_line"`
}

func main() {
	bin := flag.String("kernel", "", "loopbook binary (serves the kernel with argument \"kernel\")")
	chrome := flag.String("chromium", "", "Chromium binary (default: chromium, chromium-browser, google-chrome on PATH)")
	rate := flag.Int("rate", 100000, "callbacks per second")
	total := flag.Int("total", 1000000, "callbacks in all")
	reps := flag.Int("reps", 3, "runs of each configuration")
	md := flag.String("md", "", "write the Markdown summary here too")
	flag.Parse()
	if *bin == "" {
		fmt.Fprintln(os.Stderr, "panelui: -kernel is required")
		os.Exit(2)
	}
	if *chrome == "" {
		for _, n := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
			if p, err := exec.LookPath(n); err == nil {
				*chrome = p
				break
			}
		}
	}
	if *chrome == "" {
		fmt.Fprintln(os.Stderr, "panelui: no Chromium found")
		os.Exit(2)
	}
	var all []result
	for rep := 1; rep <= *reps; rep++ {
		configs := []string{"panel-open", "panel-collapsed"}
		if rep%2 == 0 {
			slices.Reverse(configs)
		}
		for _, cfg := range configs {
			r, err := run(*bin, *chrome, cfg, rep, *rate, *total)
			if err != nil {
				fmt.Fprintf(os.Stderr, "panelui: %s rep %d: %v\n", cfg, rep, err)
				os.Exit(1)
			}
			b, _ := json.Marshal(r)
			fmt.Println(string(b))
			all = append(all, r)
		}
	}
	summary := summarise(all, *rate, *total)
	fmt.Fprint(os.Stderr, summary)
	if *md != "" {
		if err := os.WriteFile(*md, []byte(summary), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "panelui:", err)
			os.Exit(1)
		}
	}
}

func run(bin, chrome, cfg string, rep, rate, total int) (result, error) {
	r := result{Config: cfg, Rep: rep}
	dir, err := os.MkdirTemp("", "panelui")
	if err != nil {
		return r, err
	}
	defer os.RemoveAll(dir)
	nb := ipynb.New()
	c := nb.NewCell(ipynb.CellCode, fmt.Sprintf(workload, rate, total))
	c.ID = "c0"
	nb.Cells = append(nb.Cells, c)
	if err := ipynb.WriteFile(filepath.Join(dir, "bench.ipynb"), nb); err != nil {
		return r, err
	}
	srv, err := server.New(server.Config{NotebookDir: dir, Kernel: kernel.Config{Command: []string{bin, "kernel"}}, CloseGrace: time.Minute})
	if err != nil {
		return r, err
	}
	hs := httptest.NewServer(srv.Handler())
	defer func() {
		hs.Close()
		srv.Close()
	}()

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome), chromedp.DisableGPU, chromedp.NoSandbox, chromedp.WindowSize(1280, 800),
		chromedp.Flag("disable-dev-shm-usage", true))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, 5*time.Minute)
	defer cancelT()

	wait := func(js string) error {
		return chromedp.Do(ctx, chromedp.Poll[chromedp.Void](js, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(3*time.Minute)))
	}
	evalNum := func(js string) (float64, error) { return chromedp.Run(ctx, chromedp.Evaluate[float64](js)) }
	heap := func() (float64, error) {
		if _, err := chromedp.Call(ctx, heapprofiler.CollectGarbage, cdp.Empty{}); err != nil {
			return 0, err
		}
		u, err := chromedp.Call(ctx, cdpruntime.GetHeapUsage, cdp.Empty{})
		if err != nil {
			return 0, err
		}
		return u.UsedSize / (1 << 20), nil
	}

	collapsed := "0"
	if cfg == "panel-collapsed" {
		collapsed = "1"
	}
	url := hs.URL + "/nb/bench.ipynb"
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 800), chromedp.Navigate(hs.URL+"/")); err != nil {
		return r, err
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`localStorage.setItem("loopbook.panel.collapsed", "`+collapsed+`"), true`)); err != nil {
		return r, err
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		return r, err
	}
	if err := wait(`document.body.dataset.loaded === "true" && document.body.dataset.kernel === "idle"`); err != nil {
		return r, fmt.Errorf("waiting for the notebook: %w", err)
	}
	time.Sleep(500 * time.Millisecond)
	if r.HeapBefore, err = heap(); err != nil {
		return r, err
	}
	n, _ := evalNum(`document.getElementsByTagName("*").length`)
	r.DOMBefore = int(n)

	// Count animation frames from the click on Run to the done line.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => {
		window.__pb = {t: [], start: 0, end: 0};
		const out = document.querySelector('.cell[data-id="c0"] .outputs');
		new MutationObserver(() => { if (!__pb.end && out.textContent.includes("done ")) __pb.end = performance.now(); })
			.observe(out, {childList: true, subtree: true, characterData: true});
		const f = (t) => { if (__pb.start && !__pb.end && __pb.t.length < 100000) __pb.t.push(t); if (!__pb.end) requestAnimationFrame(f); };
		requestAnimationFrame(f);
		return true;
	})()`)); err != nil {
		return r, err
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`__pb.start = performance.now(), document.querySelector('[data-command="run-all"]').click(), true`)); err != nil {
		return r, err
	}
	if err := wait(`__pb.end > 0`); err != nil {
		return r, fmt.Errorf("waiting for the workload: %w", err)
	}
	var ts []float64
	if ts, err = chromedp.Run(ctx, chromedp.Evaluate[[]float64](`__pb.t`)); err != nil {
		return r, err
	}
	span, _ := evalNum(`__pb.end - __pb.start`)
	r.Seconds = span / 1000
	r.Frames = len(ts)
	r.FPS = float64(len(ts)) / r.Seconds
	var gaps []float64
	for i := 1; i < len(ts); i++ {
		g := ts[i] - ts[i-1]
		gaps = append(gaps, g)
		if g > 50 {
			r.Long++
		}
	}
	slices.Sort(gaps)
	if len(gaps) > 0 {
		r.P50ms = round1(pct(gaps, 0.5))
		r.P95ms = round1(pct(gaps, 0.95))
		r.MaxMs = round1(gaps[len(gaps)-1])
	}
	done, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('.cell[data-id="c0"] .outputs').textContent`))
	if i := strings.Index(done, "done "); i >= 0 {
		r.Description = strings.TrimSpace(done[i:])
		if j := strings.LastIndex(r.Description, ": "); j >= 0 {
			r.Rate, _ = strconv.ParseFloat(strings.TrimSuffix(r.Description[j+2:], "/s"), 64)
		}
	}
	// Let the last frames arrive and draw, then measure what is left.
	time.Sleep(2 * time.Second)
	if r.HeapAfter, err = heap(); err != nil {
		return r, err
	}
	n, _ = evalNum(`document.getElementsByTagName("*").length`)
	r.DOMAfter = int(n)
	n, _ = evalNum(`+document.querySelector(".loop-panel").dataset.ran || 0`)
	r.PanelRan = int64(n)
	r.HeapBefore, r.HeapAfter = round1(r.HeapBefore), round1(r.HeapAfter)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	r.ServerHeap = round1(float64(ms.HeapInuse) / (1 << 20))
	r.KernelRSS = round1(kernelRSS(bin))
	return r, nil
}

// kernelRSS is the RSS (MB) of this process's child running bin with argument "kernel": the
// notebook's kernel. Chromium is a child of this process too, so the child is picked by its
// command line, not by size (the largest child was Chromium's main process, about 211 MB).
func kernelRSS(bin string) float64 {
	me := strconv.Itoa(os.Getpid())
	ents, _ := os.ReadDir("/proc")
	rss := 0.0
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		dir := filepath.Join("/proc", e.Name())
		stat, err := os.ReadFile(filepath.Join(dir, "stat"))
		if err != nil {
			continue
		}
		s := string(stat)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		if len(f) < 2 || f[1] != me {
			continue
		}
		cmd, _ := os.ReadFile(filepath.Join(dir, "cmdline"))
		if args := strings.Split(string(cmd), "\x00"); len(args) < 2 || args[0] != bin || args[1] != "kernel" {
			continue
		}
		status, _ := os.ReadFile(filepath.Join(dir, "status"))
		for _, line := range strings.Split(string(status), "\n") {
			if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				kb, _ := strconv.ParseFloat(strings.Fields(v)[0], 64)
				rss = max(rss, kb/1024)
			}
		}
	}
	return rss
}

func pct(sorted []float64, p float64) float64 {
	return sorted[min(len(sorted)-1, int(p*float64(len(sorted))))]
}

func round1(v float64) float64 { return float64(int64(v*10+0.5)) / 10 }

func median(rs []result, f func(result) float64) float64 {
	var v []float64
	for _, r := range rs {
		v = append(v, f(r))
	}
	slices.Sort(v)
	if len(v) == 0 {
		return 0
	}
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

func summarise(all []result, rate, total int) string {
	var b strings.Builder
	host, _ := os.Hostname()
	ver, _ := exec.Command("chromium", "--version").Output()
	fmt.Fprintf(&b, "# Loop panel in the browser — %s\n\n", time.Now().Format("2006-01-02 15:04"))
	fmt.Fprintf(&b, "Workload: one cell scheduling %d no-op callbacks per second (a timer every 10 ms of loop time\n", rate)
	fmt.Fprintf(&b, "schedules %d), until %d have run; headless Chromium at 1280×800 shows the notebook.\n", rate/100, total)
	fmt.Fprintf(&b, "Host %s, %d CPUs, %s; %s.\n\n", host, runtime.NumCPU(), runtime.Version(), strings.TrimSpace(string(ver)))
	fmt.Fprintf(&b, "Medians of %d runs per configuration (alternating order).\n\n", len(all)/2)
	fmt.Fprintln(&b, "| configuration | run s | callbacks/s (cell) | page fps | frame p50 / p95 / max ms | frames > 50 ms | JS heap before → after (MB) | DOM nodes before → after | server Go heap MB | kernel RSS MB |")
	fmt.Fprintln(&b, "|---|---|---|---|---|---|---|---|---|---|")
	for _, cfg := range []string{"panel-open", "panel-collapsed"} {
		var rs []result
		for _, r := range all {
			if r.Config == cfg {
				rs = append(rs, r)
			}
		}
		if len(rs) == 0 {
			continue
		}
		m := func(f func(result) float64) float64 { return median(rs, f) }
		fmt.Fprintf(&b, "| %s | %.2f | %.0f | %.1f | %.1f / %.1f / %.1f | %.0f | %.1f → %.1f | %.0f → %.0f | %.1f | %.1f |\n", cfg,
			m(func(r result) float64 { return r.Seconds }), m(func(r result) float64 { return r.Rate }), m(func(r result) float64 { return r.FPS }),
			m(func(r result) float64 { return r.P50ms }), m(func(r result) float64 { return r.P95ms }), m(func(r result) float64 { return r.MaxMs }),
			m(func(r result) float64 { return float64(r.Long) }),
			m(func(r result) float64 { return r.HeapBefore }), m(func(r result) float64 { return r.HeapAfter }),
			m(func(r result) float64 { return float64(r.DOMBefore) }), m(func(r result) float64 { return float64(r.DOMAfter) }),
			m(func(r result) float64 { return r.ServerHeap }), m(func(r result) float64 { return r.KernelRSS }))
	}
	fmt.Fprintln(&b, "\nEvery run:\n\n```")
	for _, r := range all {
		j, _ := json.Marshal(r)
		fmt.Fprintln(&b, string(j))
	}
	fmt.Fprintln(&b, "```")
	return b.String()
}

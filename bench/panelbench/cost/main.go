// Command cost (bench/panelbench/cost) measures what the loop panel costs (issue 5 §5): a real server (the
// repository's binary) with one websocket client that reads every message, as a browser would,
// runs a notebook whose cells drive the shared loop hard, once with the kernel's loop monitor on
// and once with it off (LOOPBOOK_MONITOR=off, a switch for this measurement only), in
// alternating order, round after round. It prints one JSON line per run and, at the end, a
// Markdown summary with medians and per-round on/off ratios.
//
// Workloads, each 1M callbacks by default, all timed inside the cell:
//
//	chain   a callback that reschedules itself with L.CallSoon (one callback per iteration)
//	burst   a callback that schedules 1000 callbacks with L.CallSoon, then itself, until N ran
//	paced   callbacks at a fixed rate (default 100k/s): a 1 ms timer schedules the ones due
//
// Meanwhile it samples the kernel's and the server's RSS (VmRSS) and CPU time every 100 ms.
// With -direct there is no server: the benchmark drives kernels through package kernel and
// reads every frame itself (the "server" columns are then this program), which isolates the
// kernel's monitor from the server's handling of frames.
//
// Usage:
//
//	cost -bin BIN [-direct] [-rounds 5] [-reps 3] [-n 1000000] [-rate 100000] [-jsonl OUT] [-md OUT]
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/loopbook/loopbook/ipynb"
	"github.com/loopbook/loopbook/kernel"
	"github.com/loopbook/loopbook/server"
)

const chainCell = `chainDone := L.CreateFuture()
chainLeft := %d
var hop func()
hop = func() {
	chainLeft--
	if chainLeft <= 0 {
		chainDone.SetResult(nil)
		return
	}
	L.CallSoon(hop)
}
chainT0 := time.Now()
L.CallSoon(hop)
co.Await(chainDone)
fmt.Println("RESULT", time.Since(chainT0).Nanoseconds())`

const burstCell = `burstDone := L.CreateFuture()
burstN := %d
burstRan := 0
burstNoop := func() {
	burstRan++
	if burstRan == burstN {
		burstDone.SetResult(nil)
	}
}
burstSched := 0
var burst func()
burst = func() {
	for i := 0; i < 1000 && burstSched < burstN; i++ {
		L.CallSoon(burstNoop)
		burstSched++
	}
	if burstSched < burstN {
		L.CallSoon(burst)
	}
}
burstT0 := time.Now()
L.CallSoon(burst)
co.Await(burstDone)
fmt.Println("RESULT", time.Since(burstT0).Nanoseconds())`

const pacedCell = `pacedDone := L.CreateFuture()
pacedN := %d
pacedRate := %d.0
pacedRan := 0
pacedNoop := func() {
	pacedRan++
	if pacedRan == pacedN {
		pacedDone.SetResult(nil)
	}
}
pacedSched := 0
var pacedTick func()
pacedT0 := time.Now()
pacedTick = func() {
	due := int(time.Since(pacedT0).Seconds() * pacedRate)
	for pacedSched < due && pacedSched < pacedN {
		L.CallSoon(pacedNoop)
		pacedSched++
	}
	if pacedSched < pacedN {
		L.CallLater(time.Millisecond, pacedTick)
	}
}
L.CallSoon(pacedTick)
co.Await(pacedDone)
fmt.Println("RESULT", time.Since(pacedT0).Nanoseconds())`

// record is one workload run.
type record struct {
	Round    int     `json:"round"`
	Rep      int     `json:"rep"`
	Monitor  string  `json:"monitor"` // on, off
	Workload string  `json:"workload"`
	N        int     `json:"n"`
	Seconds  float64 `json:"seconds"` // inside the cell
	PerSec   float64 `json:"callbacks_per_s"`
	// CPU seconds used during the workload.
	KernelCPU float64 `json:"kernel_cpu_s"`
	ServerCPU float64 `json:"server_cpu_s"`
	// RSS in kB: before the workload, the maximum during it, after it.
	KernelRSS0, KernelRSSMax, KernelRSS1 int64
	ServerRSS0, ServerRSSMax, ServerRSS1 int64
	// What reached the websocket client during the workload.
	Frames     int   `json:"frames"`
	FrameBytes int64 `json:"frame_bytes"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "panelbench/cost:", err)
		os.Exit(1)
	}
}

func run() error {
	bin := flag.String("bin", "", "the loopbook binary (server and kernel)")
	rounds := flag.Int("rounds", 5, "rounds; each runs every workload with the monitor on and off")
	n := flag.Int("n", 1000000, "callbacks per workload")
	rate := flag.Int("rate", 100000, "callbacks per second of the paced workload")
	direct := flag.Bool("direct", false, "drive kernels directly (package kernel's client reads every frame), without a server: the monitor's own cost")
	reps := flag.Int("reps", 3, "runs of chain and burst per session (paced runs once); a session's figure is their median")
	jsonl := flag.String("jsonl", "", "write the JSON lines here too")
	md := flag.String("md", "", "write the Markdown summary here (default: stdout)")
	flag.Parse()
	if *bin == "" {
		return errors.New("-bin is required")
	}
	var out io.Writer = os.Stdout
	if *jsonl != "" {
		f, err := os.Create(*jsonl)
		if err != nil {
			return err
		}
		defer f.Close()
		out = io.MultiWriter(os.Stdout, f)
	}
	var workloads []struct{ name, code string }
	for range *reps {
		workloads = append(workloads, struct{ name, code string }{"chain", fmt.Sprintf(chainCell, *n)},
			struct{ name, code string }{"burst", fmt.Sprintf(burstCell, *n)})
	}
	workloads = append(workloads, struct{ name, code string }{"paced", fmt.Sprintf(pacedCell, *n, *rate)})
	var all []record
	for r := 1; r <= *rounds; r++ {
		order := []string{"on", "off"}
		if r%2 == 0 {
			order = []string{"off", "on"}
		}
		for _, mon := range order {
			run := session
			if *direct {
				run = directSession
			}
			recs, err := run(*bin, mon, r, *n, workloads)
			if err != nil {
				return fmt.Errorf("round %d, monitor %s: %w", r, mon, err)
			}
			for _, rec := range recs {
				b, _ := json.Marshal(rec)
				fmt.Fprintln(out, string(b))
			}
			all = append(all, recs...)
		}
	}
	summary := summarize(all, *n, *rate, *rounds, *reps, *direct)
	if *md != "" {
		return os.WriteFile(*md, []byte(summary), 0o644)
	}
	fmt.Print(summary)
	return nil
}

// session starts a server with the monitor on or off, opens the notebook with one websocket
// client, and runs the workloads in order, on one kernel.
func session(bin, mon string, round, n int, workloads []struct{ name, code string }) ([]record, error) {
	dir, err := os.MkdirTemp("", "panelbench")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	nb := ipynb.New()
	warm := nb.NewCell(ipynb.CellCode, `fmt.Println("RESULT", 0)`)
	warm.ID = "warm"
	nb.Cells = append(nb.Cells, warm)
	made := map[string]bool{}
	for _, w := range workloads {
		if made[w.name] {
			continue
		}
		made[w.name] = true
		c := nb.NewCell(ipynb.CellCode, w.code)
		c.ID = w.name
		nb.Cells = append(nb.Cells, c)
	}
	if err := ipynb.WriteFile(filepath.Join(dir, "bench.ipynb"), nb); err != nil {
		return nil, err
	}

	cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-notebooks", dir, "-idle", "0")
	cmd.Env = append(os.Environ(), "LOOPBOOK_MONITOR="+map[string]string{"on": "on", "off": "off"}[mon])
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}()
	// "Loopbook is serving DIR on ADDR"
	sc := bufio.NewScanner(stdout)
	var addr string
	for sc.Scan() {
		if _, a, ok := strings.Cut(sc.Text(), " on "); ok && strings.HasPrefix(sc.Text(), "Loopbook is serving") {
			addr = strings.TrimSpace(a)
			break
		}
	}
	if addr == "" {
		return nil, errors.New("the server did not say where it listens")
	}
	go io.Copy(io.Discard, stdout)

	base := "http://" + addr
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/ws/bench.ipynb", http.Header{"Origin": {base}})
	if err != nil {
		return nil, err
	}
	defer ws.Close()
	c := newClient(ws)

	var recs []record
	if _, err := c.runCell("warm"); err != nil {
		return nil, err
	}
	kpid := childPid(cmd.Process.Pid)
	if kpid == 0 {
		return nil, errors.New("no kernel process under the server")
	}
	runs := map[string]int{}
	for _, w := range workloads {
		runs[w.name]++
		rec := record{Round: round, Rep: runs[w.name], Monitor: mon, Workload: w.name, N: n}
		s := newSampler(cmd.Process.Pid, kpid)
		c.frames.Store(0)
		c.frameBytes.Store(0)
		ns, err := c.runCell(w.name)
		st := s.stop()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", w.name, err)
		}
		rec.Seconds = float64(ns) / 1e9
		rec.PerSec = float64(n) / rec.Seconds
		rec.KernelCPU, rec.ServerCPU = st.kernelCPU, st.serverCPU
		rec.KernelRSS0, rec.KernelRSSMax, rec.KernelRSS1 = st.k0, st.kmax, st.k1
		rec.ServerRSS0, rec.ServerRSSMax, rec.ServerRSS1 = st.s0, st.smax, st.s1
		rec.Frames, rec.FrameBytes = int(c.frames.Load()), c.frameBytes.Load()
		recs = append(recs, rec)
	}
	return recs, nil
}

// directSession is session without a server: the bench reads the kernel's messages itself.
func directSession(bin, mon string, round, n int, workloads []struct{ name, code string }) ([]record, error) {
	k, err := kernel.Start(kernel.Config{Command: []string{bin, "kernel"}, Env: []string{"LOOPBOOK_MONITOR=" + mon}})
	if err != nil {
		return nil, err
	}
	defer func() {
		k.Shutdown(5 * time.Second)
		for range k.Messages() {
		}
	}()
	var frames, frameBytes int64
	run := func(cell, code string) (int64, error) {
		ex, err := k.Run(context.Background(), cell, code, func(m kernel.Message) {
			if m.Type == kernel.MsgLoop {
				frames++
				frameBytes += int64(len(m.Loop))
			}
		})
		if err != nil {
			return 0, err
		}
		if ex.Status != "ok" {
			return 0, fmt.Errorf("cell %s: %s: %+v", cell, ex.Status, ex.Messages)
		}
		for _, m := range ex.Messages {
			if v, ok := strings.CutPrefix(m.Text, "RESULT "); ok && m.Type == kernel.MsgStream {
				return strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			}
		}
		return 0, fmt.Errorf("cell %s printed no RESULT", cell)
	}
	if _, err := run("warm", `fmt.Println("RESULT", 0)`); err != nil {
		return nil, err
	}
	var recs []record
	runs := map[string]int{}
	for _, w := range workloads {
		runs[w.name]++
		rec := record{Round: round, Rep: runs[w.name], Monitor: mon, Workload: w.name, N: n}
		s := newSampler(os.Getpid(), k.Pid())
		frames, frameBytes = 0, 0
		ns, err := run(w.name, w.code)
		st := s.stop()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", w.name, err)
		}
		rec.Seconds = float64(ns) / 1e9
		rec.PerSec = float64(n) / rec.Seconds
		rec.KernelCPU, rec.ServerCPU = st.kernelCPU, st.serverCPU
		rec.KernelRSS0, rec.KernelRSSMax, rec.KernelRSS1 = st.k0, st.kmax, st.k1
		rec.ServerRSS0, rec.ServerRSSMax, rec.ServerRSS1 = st.s0, st.smax, st.s1
		rec.Frames, rec.FrameBytes = int(frames), frameBytes
		recs = append(recs, rec)
	}
	return recs, nil
}

// client reads every websocket message, as a browser does, counting loop frames.
type client struct {
	ws         *websocket.Conn
	msgs       chan server.Envelope
	frames     atomic.Int64
	frameBytes atomic.Int64
	err        error
}

func newClient(ws *websocket.Conn) *client {
	c := &client{ws: ws, msgs: make(chan server.Envelope, 1024)}
	go func() {
		defer close(c.msgs)
		for {
			_, b, err := ws.ReadMessage()
			if err != nil {
				c.err = err
				return
			}
			var env server.Envelope
			if json.Unmarshal(b, &env) != nil {
				continue
			}
			if env.Type == server.MsgLoopFrame {
				c.frames.Add(1)
				c.frameBytes.Add(int64(len(b)))
				continue
			}
			c.msgs <- env
		}
	}()
	return c
}

// runCell runs a cell and returns the nanoseconds it printed after "RESULT".
func (c *client) runCell(id string) (int64, error) {
	b, _ := json.Marshal(server.CellRun{Cells: []string{id}})
	if err := c.ws.WriteJSON(server.Envelope{Type: server.MsgCellRun, Data: b}); err != nil {
		return 0, err
	}
	var text strings.Builder
	timeout := time.After(5 * time.Minute)
	for {
		select {
		case env, ok := <-c.msgs:
			if !ok {
				return 0, fmt.Errorf("websocket closed: %v", c.err)
			}
			switch env.Type {
			case server.MsgCellOutput:
				var o server.CellOutput
				json.Unmarshal(env.Data, &o)
				if o.Cell == id {
					text.WriteString(o.Output.Text)
					if o.Output.Type == "error" {
						return 0, fmt.Errorf("cell %s: %s", id, o.Output.Evalue)
					}
				}
			case server.MsgCellDone:
				var d server.CellDone
				json.Unmarshal(env.Data, &d)
				if d.Cell != id {
					continue
				}
				if d.Status != "ok" {
					return 0, fmt.Errorf("cell %s: %s; output %q", id, d.Status, text.String())
				}
				for _, line := range strings.Split(text.String(), "\n") {
					if v, ok := strings.CutPrefix(line, "RESULT "); ok {
						return strconv.ParseInt(strings.TrimSpace(v), 10, 64)
					}
				}
				return 0, fmt.Errorf("cell %s printed %q", id, text.String())
			case server.MsgError:
				return 0, fmt.Errorf("server error: %s", env.Data)
			}
		case <-timeout:
			return 0, fmt.Errorf("cell %s: no cell:done within 5 minutes", id)
		}
	}
}

// childPid returns a child process of pid (the server's kernel).
func childPid(pid int) int {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
		for _, t := range tasks {
			b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", pid, t.Name()))
			for _, f := range strings.Fields(string(b)) {
				if c, err := strconv.Atoi(f); err == nil {
					return c
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return 0
}

// sampler reads RSS and CPU time of the server and the kernel every 100 ms.
type sampler struct {
	spid, kpid int
	mu         sync.Mutex
	st         stats
	done       chan struct{}
	wg         sync.WaitGroup
	cpu0s      float64
	cpu0k      float64
}

type stats struct {
	k0, kmax, k1         int64
	s0, smax, s1         int64
	kernelCPU, serverCPU float64
}

func newSampler(spid, kpid int) *sampler {
	s := &sampler{spid: spid, kpid: kpid, done: make(chan struct{})}
	s.st.k0, s.st.s0 = rss(kpid), rss(spid)
	s.st.kmax, s.st.smax = s.st.k0, s.st.s0
	s.cpu0k, s.cpu0s = cpu(kpid), cpu(spid)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-s.done:
				return
			case <-t.C:
				k, sv := rss(kpid), rss(spid)
				s.mu.Lock()
				s.st.kmax, s.st.smax = max(s.st.kmax, k), max(s.st.smax, sv)
				s.mu.Unlock()
			}
		}
	}()
	return s
}

func (s *sampler) stop() stats {
	close(s.done)
	s.wg.Wait()
	s.st.k1, s.st.s1 = rss(s.kpid), rss(s.spid)
	s.st.kmax, s.st.smax = max(s.st.kmax, s.st.k1), max(s.st.smax, s.st.s1)
	s.st.kernelCPU, s.st.serverCPU = cpu(s.kpid)-s.cpu0k, cpu(s.spid)-s.cpu0s
	return s.st
}

// rss is VmRSS in kB.
func rss(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v)
			if len(f) > 0 {
				n, _ := strconv.ParseInt(f[0], 10, 64)
				return n
			}
		}
	}
	return 0
}

// cpu is utime+stime of pid, in seconds.
func cpu(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100 // USER_HZ
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func minmax(xs []float64) (float64, float64) {
	return slices.Min(xs), slices.Max(xs)
}

// perSession folds the repetitions of a workload in one session into one record: the median
// rate and CPU, the first RSS before, the largest RSS during, the last RSS after.
func perSession(recs []record) []record {
	type key struct {
		round   int
		mon, wl string
	}
	groups := map[key][]record{}
	var order []key
	for _, r := range recs {
		k := key{r.Round, r.Monitor, r.Workload}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], r)
	}
	var out []record
	for _, k := range order {
		g := groups[k]
		r := g[0]
		pick := func(f func(record) float64) float64 {
			var xs []float64
			for _, x := range g {
				xs = append(xs, f(x))
			}
			return median(xs)
		}
		r.PerSec = pick(func(x record) float64 { return x.PerSec })
		r.Seconds = pick(func(x record) float64 { return x.Seconds })
		r.KernelCPU = pick(func(x record) float64 { return x.KernelCPU })
		r.ServerCPU = pick(func(x record) float64 { return x.ServerCPU })
		r.Frames = int(pick(func(x record) float64 { return float64(x.Frames) }))
		r.FrameBytes = int64(pick(func(x record) float64 { return float64(x.FrameBytes) }))
		for _, x := range g {
			r.KernelRSSMax, r.ServerRSSMax = max(r.KernelRSSMax, x.KernelRSSMax), max(r.ServerRSSMax, x.ServerRSSMax)
		}
		r.KernelRSS1, r.ServerRSS1 = g[len(g)-1].KernelRSS1, g[len(g)-1].ServerRSS1
		out = append(out, r)
	}
	return out
}

func summarize(all []record, n, rate, rounds, reps int, direct bool) string {
	recs := perSession(all)
	var b strings.Builder
	setup := "a fresh server + kernel"
	reader := "one websocket client reading every message"
	if direct {
		setup, reader = "a fresh kernel (no server)", "the benchmark reading every kernel message itself"
	}
	fmt.Fprintf(&b, "%d rounds; each round runs the workloads on %s with the monitor on and with it off (order alternating); %d callbacks per workload; chain and burst run %d times per session (a session's figure is their median), paced once; %s.\n\n", rounds, setup, n, reps, reader)
	get := func(w, mon string, f func(record) float64) []float64 {
		var xs []float64
		for _, r := range recs {
			if r.Workload == w && r.Monitor == mon {
				xs = append(xs, f(r))
			}
		}
		return xs
	}
	ratio := func(w string, f func(record) float64) []float64 {
		var xs []float64
		for round := 1; round <= rounds; round++ {
			var on, off float64
			for _, r := range recs {
				if r.Workload == w && r.Round == round {
					if r.Monitor == "on" {
						on = f(r)
					} else {
						off = f(r)
					}
				}
			}
			if on > 0 && off > 0 {
				xs = append(xs, on/off)
			}
		}
		return xs
	}
	ws := []string{"chain", "burst", "paced"}
	b.WriteString("### Throughput (callbacks/s, timed inside the cell; median (min..max) over rounds)\n\n")
	b.WriteString("| workload | monitor on | monitor off | on ÷ off, per round: median (min..max) |\n|---|---|---|---|\n")
	perSec := func(r record) float64 { return r.PerSec }
	for _, w := range ws {
		on, off, rt := get(w, "on", perSec), get(w, "off", perSec), ratio(w, perSec)
		if len(on) == 0 || len(off) == 0 || len(rt) == 0 {
			continue
		}
		a, z := minmax(on)
		c, d := minmax(off)
		e, f := minmax(rt)
		fmt.Fprintf(&b, "| %s | **%.0f** (%.0f..%.0f) | **%.0f** (%.0f..%.0f) | **%.3f** (%.3f..%.3f) |\n", w, median(on), a, z, median(off), c, d, median(rt), e, f)
	}
	b.WriteString("\n### CPU seconds during the workload (median over rounds)\n\n")
	b.WriteString("| workload | kernel on | kernel off | kernel on ÷ off (per round, median) | server on | server off |\n|---|---|---|---|---|---|\n")
	kc := func(r record) float64 { return r.KernelCPU }
	sc := func(r record) float64 { return r.ServerCPU }
	for _, w := range ws {
		fmt.Fprintf(&b, "| %s | %.2f | %.2f | %.3f | %.2f | %.2f |\n", w, median(get(w, "on", kc)), median(get(w, "off", kc)), median(ratio(w, kc)),
			median(get(w, "on", sc)), median(get(w, "off", sc)))
	}
	b.WriteString("\n### Memory (VmRSS, MiB; median over rounds of: before the workload, max during it, after it)\n\n")
	b.WriteString("| workload | monitor | kernel before | kernel max | kernel after | server before | server max | server after | frames to the client | frame MiB |\n|---|---|---|---|---|---|---|---|---|---|\n")
	mib := func(f func(record) int64) func(record) float64 {
		return func(r record) float64 { return float64(f(r)) / 1024 }
	}
	for _, w := range ws {
		for _, mon := range []string{"on", "off"} {
			fmt.Fprintf(&b, "| %s | %s | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.0f | %.2f |\n", w, mon,
				median(get(w, mon, mib(func(r record) int64 { return r.KernelRSS0 }))),
				median(get(w, mon, mib(func(r record) int64 { return r.KernelRSSMax }))),
				median(get(w, mon, mib(func(r record) int64 { return r.KernelRSS1 }))),
				median(get(w, mon, mib(func(r record) int64 { return r.ServerRSS0 }))),
				median(get(w, mon, mib(func(r record) int64 { return r.ServerRSSMax }))),
				median(get(w, mon, mib(func(r record) int64 { return r.ServerRSS1 }))),
				median(get(w, mon, func(r record) float64 { return float64(r.Frames) })),
				median(get(w, mon, func(r record) float64 { return float64(r.FrameBytes) / (1 << 20) })))
		}
	}
	// Bounded: what a session's processes hold after its last workload against after its first.
	b.WriteString("\n### Growth over a session (MiB of VmRSS after its last workload minus after its first; median (min..max) over sessions)\n\n")
	b.WriteString("| monitor | callbacks run in between | kernel | server |\n|---|---|---|---|\n")
	for _, mon := range []string{"on", "off"} {
		var kd, sd []float64
		between := 0
		for round := 1; round <= rounds; round++ {
			var first, last *record
			count := 0
			for i := range all {
				if r := &all[i]; r.Round == round && r.Monitor == mon {
					if first == nil {
						first = r
					} else {
						count += r.N
					}
					last = r
				}
			}
			if first != nil && last != first {
				kd = append(kd, float64(last.KernelRSS1-first.KernelRSS1)/1024)
				sd = append(sd, float64(last.ServerRSS1-first.ServerRSS1)/1024)
				between = count
			}
		}
		if len(kd) > 0 {
			a, z := minmax(kd)
			c, d := minmax(sd)
			fmt.Fprintf(&b, "| %s | %d | %+.1f (%+.1f..%+.1f) | %+.1f (%+.1f..%+.1f) |\n", mon, between, median(kd), a, z, median(sd), c, d)
		}
	}
	fmt.Fprintf(&b, "\npaced: %d callbacks/s asked for.\n", rate)
	return b.String()
}

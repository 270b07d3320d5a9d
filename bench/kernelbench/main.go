// Command kernelbench drives loopbook kernel processes through package kernel and measures what a
// notebook user feels: how long a fresh kernel takes to print, how long a trivial cell takes on a
// warm kernel, how fast interpreted code runs the loop, and how much memory an idle kernel holds.
// bench/peers/ipykernel_bench.py measures the same things for Jupyter's ipykernel; bench/kernel.sh
// runs both, alternately, and prints the comparison (bench/summarise_kernel.py).
//
// Usage:
//
//	kernelbench -kernel BIN start N        N fresh kernels: process start → first stream output of fmt.Println("hi")
//	kernelbench -kernel BIN roundtrip N    N trivial cells on one warm kernel: request → output, → reply, → idle
//	kernelbench -kernel BIN memory         RSS and PSS of a kernel after start and one trivial cell, idle
//	kernelbench -kernel BIN cells NCHAIN NAWAIT   interpreted loop workloads inside a kernel cell
//
// BIN is a binary that serves the kernel protocol when given the argument "kernel" (the repository's
// root command). Every measurement is printed as one JSON line, in the shape the Python peers print.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/loopbook/loopbook/kernel"
)

const impl = "loopbook"

// record is one JSON result line; unused fields are left out.
type record struct {
	Impl string `json:"impl"`
	Test string `json:"test"`
	N    int    `json:"n,omitempty"`

	// start: per-sample milliseconds and their median.
	SamplesMs []float64 `json:"samples_ms,omitempty"`
	ReadyMs   []float64 `json:"ready_ms,omitempty"` // process start → kernel idle (ready for requests)
	P50ms     float64   `json:"p50_ms,omitempty"`

	// roundtrip: microseconds from sending the request.
	OutputP50us float64 `json:"output_p50_us,omitempty"`
	OutputP99us float64 `json:"output_p99_us,omitempty"`
	ReplyP50us  float64 `json:"reply_p50_us,omitempty"`
	ReplyP99us  float64 `json:"reply_p99_us,omitempty"`
	IdleP50us   float64 `json:"idle_p50_us,omitempty"`
	IdleP99us   float64 `json:"idle_p99_us,omitempty"`

	// memory.
	RSSkB int64 `json:"rss_kb,omitempty"`
	PSSkB int64 `json:"pss_kb,omitempty"`
	HWMkB int64 `json:"hwm_kb,omitempty"`

	// cells: timed inside the cell.
	Seconds float64 `json:"seconds,omitempty"`
	NsPerOp float64 `json:"ns_per_op,omitempty"`
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "kernelbench:", err)
		os.Exit(1)
	}
}

const usageText = "usage: kernelbench -kernel BIN start N | roundtrip N | memory | cells NCHAIN NAWAIT"

func run(args []string) error {
	fs := flag.NewFlagSet("kernelbench", flag.ContinueOnError)
	bin := fs.String("kernel", "", "binary serving the kernel protocol as `BIN kernel`")
	idle := fs.Duration("idle", 2*time.Second, "memory: how long the kernel sits idle before it is measured")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *bin == "" || fs.NArg() == 0 {
		return errors.New(usageText)
	}
	cfg := kernel.Config{Command: []string{*bin, "kernel"}}
	rest := fs.Args()[1:]
	count := func(i, def int) (int, error) {
		if len(rest) <= i {
			return def, nil
		}
		n, err := strconv.Atoi(rest[i])
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("bad count %q", rest[i])
		}
		return n, nil
	}
	switch fs.Arg(0) {
	case "start":
		n, err := count(0, 10)
		if err != nil {
			return err
		}
		return startBench(cfg, n)
	case "roundtrip":
		n, err := count(0, 1000)
		if err != nil {
			return err
		}
		return roundTripBench(cfg, n)
	case "memory":
		return memoryBench(cfg, *idle)
	case "cells":
		nChain, err := count(0, 1000000)
		if err != nil {
			return err
		}
		nAwait, err := count(1, 100000)
		if err != nil {
			return err
		}
		return cellsBench(cfg, nChain, nAwait)
	}
	return errors.New(usageText)
}

func emit(r record) error { return json.NewEncoder(os.Stdout).Encode(r) }

// trivial is the trivial cell: the Go twin of ipykernel's print("hi").
const trivial = `fmt.Println("hi")`

// timeout bounds every wait on a kernel, so that a broken kernel fails the run instead of hanging it.
const timeout = 60 * time.Second

// client wraps a kernel with a deadline on every receive.
type client struct {
	k *kernel.Kernel
}

func (c client) next() (kernel.Message, error) {
	select {
	case m, ok := <-c.k.Messages():
		if !ok || (m.Type == kernel.MsgStatus && m.State == kernel.StateDead) {
			return m, fmt.Errorf("kernel died: %s %s", m.Text, c.k.Cause())
		}
		return m, nil
	case <-time.After(timeout):
		return kernel.Message{}, fmt.Errorf("no message from the kernel within %v", timeout)
	}
}

// until reads messages until stop returns true for one, which it returns. Error messages of any
// cell fail the run: a benchmark cell must not fail.
func (c client) until(stop func(kernel.Message) bool) (kernel.Message, error) {
	for {
		m, err := c.next()
		if err != nil {
			return m, err
		}
		if m.Type == kernel.MsgError {
			return m, fmt.Errorf("cell error: %s: %s\n%s", m.Ename, m.Evalue, strings.Join(m.Traceback, "\n"))
		}
		if m.Type == kernel.MsgReply && m.Status != "ok" {
			return m, fmt.Errorf("cell reply %s", m.Status)
		}
		if stop(m) {
			return m, nil
		}
	}
}

func (c client) close() {
	c.k.Shutdown(5 * time.Second)
	for range c.k.Messages() {
	}
}

func isIdle(m kernel.Message) bool {
	return m.Type == kernel.MsgStatus && m.State == kernel.StateIdle
}

// startKernel starts a kernel and waits until it is idle (ready for requests).
func startKernel(cfg kernel.Config) (client, error) {
	k, err := kernel.Start(cfg)
	if err != nil {
		return client{}, err
	}
	c := client{k}
	if _, err := c.until(isIdle); err != nil {
		c.k.Kill()
		return c, err
	}
	return c, nil
}

// execute runs one cell and returns the text it printed on stdout, waiting for its idle status.
func (c client) execute(cell, code string) (string, error) {
	id, err := c.k.Send(kernel.Request{Type: kernel.ReqExecute, Cell: cell, Code: code})
	if err != nil {
		return "", err
	}
	var out strings.Builder
	var seen []string
	_, err = c.until(func(m kernel.Message) bool {
		if m.Type == kernel.MsgStream && m.Name == "stdout" && m.Cell == cell {
			out.WriteString(m.Text)
		}
		b, _ := json.Marshal(m)
		seen = append(seen, string(b))
		return isIdle(m) && m.Parent == id
	})
	if err == nil && out.Len() == 0 {
		// Every benchmark cell prints: say what came instead.
		return "", fmt.Errorf("cell %s printed nothing on stdout before its idle status; messages:\n%s",
			cell, strings.Join(seen, "\n"))
	}
	return out.String(), err
}

// startBench: n times, a fresh kernel process; the clock starts before the process is started and
// stops when the stream output of the first cell arrives. As on the Jupyter side (where the client
// must wait_for_ready before executing, or iopub may miss the output), the cell is sent once the
// kernel reports idle; ready_ms records when that was.
func startBench(cfg kernel.Config, n int) error {
	rec := record{Impl: impl, Test: "start", N: n}
	for i := 0; i < n; i++ {
		t0 := time.Now()
		k, err := kernel.Start(cfg)
		if err != nil {
			return err
		}
		c := client{k}
		if _, err := c.until(isIdle); err != nil {
			k.Kill()
			return err
		}
		ready := time.Since(t0)
		if _, err := k.Send(kernel.Request{Type: kernel.ReqExecute, Cell: "c1", Code: trivial}); err != nil {
			return err
		}
		if _, err := c.until(func(m kernel.Message) bool { return m.Type == kernel.MsgStream }); err != nil {
			return err
		}
		first := time.Since(t0)
		c.close()
		rec.SamplesMs = append(rec.SamplesMs, ms(first))
		rec.ReadyMs = append(rec.ReadyMs, ms(ready))
	}
	rec.P50ms = quantile(rec.SamplesMs, 0.5)
	return emit(rec)
}

// roundTripBench: one warm kernel, then n trivial cells one after the other, each a new cell (as
// Jupyter's execute requests are). For each: request sent → its stream output, → its reply, →
// its idle status.
func roundTripBench(cfg kernel.Config, n int) error {
	c, err := startKernel(cfg)
	if err != nil {
		return err
	}
	defer c.close()
	for i := 0; i < 20; i++ { // warm-up: the first cells compile more of the interpreter's state
		if _, err := c.execute(fmt.Sprint("w", i), trivial); err != nil {
			return err
		}
	}
	var outs, replies, idles []float64
	for i := 0; i < n; i++ {
		cell := fmt.Sprint("c", i)
		t0 := time.Now()
		id, err := c.k.Send(kernel.Request{Type: kernel.ReqExecute, Cell: cell, Code: trivial})
		if err != nil {
			return err
		}
		var tOut, tReply time.Duration
		_, err = c.until(func(m kernel.Message) bool {
			switch {
			case m.Type == kernel.MsgStream && m.Cell == cell && tOut == 0:
				tOut = time.Since(t0)
			case m.Type == kernel.MsgReply && m.Parent == id:
				tReply = time.Since(t0)
			case isIdle(m) && m.Parent == id:
				return true
			}
			return false
		})
		tIdle := time.Since(t0)
		if err != nil {
			return err
		}
		if tOut == 0 || tReply == 0 {
			return fmt.Errorf("cell %s: no output or no reply before idle", cell)
		}
		outs = append(outs, us(tOut))
		replies = append(replies, us(tReply))
		idles = append(idles, us(tIdle))
	}
	return emit(record{Impl: impl, Test: "roundtrip", N: n,
		OutputP50us: quantile(outs, 0.5), OutputP99us: quantile(outs, 0.99),
		ReplyP50us: quantile(replies, 0.5), ReplyP99us: quantile(replies, 0.99),
		IdleP50us: quantile(idles, 0.5), IdleP99us: quantile(idles, 0.99)})
}

// memoryBench: a kernel after start and one trivial cell, left idle, then measured from /proc.
func memoryBench(cfg kernel.Config, idle time.Duration) error {
	c, err := startKernel(cfg)
	if err != nil {
		return err
	}
	defer c.close()
	if _, err := c.execute("c1", trivial); err != nil {
		return err
	}
	time.Sleep(idle)
	rss, hwm, pss, err := procMemory(c.k.Pid())
	if err != nil {
		return err
	}
	return emit(record{Impl: impl, Test: "memory", RSSkB: rss, HWMkB: hwm, PSSkB: pss})
}

// procMemory reads VmRSS and VmHWM from /proc/PID/status and Pss from /proc/PID/smaps_rollup, in kB.
func procMemory(pid int) (rss, hwm, pss int64, err error) {
	field := func(path, name string) (int64, error) {
		f, err := os.Open(path)
		if err != nil {
			return 0, err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), name+":"); ok {
				v, _, _ := strings.Cut(strings.TrimSpace(rest), " ")
				return strconv.ParseInt(v, 10, 64)
			}
		}
		return 0, fmt.Errorf("%s: no %s", path, name)
	}
	dir := "/proc/" + strconv.Itoa(pid)
	if rss, err = field(dir+"/status", "VmRSS"); err != nil {
		return
	}
	if hwm, err = field(dir+"/status", "VmHWM"); err != nil {
		return
	}
	pss, err = field(dir+"/smaps_rollup", "Pss")
	return
}

// The interpreted loop workloads. Each cell times itself with the loop's clock and prints the
// elapsed nanoseconds, so what is measured is the interpreted code on the kernel's loop, not the
// protocol around it.

// chainCell: a callback that reschedules itself with L.CallSoon until a counter reaches N; the
// cell awaits a future the last callback resolves. asyncio's call_soon chain (micro.py chain).
const chainCell = `
chainDone := L.CreateFuture()
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
t0 := time.Now()
L.CallSoon(hop)
co.Await(chainDone)
fmt.Println(time.Since(t0).Nanoseconds())
`

// sleep0Cell: co.Sleep(0) N times, every one a suspension and a resumption one loop iteration
// later with no future: asyncio's `await asyncio.sleep(0)` (micro.py await sleep0).
const sleep0Cell = `
t0 := time.Now()
for i := 0; i < %d; i++ {
	co.Sleep(0)
}
fmt.Println(time.Since(t0).Nanoseconds())
`

// awaitDoneCell: co.Await on a future that is already done N times. It never suspends (neither
// does awaiting a done future in asyncio), so it is the cost of the interpreted call into Await
// alone, not a loop hop.
const awaitDoneCell = `
doneF := L.CreateFuture()
doneF.SetResult(1)
t0 := time.Now()
for i := 0; i < %d; i++ {
	co.Await(doneF)
}
fmt.Println(time.Since(t0).Nanoseconds())
`

// awaitSoonCell: N times a fresh future, resolved by a callback scheduled with L.CallSoon, then
// awaited: one suspension, one callback and one resumption per hop.
const awaitSoonCell = `
t0 := time.Now()
for i := 0; i < %d; i++ {
	f := L.CreateFuture()
	L.CallSoon(func() { f.SetResult(nil) })
	co.Await(f)
}
fmt.Println(time.Since(t0).Nanoseconds())
`

func cellsBench(cfg kernel.Config, nChain, nAwait int) error {
	c, err := startKernel(cfg)
	if err != nil {
		return err
	}
	defer c.close()
	if _, err := c.execute("w", trivial); err != nil {
		return err
	}
	for _, w := range []struct {
		test, code string
		n          int
	}{
		{"cell-chain", chainCell, nChain},
		{"cell-sleep0", sleep0Cell, nAwait},
		{"cell-await-done", awaitDoneCell, nAwait},
		{"cell-await-soon", awaitSoonCell, nAwait},
	} {
		out, err := c.execute(w.test, fmt.Sprintf(w.code, w.n))
		if err != nil {
			return fmt.Errorf("%s: %w", w.test, err)
		}
		ns, err := strconv.ParseInt(strings.TrimSpace(out), 10, 64)
		if err != nil {
			return fmt.Errorf("%s: the cell printed %q", w.test, out)
		}
		if err := emit(record{Impl: impl, Test: w.test, N: w.n, Seconds: float64(ns) / 1e9,
			NsPerOp: float64(ns) / float64(w.n)}); err != nil {
			return err
		}
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }
func us(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }

// quantile is the nearest-rank quantile of xs.
func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.999999) - 1
	return s[max(0, min(i, len(s)-1))]
}

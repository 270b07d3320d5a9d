// Command loopbench runs the loop's side of the cross-runtime benchmarks in bench/run.sh: the
// micro-workloads that bench/peers/micro.py and micro.js mirror, the echo servers (the loop server
// and Go's net for comparison) and the timed echo client. Every measurement is printed as one JSON
// line, in the shape the peers print, for bench/summarise.py.
//
// Usage:
//
//	loopbench chain N [nofd|fd]       each callback CallSoon's the next; fd watches an idle socketpair
//	loopbench burst N                 N CallSoon up front, then drain
//	loopbench timers N                N CallLater with random delays in [0, 10ms)
//	loopbench await N [pingpong|sleep0|pingpong-100|sleep0-100]  N task await/resume hops
//	loopbench tasks N                 N CreateTask of a coroutine that returns at once
//	loopbench serve [-cpuprofile F] loop|net ADDR  echo server (runs until killed)
//	loopbench client [flags]          timed echo client; see loopbench client -h
//
// Pin it as the runner does (taskset -c 0) to get one CPU and GOMAXPROCS=1.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"syscall"
	"time"

	"github.com/loopbook/loopbook/bench/echo"
	"github.com/loopbook/loopbook/bench/workload"
	"github.com/loopbook/loopbook/loop"
)

// impl is the name this program reports its loop workloads under.
const impl = "loopbook"

// record is one JSON result line. Micro-workloads fill the first block, the echo client the
// second; empty fields are left out so every line reads like the peers' lines.
type record struct {
	Impl    string  `json:"impl"`
	Test    string  `json:"test"`
	N       int     `json:"n,omitempty"`
	Seconds float64 `json:"seconds"`
	NsPerOp float64 `json:"ns_per_op"`
	SchedS  float64 `json:"sched_s,omitempty"`

	Conns     int     `json:"conns,omitempty"`
	Size      int     `json:"size,omitempty"`
	Requests  int     `json:"requests,omitempty"`
	ReqPerSec float64 `json:"req_per_s,omitempty"`
	P50us     float64 `json:"p50_us,omitempty"`
	P99us     float64 `json:"p99_us,omitempty"`
	Maxus     float64 `json:"max_us,omitempty"`
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "loopbench:", err)
		os.Exit(1)
	}
}

func usage() error {
	return errors.New("usage: loopbench chain|burst|timers|await|tasks N [variant] | serve [-cpuprofile F] loop|net ADDR | client [flags]")
}

func run(args []string) error {
	if len(args) == 0 {
		return usage()
	}
	switch cmd := args[0]; cmd {
	case "chain", "burst", "timers", "await", "tasks":
		if len(args) < 2 {
			return usage()
		}
		n, err := strconv.Atoi(args[1])
		if err != nil || n <= 0 {
			return fmt.Errorf("bad count %q", args[1])
		}
		variant := ""
		if len(args) > 2 {
			variant = args[2]
		}
		rec, err := micro(cmd, variant, n)
		if err != nil {
			return err
		}
		return emit(rec)
	case "serve":
		return serveCmd(args[1:])
	case "client":
		return client(args[1:])
	}
	return usage()
}

func emit(r record) error { return json.NewEncoder(os.Stdout).Encode(r) }

// micro runs one micro-workload on a fresh loop. The clock starts after the loop (and the idle
// watch) exist and stops when the loop returns, as the Python and Node peers time it.
func micro(cmd, variant string, n int) (record, error) {
	l, err := loop.New()
	if err != nil {
		return record{}, err
	}
	defer l.Close()
	rec := record{Impl: impl, Test: cmd, N: n}
	var sched time.Duration
	var start time.Time
	switch cmd {
	case "chain":
		if variant == "" {
			variant = "nofd"
		}
		rec.Test = "chain-" + variant
		switch variant {
		case "nofd":
		case "fd":
			undo, err := workload.WatchIdle(l)
			if err != nil {
				return rec, err
			}
			defer undo()
		default:
			return rec, fmt.Errorf("chain variant %q: want nofd or fd", variant)
		}
		start = time.Now()
		err = workload.Chain(l, n)
	case "burst":
		start = time.Now()
		sched, err = workload.Burst(l, n)
	case "timers":
		start = time.Now()
		sched, err = workload.Timers(l, n)
	case "await":
		if variant == "" {
			variant = "pingpong"
		}
		rec.Test = "await-" + variant
		start = time.Now()
		switch variant {
		case "pingpong":
			err = workload.AwaitPingPong(l, n)
		case "sleep0":
			err = workload.Sleep0(l, n)
		case "pingpong-100":
			err = workload.AwaitPingPongMany(l, n)
		case "sleep0-100":
			err = workload.Sleep0Many(l, n)
		default:
			return rec, fmt.Errorf("await variant %q: want pingpong, sleep0, pingpong-100 or sleep0-100", variant)
		}
	case "tasks":
		rec.Test = "create-task"
		start = time.Now()
		err = workload.CreateTasks(l, n)
	}
	elapsed := time.Since(start)
	if err != nil {
		return rec, err
	}
	rec.Seconds = elapsed.Seconds()
	rec.NsPerOp = float64(elapsed.Nanoseconds()) / float64(n)
	rec.SchedS = sched.Seconds()
	return rec, nil
}

// serveCmd parses "serve [-cpuprofile FILE] loop|net ADDR". With -cpuprofile, SIGINT or SIGTERM
// ends the server after writing the profile, so the pinned server of a run can be profiled alone,
// without the client in the same profile.
func serveCmd(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile to this file until SIGINT/SIGTERM")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return usage()
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
		go func() {
			<-sig
			pprof.StopCPUProfile()
			f.Close()
			os.Exit(0)
		}()
	}
	return serve(fs.Arg(0), fs.Arg(1))
}

// serve runs an echo server in the foreground until the process is killed. The loop server runs
// on this goroutine; the net server uses Go's scheduler as usual.
func serve(kind, addr string) error {
	switch kind {
	case "loop":
		ln, err := echo.Listen(addr)
		if err != nil {
			return err
		}
		l, err := loop.New()
		if err != nil {
			return err
		}
		t, err := l.CreateTask(echo.Acceptor(ln))
		if err != nil {
			return err
		}
		fmt.Fprintln(os.Stderr, "loop echo server on", ln.LocalAddr())
		// The acceptor only returns on a listener failure; report it instead of serving silently.
		if _, err := l.RunUntilComplete(t); err != nil {
			return err
		}
		return errors.New("acceptor returned")
	case "net":
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return err
		}
		fmt.Fprintln(os.Stderr, "net echo server on", ln.Addr())
		return echo.ServeNet(ln)
	}
	return fmt.Errorf("serve %q: want loop or net", kind)
}

func client(args []string) error {
	fs := flag.NewFlagSet("client", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:47001", "server address")
	conns := fs.Int("c", 50, "connections, one request in flight on each")
	size := fs.Int("size", 64, "message size in bytes")
	warm := fs.Duration("warmup", time.Second, "warm-up before the measured window")
	dur := fs.Duration("dur", 5*time.Second, "measured window")
	wait := fs.Duration("wait", 10*time.Second, "how long to wait for the server to accept")
	label := fs.String("label", "unknown", "server implementation, reported as impl")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := echo.WaitFor(*addr, *wait); err != nil {
		return fmt.Errorf("server at %s: %w", *addr, err)
	}
	res, err := echo.RunClient(echo.ClientConfig{Addr: *addr, Conns: *conns, Size: *size, Warmup: *warm, Duration: *dur})
	if err != nil {
		return err
	}
	rec := record{
		Impl: *label, Test: "echo", Seconds: res.Seconds, Conns: *conns, Size: *size,
		Requests: res.Requests, ReqPerSec: res.ReqPerSec, P50us: res.P50us, P99us: res.P99us, Maxus: res.Maxus,
	}
	if res.ReqPerSec > 0 {
		rec.NsPerOp = 1e9 / res.ReqPerSec
	}
	return emit(rec)
}

package kernel

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"go/parser"
	"os"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	yaegi "github.com/traefik/yaegi/interp"

	"github.com/loopbook/loopbook/interp"
	"github.com/loopbook/loopbook/interp/display"
	"github.com/loopbook/loopbook/interp/symbols"
	"github.com/loopbook/loopbook/loop"
)

// Grace periods of the interrupt layers (DESIGN §3).
const (
	cooperativeGrace = 300 * time.Millisecond  // cancelling the cell's task: it stops at its next await
	stopGrace        = 1500 * time.Millisecond // stopping the interpreter: the next interpreted step
)

// Exit codes of a kernel that ends itself.
const (
	ExitOK    = 0
	ExitStuck = 3 // an interrupt could not stop a native call: the client restarts the kernel
	ExitSetup = 4 // the kernel could not start
)

// Serve is the kernel process: `loopbook kernel [flags]`. It limits itself, then runs the
// notebook's loop until the parent asks it to shut down or goes away. It returns the exit code.
func Serve(args []string) int {
	fs := flag.NewFlagSet("kernel", flag.ContinueOnError)
	lim := DefaultLimits()
	lim.flags(fs)
	if err := fs.Parse(args); err != nil {
		return ExitSetup
	}
	msgs := os.NewFile(fdMsgs, "messages")
	crash := os.NewFile(fdCrash, "crash")
	if msgs == nil || crash == nil {
		fmt.Fprintln(os.Stderr, "loopbook kernel: started without its protocol file descriptors (the server starts kernels)")
		return ExitSetup
	}
	// The Go runtime's last words (stack overflow, out of memory, a fatal panic) go to the
	// parent on their own fd, so it can say why the kernel died.
	if err := debug.SetCrashOutput(crash, debug.CrashOptions{}); err != nil {
		fmt.Fprintln(os.Stderr, "loopbook kernel:", err)
	}
	k := &kernel{sendw: bufio.NewWriter(msgs), runs: map[int]string{}, live: map[int]Owned{}, trim: newTrimmer()}
	notes := applyLimits(lim)
	if err := k.start(lim.VirtualTime); err != nil {
		k.send(Message{Type: MsgDying, Text: "the kernel could not start: " + err.Error()})
		return ExitSetup
	}
	k.send(Message{Type: MsgStatus, State: StateStarting, Pid: os.Getpid(), Text: strings.Join(notes, "; ")})
	go k.readRequests(os.NewFile(fdShell, "shell"), false)
	go k.readRequests(os.NewFile(fdControl, "control"), true)
	go k.watchOwned()
	k.panel.start(k.s.Line)
	k.send(Message{Type: MsgStatus, State: StateIdle})
	k.trim.idle()
	if err := k.l.RunForever(); err != nil {
		k.send(Message{Type: MsgDying, Text: err.Error()})
		return ExitSetup
	}
	k.router.flushAll()
	k.flushSend()
	return ExitOK
}

// kernel is the state of the kernel process.
type kernel struct {
	l      *loop.Loop
	s      *interp.Session
	router *router
	panel  *panel // the loop monitors (monitor.go)
	trim   *trimmer

	sendMu sync.Mutex
	sendw  *bufio.Writer

	mu      sync.Mutex
	queue   []Request      // shell requests waiting for the running one
	runs    map[int]string // count → cell id, for every run so far
	count   int
	current atomic.Pointer[cellRun] // the request being handled

	live map[int]Owned // loop goroutine: runs that still own work, with what was last reported

	// reporting is the run whose leftovers report is being made (see report): the loop's reports
	// about a coroutine never awaited carry no owner of their own. Loop goroutine (or the cell's
	// task, while the loop waits for it).
	reporting int
}

// cellRun is one request being handled.
type cellRun struct {
	req   Request
	count int
	task  *loop.Task
	done  chan struct{}
}

func (k *kernel) start(virtualTime bool) error {
	k.router = newRouter(k.send, k.cellOf)
	owner := func() int {
		if k.s == nil {
			return 0
		}
		o, ok := k.s.CallerOwner()
		if !ok {
			return 0
		}
		return int(o)
	}
	stdout := streamWriter{r: k.router, name: "stdout", owner: owner}
	stderr := streamWriter{r: k.router, name: "stderr", owner: owner}
	// Debug mode is on in notebooks (DESIGN §2.9); the loop's own reports (a slow callback, an
	// exception never retrieved) are stderr of the work they are about.
	l, err := loop.New(loop.Options{Debug: true, Log: stderr, VirtualTime: virtualTime})
	if err != nil {
		return err
	}
	k.l = l
	l.SetExceptionHandler(func(_ *loop.Loop, c loop.ExceptionContext) {
		o := int(c.Owner())
		if o == 0 {
			o = k.reporting
		}
		k.router.write(o, "stderr", []byte(exceptionText(c)+"\n"))
	})
	k.panel = newPanel(l, k.send, owner)
	exports := func() yaegi.Exports {
		ex := symbols.Exports()
		k.hookLoopNew(ex)
		return ex
	}
	s, err := interp.New(interp.Options{
		Loop:    l,
		Stdout:  stdout,
		Stderr:  stderr,
		Exports: exports,
		Setup:   compilePrelude,
		OnGoPanic: func(o loop.Owner, e *interp.Error) {
			k.sendError(int(o), e)
		},
	})
	if err != nil {
		return err
	}
	k.s = s
	l.SetSiteHook(cellSites(l, s))
	display.SetPublisher(func(out display.Output) {
		count := owner()
		k.router.flush(count)
		k.send(Message{Type: MsgDisplay, Cell: k.cellOf(count), Count: count, Data: out.Data, DisplayID: out.ID, Update: out.Update})
	})
	return captureFDs(k.router, k.fdOwner)
}

// compilePrelude compiles the symbols package's generic helpers into a new interpreter (the
// session has loaded the symbol tables already).
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

// fdOwner guesses who wrote bytes that arrived on the kernel's own stdout or stderr (native code
// writing to fd 1, or os.Stdout used directly): the callback running on the loop now, else the
// cell being run, else nobody.
func (k *kernel) fdOwner() int {
	if cb, ok := k.l.Current(); ok {
		return int(cb.Info.Owner)
	}
	if r := k.current.Load(); r != nil {
		return r.count
	}
	return 0
}

func (k *kernel) cellOf(count int) string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.runs[count]
}

// send writes one message to the parent. If the parent is gone, the kernel has no reason to
// live: it exits.
func (k *kernel) send(m Message) {
	b, err := json.Marshal(m)
	if err != nil {
		b, _ = json.Marshal(Message{Type: MsgError, Cell: m.Cell, Count: m.Count, Ename: "InternalError", Evalue: err.Error()})
	}
	k.sendMu.Lock()
	defer k.sendMu.Unlock()
	k.sendw.Write(b)
	k.sendw.WriteByte('\n')
	if err := k.sendw.Flush(); err != nil {
		os.Exit(ExitOK)
	}
}

func (k *kernel) flushSend() {
	k.sendMu.Lock()
	k.sendw.Flush()
	k.sendMu.Unlock()
}

// readRequests reads one request per line from the shell or the control fd.
func (k *kernel) readRequests(f *os.File, control bool) {
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var req Request
		if err := json.Unmarshal(sc.Bytes(), &req); err != nil {
			k.send(Message{Type: MsgReply, Status: "error", Evalue: "bad request: " + err.Error()})
			continue
		}
		if control {
			k.control(req)
			continue
		}
		k.mu.Lock()
		k.queue = append(k.queue, req)
		k.mu.Unlock()
		k.l.CallSoonThreadSafe(k.pump, loop.WithName("kernel: next request"))
	}
	if !control {
		// The parent closed the shell: it is gone or wants us gone.
		k.l.CallSoonThreadSafe(k.shutdown, loop.WithName("kernel: shutdown"))
	}
}

// pump starts the next queued request if none is running. Loop goroutine.
func (k *kernel) pump() {
	if k.current.Load() != nil {
		return
	}
	k.mu.Lock()
	if len(k.queue) == 0 {
		k.mu.Unlock()
		return
	}
	req := k.queue[0]
	k.queue = k.queue[1:]
	k.mu.Unlock()
	k.trim.start()
	k.send(Message{Type: MsgStatus, State: StateBusy, Parent: req.ID})
	switch req.Type {
	case ReqExecute:
		k.execute(req)
	case ReqCancelOwned:
		k.cancelCell(req.Cell, "the cell was deleted")
		k.finishRequest(req, "ok", "")
	default:
		k.finishRequest(req, "error", fmt.Sprintf("unknown request type %q", req.Type))
	}
}

// finishRequest replies to a request that ran no cell and goes on with the next one (a request
// that arrived meanwhile found the kernel busy and waits for this).
func (k *kernel) finishRequest(req Request, status, evalue string) {
	k.send(Message{Type: MsgReply, Parent: req.ID, Status: status, Evalue: evalue})
	k.send(Message{Type: MsgStatus, State: StateIdle, Parent: req.ID})
	k.trim.idle()
	k.pumpNext()
}

// execute runs a cell as a task on the shared loop, owned by its run. Loop goroutine.
func (k *kernel) execute(req Request) {
	k.cancelCell(req.Cell, "the cell was run again")
	k.mu.Lock()
	k.count++
	count := k.count
	k.runs[count] = req.Cell
	k.mu.Unlock()
	run := &cellRun{req: req, count: count, done: make(chan struct{})}
	k.current.Store(run)
	k.send(Message{Type: MsgExecuteInput, Parent: req.ID, Cell: req.Cell, Count: count})
	task, err := k.l.CreateTask(func(co *loop.Co) (any, error) {
		res := k.s.Execute(co, interp.Cell{ID: req.Cell, Count: count, Source: req.Code})
		k.finishCell(run, res)
		return nil, nil
	}, loop.WithOwner(loop.Owner(count)), loop.WithName("In["+strconv.Itoa(count)+"]"))
	if err != nil {
		k.finishCell(run, interp.Result{Err: &interp.Error{Kind: interp.InternalError, Msg: err.Error()}})
		k.pumpNext()
		return
	}
	run.task = task
	task.AddDoneCallback(func(*loop.Future) {
		// A cell's task cancelled before its first step (an interrupt's clean-up racing the
		// next request) never reaches finishCell: finish the cell here, or the kernel would
		// wait for it for ever.
		if k.current.Load() == run {
			k.finishCell(run, interp.Result{Err: &interp.Error{Kind: interp.CancelledError, Msg: "cancelled before it started"}})
		}
		// The next request is taken only now, once the task is done and this callback (which
		// the cell's run owns, as every callback of its task's future) has run: a re-run of
		// the cell would otherwise find it still queued and report it as left-over work.
		k.pumpNext()
	})
}

// pumpNext schedules the handling of the next queued request, owned by nobody.
func (k *kernel) pumpNext() {
	k.l.CallSoon(k.pump, loop.WithName("kernel: next request"), loop.WithOwner(0))
}

// finishCell reports a cell's result. It runs at the end of the cell's task.
func (k *kernel) finishCell(run *cellRun, res interp.Result) {
	k.report(run.count)
	syncFDs()
	k.router.flush(run.count)
	cell := run.req.Cell
	for _, n := range res.Notices {
		k.send(Message{Type: MsgNotice, Cell: cell, Count: run.count, Text: n})
	}
	status := "ok"
	if res.Err != nil {
		status = "error"
		k.sendError(run.count, res.Err)
	} else if res.Value != nil {
		k.send(Message{Type: MsgResult, Cell: cell, Count: run.count, Data: res.Value})
	}
	k.router.finish(run.count)
	k.reportOwned(run.count)
	k.send(Message{Type: MsgReply, Parent: run.req.ID, Cell: cell, Count: run.count, Status: status})
	k.send(Message{Type: MsgStatus, State: StateIdle, Parent: run.req.ID})
	k.current.Store(nil)
	close(run.done)
	k.trim.idle()
}

func (k *kernel) sendError(count int, e *interp.Error) {
	k.router.flush(count)
	k.send(Message{Type: MsgError, Cell: k.cellOf(count), Count: count, Ename: string(e.Kind), Evalue: e.Error(), Traceback: e.Traceback()})
}

// report gives, in run c's stderr, the warnings asyncio prints when it collects garbage: a task
// or future of the run whose exception nobody retrieved, a coroutine object it made and never
// awaited. The loop makes them deterministic (Loop.Report); the kernel asks when the cell
// returns and again when the last work the run left on the loop ends (a task failing after its
// cell returned is reported then: nothing of the run is left that could still retrieve it).
// Loop goroutine, or the cell's task.
func (k *kernel) report(c int) {
	k.reporting = c
	k.l.Report(loop.Owner(c))
	k.reporting = 0
}

// exceptionText is what the loop's exception handler prints, as asyncio's default handler does:
// the message, the task or future concerned, the error. The Go stack of a panic is left out: it
// is the interpreter's, not the cell's (a cell's own panics are reported with cell positions).
func exceptionText(c loop.ExceptionContext) string {
	var b strings.Builder
	b.WriteString(c.Message)
	if c.Task != nil {
		fmt.Fprintf(&b, "\ntask: %s", c.Task)
	} else if c.Future != nil {
		fmt.Fprintf(&b, "\nfuture: %s", c.Future)
	}
	if c.Err != nil {
		fmt.Fprintf(&b, "\n%v", c.Err)
	}
	return b.String()
}

// cancelCell cancels what earlier runs of a cell still own. Loop goroutine.
func (k *kernel) cancelCell(cell, why string) {
	k.mu.Lock()
	var counts []int
	for c, id := range k.runs {
		if id == cell {
			counts = append(counts, c)
		}
	}
	k.mu.Unlock()
	sort.Ints(counts)
	for _, c := range counts {
		if got := k.l.CancelOwned(loop.Owner(c)); got != (loop.Owned{}) {
			k.send(Message{Type: MsgNotice, Cell: cell, Count: c, Text: fmt.Sprintf("%s: cancelled what In[%d] still owned (%s)", why, c, ownedText(got))})
			k.reportOwned(c)
		}
	}
}

func ownedText(o loop.Owned) string {
	var parts []string
	add := func(n int, what string) {
		if n == 1 {
			parts = append(parts, "1 "+what)
		} else if n > 1 {
			parts = append(parts, strconv.Itoa(n)+" "+what+"s")
		}
	}
	add(o.Tasks, "task")
	add(o.Timers, "timer")
	add(o.Watchers, "watcher")
	add(o.Ready, "callback")
	return strings.Join(parts, ", ")
}

// watchOwned reports, a few times a second, what cell runs still own, while any do.
func (k *kernel) watchOwned() {
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for range t.C {
		k.l.CallSoonThreadSafe(func() {
			counts := make([]int, 0, len(k.live))
			for c := range k.live {
				counts = append(counts, c)
			}
			sort.Ints(counts)
			for _, c := range counts {
				k.reportOwned(c)
			}
		}, loop.WithName("kernel: owned report"), loop.WithOwner(0))
	}
}

// reportOwned sends an owned message for run c when what it owns changed. Loop goroutine.
func (k *kernel) reportOwned(c int) {
	o := k.l.Owned(loop.Owner(c))
	now := Owned{Tasks: o.Tasks, Timers: o.Timers, Watchers: o.Watchers, Ready: o.Ready}
	if r := k.current.Load(); r != nil && r.count == c && now.Tasks > 0 {
		now.Tasks-- // the cell's own task is not something it left behind
	}
	last, tracked := k.live[c]
	if tracked && last == now {
		return
	}
	if now.Empty() {
		delete(k.live, c)
		if !tracked {
			return // it never owned anything after its cell returned
		}
		k.report(c)
		k.router.finish(c)
	} else {
		k.live[c] = now
	}
	k.send(Message{Type: MsgOwned, Cell: k.cellOf(c), Count: c, Owned: &now})
}

// control handles the control fd: interrupt and shutdown. Its own goroutine.
func (k *kernel) control(req Request) {
	switch req.Type {
	case ReqInterrupt:
		k.interrupt(req)
	case ReqLoop:
		if msg := k.loopControl(req); msg != "" {
			k.send(Message{Type: MsgReply, Parent: req.ID, Status: "error", Evalue: msg})
			return
		}
		k.send(Message{Type: MsgReply, Parent: req.ID, Status: "ok"})
	case ReqShutdown:
		k.l.CallSoonThreadSafe(k.shutdown, loop.WithName("kernel: shutdown"))
		k.send(Message{Type: MsgReply, Parent: req.ID, Status: "ok"})
	default:
		k.send(Message{Type: MsgReply, Parent: req.ID, Status: "error", Evalue: fmt.Sprintf("unknown control request %q", req.Type)})
	}
}

// interrupt stops the running cell in layers (DESIGN §3) and drops queued requests.
func (k *kernel) interrupt(req Request) {
	k.mu.Lock()
	dropped := k.queue
	k.queue = nil
	k.mu.Unlock()
	for _, d := range dropped {
		k.send(Message{Type: MsgReply, Parent: d.ID, Cell: d.Cell, Status: "aborted"})
	}
	run := k.current.Load()
	if run == nil || run.req.Type != ReqExecute {
		k.send(Message{Type: MsgReply, Parent: req.ID, Status: "ok"})
		return
	}
	// 1. Cancel the cell's task: it stops at its next await.
	k.l.CallSoonThreadSafe(func() {
		if run.task != nil {
			run.task.Cancel("interrupted")
		}
	}, loop.WithName("kernel: interrupt"), loop.WithOwner(0))
	if waitDone(run.done, cooperativeGrace) {
		k.send(Message{Type: MsgReply, Parent: req.ID, Status: "ok"})
		return
	}
	// 2. Stop the interpreter: every interpreted function stops at its next step. Cancelling
	// the task again wakes it if it is suspended in an await.
	k.s.Interrupt()
	k.l.CallSoonThreadSafe(func() {
		if run.task != nil {
			run.task.Cancel("interrupted")
		}
	}, loop.WithName("kernel: interrupt"), loop.WithOwner(0))
	if waitDone(run.done, stopGrace) {
		// Every cell's interpreted callbacks are dead now (yaegi makes them return zero values):
		// cancel what the cells own and say so.
		k.l.CallSoonThreadSafe(func() { k.stopAllOwned(run.count) }, loop.WithName("kernel: interrupt"), loop.WithOwner(0))
		k.send(Message{Type: MsgReply, Parent: req.ID, Status: "ok"})
		return
	}
	// 3. A native call still blocks: only a new process helps.
	k.send(Message{Type: MsgDying, Cell: run.req.Cell, Count: run.count,
		Text: fmt.Sprintf("In[%d] is blocked in a call the interrupt cannot stop; the kernel restarts and its state is lost", run.count)})
	k.send(Message{Type: MsgReply, Parent: req.ID, Status: "ok"})
	k.flushSend()
	os.Exit(ExitStuck)
}

// stopAllOwned cancels what every cell run owns after the interpreter was stopped. Loop goroutine.
func (k *kernel) stopAllOwned(by int) {
	k.mu.Lock()
	counts := make([]int, 0, len(k.runs))
	for c := range k.runs {
		if c <= by { // a later run started after the interpreter was re-primed: it is alive
			counts = append(counts, c)
		}
	}
	k.mu.Unlock()
	sort.Ints(counts)
	for _, c := range counts {
		if got := k.l.CancelOwned(loop.Owner(c)); got != (loop.Owned{}) {
			k.send(Message{Type: MsgNotice, Cell: k.cellOf(c), Count: c,
				Text: fmt.Sprintf("the interrupt of In[%d] stopped the interpreter: cancelled what In[%d] still owned (%s)", by, c, ownedText(got))})
			k.reportOwned(c)
		}
	}
}

func waitDone(ch <-chan struct{}, d time.Duration) bool {
	select {
	case <-ch:
		return true
	case <-time.After(d):
		return false
	}
}

// shutdown cancels everything and stops the loop. Loop goroutine.
func (k *kernel) shutdown() {
	for _, t := range k.l.AllTasks() {
		t.Cancel("kernel shutdown")
	}
	k.l.Stop()
}

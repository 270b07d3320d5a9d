package kernel_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/loopbook/loopbook/kernel"
)

// The test binary doubles as the kernel: started with LOOPBOOK_TEST_KERNEL=1 it serves the
// protocol instead of running tests, exactly as `loopbook kernel` does.
func TestMain(m *testing.M) {
	if os.Getenv("LOOPBOOK_TEST_KERNEL") == "1" {
		// LOOPBOOK_TEST_CPUPROFILE=FILE profiles the kernel process (go test -bench … with it set
		// profiles the kernels the benchmark starts; the last one to exit wins).
		// LOOPBOOK_TEST_MEMPROFILE=FILE writes the kernel's heap profile once it has been up for
		// LOOPBOOK_TEST_MEMPROFILE_AFTER (default 1s).
		if path := os.Getenv("LOOPBOOK_TEST_MEMPROFILE"); path != "" {
			runtime.MemProfileRate = 4096
			after, err := time.ParseDuration(os.Getenv("LOOPBOOK_TEST_MEMPROFILE_AFTER"))
			if err != nil {
				after = time.Second
			}
			time.AfterFunc(after, func() {
				if f, err := os.Create(path); err == nil {
					runtime.GC()
					pprof.WriteHeapProfile(f)
					f.Close()
				}
			})
		}
		if path := os.Getenv("LOOPBOOK_TEST_CPUPROFILE"); path != "" {
			if f, err := os.Create(path); err == nil && pprof.StartCPUProfile(f) == nil {
				code := kernel.Serve(os.Args[1:])
				pprof.StopCPUProfile()
				f.Close()
				os.Exit(code)
			}
		}
		os.Exit(kernel.Serve(os.Args[1:]))
	}
	os.Exit(m.Run())
}

func start(t *testing.T) *kernel.Kernel {
	t.Helper()
	k, err := kernel.Start(kernel.Config{Command: []string{os.Args[0]}, Env: []string{"LOOPBOOK_TEST_KERNEL=1"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		k.Kill()
		for range k.Messages() {
		}
		<-k.Done()
	})
	// starting, then idle.
	for _, want := range []string{kernel.StateStarting, kernel.StateIdle} {
		m := next(t, k, 10*time.Second)
		if m.Type != kernel.MsgStatus || m.State != want {
			t.Fatalf("kernel start: got %+v, want status %s", m, want)
		}
	}
	return k
}

func next(t *testing.T, k *kernel.Kernel, d time.Duration) kernel.Message {
	t.Helper()
	m, ok := nextWithin(t, k, d)
	if !ok {
		t.Fatalf("no message from the kernel within %v", d)
	}
	return m
}

// nextWithin is next for a test that says more when no message comes: false if none came within
// d. A kernel that ends is still fatal here, as in next.
func nextWithin(t *testing.T, k *kernel.Kernel, d time.Duration) (kernel.Message, bool) {
	t.Helper()
	select {
	case m, ok := <-k.Messages():
		if !ok {
			t.Fatalf("kernel messages closed: %s", k.Cause())
		}
		return m, true
	case <-time.After(d):
		return kernel.Message{}, false
	}
}

// collect reads messages until stop returns true for one (included).
func collect(t *testing.T, k *kernel.Kernel, d time.Duration, stop func(kernel.Message) bool) []kernel.Message {
	t.Helper()
	var got []kernel.Message
	deadline := time.Now().Add(d)
	for {
		m := next(t, k, time.Until(deadline))
		if m.Type == kernel.MsgLoop {
			continue // the loop panel's frames come and go with timing; TestMonitor looks at them
		}
		got = append(got, m)
		if stop(m) {
			return got
		}
	}
}

// brief renders a message as one comparable line.
func brief(m kernel.Message) string {
	s := m.Type
	switch m.Type {
	case kernel.MsgStatus:
		s += " " + m.State
		if m.State == kernel.StateDead {
			s += ": " + m.Text
		}
	case kernel.MsgStream:
		s += fmt.Sprintf(" %s[%d] %s %q", m.Cell, m.Count, m.Name, m.Text)
	case kernel.MsgResult:
		s += fmt.Sprintf(" %s[%d] %q", m.Cell, m.Count, m.Data["text/plain"])
	case kernel.MsgError:
		s += fmt.Sprintf(" %s[%d] %s %s", m.Cell, m.Count, m.Ename, m.Evalue)
	case kernel.MsgExecuteInput:
		s += fmt.Sprintf(" %s[%d]", m.Cell, m.Count)
	case kernel.MsgReply:
		s += " " + m.Status
	case kernel.MsgOwned:
		s += fmt.Sprintf(" %s[%d] %+v", m.Cell, m.Count, *m.Owned)
	case kernel.MsgNotice, kernel.MsgDying:
		s += fmt.Sprintf(" %s[%d] %s", m.Cell, m.Count, m.Text)
	case kernel.MsgDisplay:
		s += fmt.Sprintf(" %s[%d] %v", m.Cell, m.Count, m.Data)
	}
	return s
}

func isIdleFor(id string) func(kernel.Message) bool {
	return func(m kernel.Message) bool {
		return m.Type == kernel.MsgStatus && m.State == kernel.StateIdle && m.Parent == id
	}
}

func execute(t *testing.T, k *kernel.Kernel, cell, code string) []string {
	t.Helper()
	id, err := k.Send(kernel.Request{Type: kernel.ReqExecute, Cell: cell, Code: code})
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, m := range collect(t, k, 20*time.Second, isIdleFor(id)) {
		lines = append(lines, brief(m))
	}
	return lines
}

func TestExecuteSequence(t *testing.T) {
	k := start(t)
	tests := []struct {
		cell, code string
		want       []string
	}{
		{"a", `fmt.Println("hello")` + "\n" + `1 + 2`, []string{
			"status busy", "execute_input a[1]", `stream a[1] stdout "hello\n"`, `result a[1] "3"`, "reply ok", "status idle",
		}},
		{"b", "x := undefined", []string{
			"status busy", "execute_input b[2]", "error b[2] CompileError In[2]:1:6: undefined: undefined", "reply error", "status idle",
		}},
		{"c", `fmt.Fprintln(os.Stderr, "to stderr")`, []string{
			"status busy", "execute_input c[3]", `stream c[3] stderr "to stderr\n"`, "reply ok", "status idle",
		}},
		// os.Stdout itself is fd 1, read by the kernel: its bytes reach the cell, though not
		// necessarily in order with fmt's (as with C's stdout under Jupyter).
		{"c2", `n, err := os.Stdout.WriteString("direct\n")` + "\n" + `_ = n + 0`, []string{
			"status busy", "execute_input c2[4]", `stream c2[4] stdout "direct\n"`, "reply ok", "status idle",
		}},
		{"d", `display.Show(display.HTML("<b>hi</b>"))`, []string{
			"status busy", "execute_input d[5]", "display d[5] map[text/html:<b>hi</b> text/plain:<HTML>]", "reply ok", "status idle",
		}},
	}
	for _, tt := range tests {
		got := execute(t, k, tt.cell, tt.code)
		if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
			t.Errorf("cell %s %q:\n got: %q\nwant: %q", tt.cell, tt.code, got, tt.want)
		}
	}
}

// Work a cell leaves on the loop keeps running after the cell returned, its output reaches the
// cell, the cell reports what it still owns, and re-running the cell cancels it.
func TestOwnership(t *testing.T) {
	k := start(t)
	got := execute(t, k, "timer", `for i := range 3 { L.CallLater(time.Duration(i+1)*50*time.Millisecond, func() { fmt.Println("tick", i) }) }`)
	if got[len(got)-2] != "reply ok" {
		t.Fatalf("cell failed: %q", got)
	}
	if !strings.Contains(strings.Join(got, "\n"), "owned timer[1] {Tasks:0 Timers:3 Watchers:0 Ready:0}") {
		t.Errorf("the cell did not report the timers it left: %q", got)
	}
	var later []string
	for _, m := range collect(t, k, 10*time.Second, func(m kernel.Message) bool {
		return m.Type == kernel.MsgOwned && m.Owned.Empty()
	}) {
		later = append(later, brief(m))
	}
	var ticks []string
	for _, l := range later {
		if strings.HasPrefix(l, "stream") {
			ticks = append(ticks, l)
		}
	}
	want := []string{`stream timer[1] stdout "tick 0\n"`, `stream timer[1] stdout "tick 1\n"`, `stream timer[1] stdout "tick 2\n"`}
	if strings.Join(ticks, "\n") != strings.Join(want, "\n") {
		t.Errorf("output after the cell returned:\n got %q\nwant %q\n(all: %q)", ticks, want, later)
	}

	execute(t, k, "forever", `L.CallLater(time.Hour, func() { fmt.Println("never") })`)
	got = execute(t, k, "forever", `"again"`)
	joined := strings.Join(got, "\n")
	if !strings.Contains(joined, "notice forever[2] the cell was run again: cancelled what In[2] still owned (1 timer)") {
		t.Errorf("re-run did not cancel the timer: %q", got)
	}
}

// Interrupt works in layers: a cell waiting in an await is cancelled; a cell spinning in
// interpreted code is stopped; a cell blocked in a native call costs the kernel.
func TestInterrupt(t *testing.T) {
	tests := []struct {
		name, code string
		wantEname  string
		dies       bool
	}{
		{"awaiting", "if err := co.Sleep(time.Hour); err != nil {\n\tfmt.Println(\"sleep:\", err)\n} else {\n\tfmt.Println(\"after\")\n}", "", false},
		{"spinning", "n := 0\nfor { n++ }", "Interrupted", false},
		{"native block", "time.Sleep(time.Hour)", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := start(t)
			id, _ := k.Send(kernel.Request{Type: kernel.ReqExecute, Cell: "c", Code: tt.code})
			queued, _ := k.Send(kernel.Request{Type: kernel.ReqExecute, Cell: "q", Code: `fmt.Println("queued ran")`})
			collect(t, k, 10*time.Second, func(m kernel.Message) bool { return m.Type == kernel.MsgExecuteInput })
			time.Sleep(100 * time.Millisecond) // let it get going
			began := time.Now()
			k.Interrupt()
			var lines []string
			msgs := collect(t, k, 10*time.Second, func(m kernel.Message) bool {
				return (m.Type == kernel.MsgStatus && m.State == kernel.StateIdle && m.Parent == id) || m.State == kernel.StateDead
			})
			took := time.Since(began)
			for _, m := range msgs {
				lines = append(lines, brief(m))
			}
			joined := strings.Join(lines, "\n")
			t.Logf("interrupt took %v:\n%s", took, joined)
			if strings.Contains(joined, "queued ran") {
				t.Errorf("the queued cell ran after the interrupt")
			}
			if !strings.Contains(joined, "reply aborted") || !strings.Contains(joined, "reply") {
				t.Errorf("the queued request %s was not aborted", queued)
			}
			if tt.dies {
				if !strings.Contains(joined, "status dead") || !strings.Contains(joined, "blocked in a call the interrupt cannot stop") {
					t.Errorf("a native block did not end in a restartable death with its cause")
				}
				return
			}
			if strings.Contains(joined, "status dead") {
				t.Fatalf("the kernel died")
			}
			if tt.wantEname != "" && !strings.Contains(joined, "error c[1] "+tt.wantEname) {
				t.Errorf("no %s error for the interrupted cell", tt.wantEname)
			}
			if tt.wantEname == "" && (!strings.Contains(joined, `"sleep: `) || strings.Contains(joined, "after")) {
				t.Errorf("the await did not return the cancellation, or the cell went on")
			}
			// The kernel still works.
			got := execute(t, k, "after", `1+1`)
			if !strings.Contains(strings.Join(got, "\n"), `"2"`) {
				t.Errorf("after the interrupt: %q", got)
			}
		})
	}
}

// Faults that kill the kernel are reported with their cause, and a new kernel is one call away.
func TestFaults(t *testing.T) {
	tests := []struct {
		name, code string
		cause      string
		dies       bool
	}{
		{"infinite recursion", "func f(n int) int { return f(n+1) + 1 }\nf(0)", "stack overflow", true},
		{"10 GiB allocation", "b := make([]byte, 10<<30)\nb[len(b)-1] = 1", "out of memory", true},
		{"os.Exit", "os.Exit(3)", "os.Exit(3)", false},
		{"goroutine panic", "go func() { panic(\"in a goroutine\") }()\nco.Sleep(50*time.Millisecond)", "panic in a goroutine: in a goroutine", false},
		{"output flood", "s := strings.Repeat(\"x\", 1023)\nfor i := 0; i < 20000; i++ { fmt.Println(s) }", "of output elided", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := start(t)
			id, _ := k.Send(kernel.Request{Type: kernel.ReqExecute, Cell: "c", Code: tt.code})
			var died time.Time
			msgs := collect(t, k, 60*time.Second, func(m kernel.Message) bool {
				if m.State == kernel.StateDead {
					died = time.Now()
				}
				return isIdleFor(id)(m) || m.State == kernel.StateDead
			})
			var lines []string
			for _, m := range msgs {
				if m.Type == kernel.MsgStream && len(m.Text) > 200 {
					m.Text = m.Text[:100] + "…"
				}
				lines = append(lines, brief(m))
			}
			joined := strings.Join(lines, "\n")
			if !strings.Contains(joined, tt.cause) {
				t.Errorf("no %q in:\n%s", tt.cause, joined)
			}
			if dead := strings.Contains(joined, "status dead"); dead != tt.dies {
				t.Errorf("kernel died = %v, want %v:\n%s", dead, tt.dies, joined)
			}
			if tt.dies {
				t.Logf("reported %v after the process ended", time.Since(died))
				if err := syscall.Kill(k.Pid(), 0); err == nil {
					t.Errorf("kernel process %d still exists", k.Pid())
				}
				k2 := start(t)
				if got := execute(t, k2, "x", "40+2"); !strings.Contains(strings.Join(got, "\n"), `"42"`) {
					t.Errorf("fresh kernel: %q", got)
				}
			}
		})
	}
}

func TestKill9(t *testing.T) {
	k := start(t)
	execute(t, k, "a", "x := 1")
	if err := syscall.Kill(k.Pid(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	msgs := collect(t, k, 10*time.Second, func(m kernel.Message) bool { return m.State == kernel.StateDead })
	last := msgs[len(msgs)-1]
	if !strings.Contains(last.Text, "killed by signal 9") {
		t.Errorf("cause %q, want killed by signal 9", last.Text)
	}
}

func TestRun(t *testing.T) {
	k := start(t)
	ex, err := k.Run(context.Background(), "a", `fmt.Print("x"); 7`, nil)
	if err != nil || ex.Status != "ok" || ex.Count != 1 || len(ex.Messages) != 2 {
		t.Fatalf("Run: %+v, %v", ex, err)
	}
}

// The kernel limits itself at start: rlimits visible in /proc, and a note when cgroup v2
// limits cannot be applied on this machine.
func TestLimits(t *testing.T) {
	k, err := kernel.Start(kernel.Config{Command: []string{os.Args[0]}, Env: []string{"LOOPBOOK_TEST_KERNEL=1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		k.Kill()
		for range k.Messages() {
		}
	}()
	first := next(t, k, 10*time.Second)
	t.Logf("starting status: %q", first.Text)
	limits, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", k.Pid()))
	if err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	d := kernel.DefaultLimits()
	for _, want := range []string{
		fmt.Sprintf("Max open files            %-20d %-20d", d.NoFile, d.NoFile),
		fmt.Sprintf("Max address space         %-20d %-20d", d.AddressSpace, d.AddressSpace),
	} {
		if !strings.Contains(string(limits), want) {
			t.Errorf("/proc/%d/limits lacks %q:\n%s", k.Pid(), want, limits)
		}
	}
}

// In virtual time, an hour's sleep takes no time.
func TestVirtualTime(t *testing.T) {
	k, err := kernel.Start(kernel.Config{Command: []string{os.Args[0]}, Env: []string{"LOOPBOOK_TEST_KERNEL=1"}, Limits: kernel.Limits{VirtualTime: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		k.Kill()
		for range k.Messages() {
		}
	}()
	begin := time.Now()
	ex, err := k.Run(context.Background(), "a", "t0 := L.Time()\nco.Sleep(time.Hour)\nL.Time() - t0", nil)
	if err != nil || ex.Status != "ok" || len(ex.Messages) != 1 || ex.Messages[0].Data["text/plain"] != "1h0m0s" {
		t.Fatalf("Run: %+v, %v", ex, err)
	}
	t.Logf("an hour of virtual sleep took %v", time.Since(begin))
}

// No kernel outlives its parent: when the process that started it dies, the kernel dies too.
func TestNoOrphans(t *testing.T) {
	if os.Getenv("LOOPBOOK_TEST_PARENT") == "1" {
		// The parent: start a kernel, say its pid, wait to be killed.
		k, err := kernel.Start(kernel.Config{Command: []string{os.Args[0]}, Env: []string{"LOOPBOOK_TEST_KERNEL=1", "LOOPBOOK_TEST_PARENT="}})
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Println("kernel", k.Pid())
		time.Sleep(time.Hour)
		return
	}
	parent := exec.Command(os.Args[0], "-test.run=^TestNoOrphans$")
	parent.Env = append(os.Environ(), "LOOPBOOK_TEST_PARENT=1")
	out, err := parent.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	var pid int
	if _, err := fmt.Fscanf(out, "kernel %d\n", &pid); err != nil {
		parent.Process.Kill()
		t.Fatalf("the parent did not report its kernel: %v", err)
	}
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err != nil {
		t.Fatalf("kernel %d is not running before its parent dies: %v", pid, err)
	}
	parent.Process.Kill()
	parent.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		// Gone, or a zombie waiting for init to reap it: either way not running.
		if err != nil || strings.Contains(string(b), ") Z ") {
			return
		}
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("kernel %d outlived its parent", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The monitor streams the loop's state: timers a cell leaves appear with their owner and due
// time, and a callback blocking the loop is named while it runs.
func TestMonitor(t *testing.T) {
	k := start(t)
	id, _ := k.Send(kernel.Request{Type: kernel.ReqExecute, Cell: "a", Code: "for i := range 3 {\n\tL.CallLater(time.Duration(i+1)*time.Hour, func() {})\n}\ntime.Sleep(400 * time.Millisecond)"})
	var sawTimers, sawBlocking bool
	deadline := time.Now().Add(20 * time.Second)
	for !(sawTimers && sawBlocking) && time.Now().Before(deadline) {
		m := next(t, k, time.Until(deadline))
		if m.Type != kernel.MsgLoop {
			continue
		}
		var f kernel.Frame
		if err := json.Unmarshal(m.Loop, &f); err != nil {
			t.Fatalf("bad frame: %v", err)
		}
		if f.Current != nil && f.Current.Owner == 1 && f.Current.For > 100 && f.Current.Site == "In[1]:4" {
			sawBlocking = true
			t.Logf("blocking callback: %+v", *f.Current)
		}
		if f.State != nil && len(f.State.Timers) == 3 {
			tm := f.State.Timers[0]
			if tm.Owner != 1 || tm.Site != "In[1]:1" || tm.When < 3600 {
				t.Errorf("timer %+v: want owner 1, site In[1]:1 (the statement that made it), due after an hour", tm)
			}
			sawTimers = true
		}
	}
	if !sawTimers || !sawBlocking {
		t.Errorf("frames: timers seen %v, blocking callback seen %v", sawTimers, sawBlocking)
	}
	_ = id
}

// joinStreams merges consecutive stream messages of one cell run and stream, as a notebook shows
// them (how the kernel batches output into messages is not part of the protocol).
func joinStreams(lines []kernel.Message) []string {
	var out []string
	var prev *kernel.Message
	for i := range lines {
		m := lines[i]
		if m.Type == kernel.MsgStream && prev != nil && prev.Type == kernel.MsgStream &&
			prev.Cell == m.Cell && prev.Count == m.Count && prev.Name == m.Name {
			prev.Text += m.Text
			out[len(out)-1] = brief(*prev)
			continue
		}
		cp := m
		prev = &cp
		out = append(out, brief(m))
	}
	return out
}

func executeJoined(t *testing.T, k *kernel.Kernel, cell, code string) []string {
	t.Helper()
	id, err := k.Send(kernel.Request{Type: kernel.ReqExecute, Cell: cell, Code: code})
	if err != nil {
		t.Fatal(err)
	}
	return joinStreams(collect(t, k, 20*time.Second, isIdleFor(id)))
}

// What asyncio says only when it collects garbage comes, deterministically, in the stderr of the
// cell that owns the work: at the end of the cell, before its result and reply, for a task
// exception never retrieved and a coroutine never awaited; once the cell's last leftover work
// has ended for a task that fails after the cell returned.
func TestLeftoversReported(t *testing.T) {
	k := start(t)
	got := executeJoined(t, k, "a", `L.CreateTask(func(co *loop.Co) (any, error) { return nil, errors.New("boom") }, loop.WithName("failing"))
L.Coro(func(co *loop.Co) (any, error) { return nil, nil }, loop.WithName("forgotten"))
co.Sleep(0)
"returned"`)
	want := []string{
		"status busy", "execute_input a[1]",
		`stream a[1] stderr "Task exception was never retrieved\ntask: <Task finished exception=boom name='failing'>\nboom\n` +
			`RuntimeWarning: coroutine 'forgotten' was never awaited\nCoroutine created at In[1]:2\n"`,
		`result a[1] "\"returned\""`, "reply ok", "status idle",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("cell a:\n got: %q\nwant: %q", got, want)
	}

	got = executeJoined(t, k, "b", `L.CreateTask(func(co *loop.Co) (any, error) {
	co.Sleep(20 * time.Millisecond)
	return nil, errors.New("late")
}, loop.WithName("late failure"))`)
	if strings.Contains(strings.Join(got, "\n"), "never retrieved") {
		t.Errorf("the late failure was reported before it happened: %q", got)
	}
	var later []kernel.Message
	for _, m := range collect(t, k, 10*time.Second, func(m kernel.Message) bool {
		return m.Type == kernel.MsgOwned && m.Count == 2 && m.Owned.Empty()
	}) {
		if m.Type != kernel.MsgOwned {
			later = append(later, m)
		}
	}
	wantLater := []string{`stream b[2] stderr "Task exception was never retrieved\ntask: <Task finished exception=late name='late failure'>\nlate\n"`}
	if g := joinStreams(later); strings.Join(g, "\n") != strings.Join(wantLater, "\n") {
		t.Errorf("after cell b returned:\n got: %q\nwant: %q", g, wantLater)
	}
}

// A private loop made in one cell and run by a later one prints in the running cell, in order,
// before that cell's reply; nothing reaches the cell that made the loop.
func TestPrivateLoopOutput(t *testing.T) {
	k := start(t)
	execute(t, k, "a", `l, _ := loop.New()
l.CallSoon(func() { fmt.Println("scheduled by a") })
work := func(co *loop.Co) (any, error) {
	for i := range 3 {
		fmt.Println("step", i)
		co.Sleep(time.Millisecond)
	}
	return "done", nil
}`)
	got := executeJoined(t, k, "b", `fmt.Println("before")
r, err := l.RunUntilComplete(work)
fmt.Println("after:", r, err)`)
	want := []string{
		"status busy", "execute_input b[2]",
		`stream b[2] stdout "before\nscheduled by a\nstep 0\nstep 1\nstep 2\nafter: done <nil>\n"`,
		"reply ok", "status idle",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("cell b:\n got: %q\nwant: %q", got, want)
	}
	// Nothing arrives for a afterwards: a later cell's messages come next.
	got = executeJoined(t, k, "c", `1`)
	for _, l := range got {
		if strings.Contains(l, " a[1] ") {
			t.Errorf("output reached the cell that made the loop: %q", got)
		}
	}
}

// A cell's stdout and stderr reach the parent in the order the cell wrote them, all before its
// reply, however the kernel batches them.
func TestOutputOrder(t *testing.T) {
	k := start(t)
	got := executeJoined(t, k, "a", `log.SetFlags(0)
for i := 0; i < 3000; i++ {
	fmt.Println("out", i)
	if i%1000 == 0 {
		log.Print("err ", i)
	}
}`)
	var out strings.Builder
	want := []string{"status busy", "execute_input a[1]"}
	flushOut := func() {
		if out.Len() > 0 {
			want = append(want, fmt.Sprintf("stream a[1] stdout %q", out.String()))
			out.Reset()
		}
	}
	for i := 0; i < 3000; i++ {
		fmt.Fprintln(&out, "out", i)
		if i%1000 == 0 {
			flushOut()
			want = append(want, fmt.Sprintf("stream a[1] stderr %q", fmt.Sprintf("err %d\n", i)))
		}
	}
	flushOut()
	want = append(want, "reply ok", "status idle")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got %d messages, want %d:\n got: %.2000q\nwant: %.2000q", len(got), len(want), got, want)
	}
}

// Requests that arrive while a cell runs wait their turn, and every one of them is answered in
// order, whatever its kind: a request that runs no cell (cancel_owned, or one the kernel does not
// know) goes on with the next one too.
func TestQueuedRequestsAllAnswered(t *testing.T) {
	k := start(t)
	var ids []string
	for _, r := range []kernel.Request{
		{Type: kernel.ReqExecute, Cell: "slow", Code: `co.Sleep(200 * time.Millisecond)`},
		{Type: kernel.ReqCancelOwned, Cell: "slow"},
		{Type: "no_such_request"},
		{Type: kernel.ReqCancelOwned, Cell: "other"},
		{Type: kernel.ReqExecute, Cell: "last", Code: `"done"`},
	} {
		id, err := k.Send(r)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	var replied []string
	collect(t, k, 20*time.Second, func(m kernel.Message) bool {
		if m.Type == kernel.MsgReply {
			replied = append(replied, m.Parent)
		}
		return m.Type == kernel.MsgStatus && m.State == kernel.StateIdle && m.Parent == ids[len(ids)-1]
	})
	if !slices.Equal(replied, ids) {
		t.Errorf("replies to %q; want one to each request, in order: %q", replied, ids)
	}
}

// A re-run queued behind its cell's first run reports, as left-over work cancelled, what the
// cell's code left (its timer) and nothing of the kernel's own bookkeeping for that run.
func TestRerunQueuedCancelsOnlyTheCellsWork(t *testing.T) {
	k := start(t)
	var last string
	for _, code := range []string{`L.CallLater(time.Hour, func() { fmt.Println("never") })`, `"again"`} {
		id, err := k.Send(kernel.Request{Type: kernel.ReqExecute, Cell: "forever", Code: code})
		if err != nil {
			t.Fatal(err)
		}
		last = id
	}
	var notices []string
	collect(t, k, 20*time.Second, func(m kernel.Message) bool {
		if m.Type == kernel.MsgNotice {
			notices = append(notices, m.Text)
		}
		return m.Type == kernel.MsgStatus && m.State == kernel.StateIdle && m.Parent == last
	})
	want := []string{"the cell was run again: cancelled what In[1] still owned (1 timer)"}
	if !slices.Equal(notices, want) {
		t.Errorf("notices %q; want %q", notices, want)
	}
}

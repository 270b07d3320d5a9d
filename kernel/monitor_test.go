package kernel_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/loopbook/loopbook/kernel"
)

// frames reads messages for d and returns the loop frames among them, decoded; others are passed
// to other (if set).
func frames(t *testing.T, k *kernel.Kernel, d time.Duration, other func(kernel.Message)) []kernel.Frame {
	t.Helper()
	var got []kernel.Frame
	deadline := time.After(d)
	for {
		select {
		case m, ok := <-k.Messages():
			if !ok {
				t.Fatalf("kernel messages closed: %s", k.Cause())
			}
			if m.Type != kernel.MsgLoop {
				if other != nil {
					other(m)
				}
				continue
			}
			var f kernel.Frame
			if err := json.Unmarshal(m.Loop, &f); err != nil {
				t.Fatalf("bad frame %s: %v", m.Loop, err)
			}
			got = append(got, f)
		case <-deadline:
			return got
		}
	}
}

// rawFrames is frames, undecoded: the field names the panel reads.
func rawFrames(t *testing.T, k *kernel.Kernel, d time.Duration) []map[string]any {
	t.Helper()
	var got []map[string]any
	deadline := time.After(d)
	for {
		select {
		case m, ok := <-k.Messages():
			if !ok {
				t.Fatalf("kernel messages closed: %s", k.Cause())
			}
			if m.Type != kernel.MsgLoop {
				continue
			}
			var f map[string]any
			if err := json.Unmarshal(m.Loop, &f); err != nil {
				t.Fatalf("bad frame %s: %v", m.Loop, err)
			}
			got = append(got, f)
		case <-deadline:
			return got
		}
	}
}

// An idle kernel sends no frames: the monitor coalesces into one frame per 50 ms only while
// something happens on the loop, and says nothing while nothing does.
func TestMonitorIdleIsQuiet(t *testing.T) {
	k := start(t)
	// Settle: the first frames describe the empty loop.
	frames(t, k, 500*time.Millisecond, nil)
	if got := frames(t, k, 1500*time.Millisecond, nil); len(got) != 0 {
		t.Errorf("an idle kernel sent %d frames in 1.5 s, want none; first %+v", len(got), got[0])
	}
	// A cell that leaves a timer ticking keeps the panel busy; after it is cancelled, quiet again.
	execute(t, k, "a", "var n int\nvar tick func()\ntick = func() { n++; L.CallLater(20*time.Millisecond, tick) }\ntick()")
	busy := frames(t, k, 500*time.Millisecond, nil)
	if len(busy) < 4 || len(busy) > 12 {
		t.Errorf("a loop firing a timer every 20 ms sent %d frames in 500 ms; want about 10 (one per 50 ms)", len(busy))
	}
	if _, err := k.Send(kernel.Request{Type: kernel.ReqCancelOwned, Cell: "a"}); err != nil {
		t.Fatal(err)
	}
	frames(t, k, 500*time.Millisecond, nil)
	if got := frames(t, k, 1500*time.Millisecond, nil); len(got) != 0 {
		t.Errorf("after the timer was cancelled, the kernel sent %d frames in 1.5 s, want none; first %+v", len(got), got[0])
	}
}

// privateCell creates a private loop and runs a task on it that ticks n times, ms apart, then
// closes the loop.
func privateCell(n, ms int) string {
	return fmt.Sprintf(`pl, _ := loop.New()
ticks := 0
pl.RunUntilComplete(func(co *loop.Co) (any, error) {
	for i := 0; i < %d; i++ {
		co.Sleep(%d * time.Millisecond)
		ticks++
	}
	return nil, nil
})
pl.Close()
fmt.Println("ticks", ticks)`, n, ms)
}

// A loop a cell creates with loop.New is watched too: its frames carry "loop" (an id) and
// "loop_name", its callbacks are owned by the cell, and its last frame says "closed": true.
// Frames of the shared loop carry neither field.
func TestMonitorPrivateLoop(t *testing.T) {
	k := start(t)
	frames(t, k, 300*time.Millisecond, nil) // the empty shared loop
	if _, err := k.Send(kernel.Request{Type: kernel.ReqExecute, Cell: "a", Code: privateCell(20, 10)}); err != nil {
		t.Fatal(err)
	}
	got := rawFrames(t, k, 1500*time.Millisecond)
	var private, shared, closed int
	var sawRuns, sawTimer bool
	for _, f := range got {
		id, hasID := f["loop"]
		if !hasID {
			shared++
			if _, ok := f["loop_name"]; ok {
				t.Errorf("a shared-loop frame has a loop_name: %v", f)
			}
			if _, ok := f["closed"]; ok {
				t.Errorf("a shared-loop frame says closed: %v", f)
			}
			continue
		}
		private++
		if id != 1.0 || f["loop_name"] != "In[1] loop" {
			t.Errorf("private frame names loop %v %q, want 1 \"In[1] loop\"", id, f["loop_name"])
		}
		if closed > 0 {
			t.Errorf("a frame of loop %v after its closed frame: %v", id, f)
		}
		if f["closed"] == true {
			closed++
		}
		if runs, ok := f["runs"].([]any); ok && len(runs) > 0 {
			sawRuns = true
			for _, r := range runs {
				if o := r.(map[string]any)["owner"]; o != 1.0 {
					t.Errorf("a private loop's callback has owner %v, want 1 (the cell): %v", o, r)
					break
				}
			}
		}
		if marks, ok := f["marks"].([]any); ok {
			for _, m := range marks {
				if m.(map[string]any)["kind"] == "timer" {
					sawTimer = true
					if at, _ := m.(map[string]any)["t"].(float64); at <= 0 {
						t.Errorf("a timer mark at t=%v, want the trace time it fell due", at)
					}
				}
			}
		}
	}
	t.Logf("%d shared frames, %d private frames", shared, private)
	if private < 3 || !sawRuns || !sawTimer {
		t.Errorf("private loop: %d frames, runs seen %v, timer marks seen %v; want several frames with both", private, sawRuns, sawTimer)
	}
	if closed != 1 {
		t.Errorf("%d closed frames for the private loop, want exactly 1", closed)
	}
	if shared == 0 {
		t.Errorf("no shared-loop frames while the cell ran")
	}
	// A second loop of the same cell run gets its own id and name; an idle kernel is quiet again.
	if _, err := k.Send(kernel.Request{Type: kernel.ReqExecute, Cell: "b", Code: "a, _ := loop.New()\nb, _ := loop.New()\na.Close()\nb.Close()"}); err != nil {
		t.Fatal(err)
	}
	names := map[float64]any{}
	for _, f := range rawFrames(t, k, 800*time.Millisecond) {
		if id, ok := f["loop"].(float64); ok {
			names[id] = f["loop_name"]
		}
	}
	if names[2] != "In[2] loop" || names[3] != "In[2] loop 2" {
		t.Errorf("loops of In[2] named %v, want 2: In[2] loop, 3: In[2] loop 2", names)
	}
	if got := frames(t, k, 1000*time.Millisecond, nil); len(got) != 0 {
		t.Errorf("after the private loops closed, %d frames in 1 s; want none", len(got))
	}
}

// Loop controls take an optional loop id: pausing a private loop shows in its frames and holds
// it, resuming lets it finish; an unknown id is an error.
func TestMonitorPrivateLoopControl(t *testing.T) {
	k := start(t)
	id, err := k.Send(kernel.Request{Type: kernel.ReqExecute, Cell: "a", Code: privateCell(40, 10)})
	if err != nil {
		t.Fatal(err)
	}
	// Wait for the private loop to show up, then pause it.
	deadline := time.Now().Add(10 * time.Second)
	for seen := false; !seen; {
		if time.Now().After(deadline) {
			t.Fatal("no frame of the private loop")
		}
		for _, f := range frames(t, k, 60*time.Millisecond, nil) {
			seen = seen || f.Loop == 1
		}
	}
	var done, idle bool
	var out []string
	control := func(req kernel.Request) (kernel.Message, []kernel.Frame) {
		t.Helper()
		req.Type = kernel.ReqLoop
		cid, err := k.Control(req)
		if err != nil {
			t.Fatal(err)
		}
		var reply kernel.Message
		fs := frames(t, k, 600*time.Millisecond, func(m kernel.Message) {
			if m.Type == kernel.MsgReply && m.Parent == cid {
				reply = m
			}
			done = done || (m.Type == kernel.MsgReply && m.Parent == id)
			idle = idle || isIdleFor(id)(m)
			if m.Type == kernel.MsgStream && m.Name == "stdout" {
				out = append(out, m.Text)
			}
		})
		return reply, fs
	}
	r, fs := control(kernel.Request{Action: "pause", Loop: 1})
	if r.Status != "ok" {
		t.Fatalf("pause loop 1: %+v", r)
	}
	var paused, sharedPaused bool
	var iters []uint64
	for _, f := range fs {
		if f.Loop == 1 {
			paused = paused || f.Paused
			iters = append(iters, f.Iter)
		} else if f.Paused {
			sharedPaused = true
		}
	}
	if !paused || sharedPaused || done {
		t.Errorf("after pausing loop 1: its frames say paused %v, the shared loop's %v, the cell finished %v; want true, false, false", paused, sharedPaused, done)
	}
	if len(iters) > 1 && iters[len(iters)-1] != iters[0] {
		t.Errorf("the paused loop's iteration count moved: %v", iters)
	}
	if r, _ := control(kernel.Request{Action: "resume", Loop: 1}); r.Status != "ok" {
		t.Fatalf("resume loop 1: %+v", r)
	}
	if !idle {
		collect(t, k, 10*time.Second, func(m kernel.Message) bool {
			if m.Type == kernel.MsgStream && m.Name == "stdout" {
				out = append(out, m.Text)
			}
			return isIdleFor(id)(m)
		})
	}
	if len(out) != 1 || out[0] != "ticks 40\n" {
		t.Errorf("the cell printed %q, want ticks 40", out)
	}
	if r, _ := control(kernel.Request{Action: "pause", Loop: 1}); r.Status != "error" {
		t.Errorf("pausing closed loop 1: %+v, want an error", r)
	}
	if r, _ := control(kernel.Request{Action: "pause", Loop: 7}); r.Status != "error" {
		t.Errorf("pausing unknown loop 7: %+v, want an error", r)
	}
}

// A cell shows a timeline of the shared loop: an SVG display output with its own callbacks in it.
func TestMonitorTimelineDisplay(t *testing.T) {
	k := start(t)
	var svg string
	for _, line := range execute(t, k, "a", "for range 3 {\n\tL.CallSoon(func() {})\n}\nco.Sleep(10 * time.Millisecond)\ndisplay.Show(display.Timeline(L, 10))") {
		if strings.HasPrefix(line, "display ") {
			svg = line
		}
	}
	if !strings.Contains(svg, "image/svg+xml:<svg ") || !strings.Contains(svg, `data-owner="1"`) {
		t.Errorf("the cell's display output %q: want an SVG with bars of In[1]", svg)
	}
}

// A loop running callbacks as fast as it can publishes far more events than a frame shows: the
// monitor reads only the latest when it falls behind (a sample; the rest count as lost), and
// frames stay small, with rates measured over what was read.
func TestMonitorBusyLoopIsSampled(t *testing.T) {
	k := start(t)
	code := `left := 400000
var burst func()
burst = func() {
	for i := 0; i < 1000; i++ {
		L.CallSoon(func() {})
	}
	left -= 1000
	if left > 0 {
		L.CallSoon(burst)
	}
}
L.CallSoon(burst)`
	id, err := k.Send(kernel.Request{Type: kernel.ReqExecute, Cell: "a", Code: code})
	if err != nil {
		t.Fatal(err)
	}
	var sampled, rated int
	var biggest int
	deadline := time.Now().Add(20 * time.Second)
	// The burst is over once the cell is idle and a frame after the busy ones shows nothing
	// running. The monitor sends one such frame and then goes quiet, and the idle status may come
	// before it or after it, so either order ends the wait. That frame may list the kernel's own
	// housekeeping (its owned report every 200 ms runs on the loop too): the monitor shows it in
	// a frame that goes out anyway, so it is no sign of the burst.
	idle, busy, quiet := false, false, false
	var recent []string // the last frames, to say what was seen if the quiet one never comes
	for time.Now().Before(deadline) {
		m, ok := nextWithin(t, k, time.Until(deadline))
		if !ok {
			t.Fatalf("no message from the kernel before the deadline; idle %t, busy %t; the last frames:\n%s", idle, busy, strings.Join(recent, "\n"))
		}
		if isIdleFor(id)(m) {
			idle = true
			if quiet {
				break
			}
		}
		if m.Type != kernel.MsgLoop {
			continue
		}
		biggest = max(biggest, len(m.Loop))
		var f kernel.Frame
		if err := json.Unmarshal(m.Loop, &f); err != nil {
			t.Fatal(err)
		}
		if f.Lost > 0 {
			sampled++
		}
		if f.Health != nil && f.Health.CallsPerS > 0 {
			rated++
		}
		if len(f.Runs) > 300 || (f.State != nil && len(f.State.Ready) > 100) {
			t.Errorf("a frame lists %d runs and %d ready callbacks; want at most 300 and 100", len(f.Runs), len(f.State.Ready))
		}
		recent = append(recent[max(0, len(recent)-4):], frameSummary(f))
		own := 0 // runs that are not the kernel's housekeeping
		for _, r := range f.Runs {
			if r.Owner != 0 || !strings.HasPrefix(r.Name, "kernel: ") {
				own++
			}
		}
		busy = busy || own > 0
		quiet = busy && f.Current == nil && f.Lost == 0 && own == 0
		if idle && quiet {
			break
		}
	}
	// How many frames are samples depends on how fast this machine runs the loop against the
	// monitor (under the race detector it may keep up): logged, not required. What must hold
	// whatever the speed: the frames carry rates and stay small.
	t.Logf("%d sampled frames, %d with a rate, largest %d bytes", sampled, rated, biggest)
	if rated == 0 {
		t.Errorf("no frame had a call rate")
	}
	if biggest > 64<<10 {
		t.Errorf("the largest frame is %d bytes; want at most 64 KiB", biggest)
	}
}

// frameSummary describes a frame in one line for a failure message: its sequence number, what it
// lost, and the names of the runs it lists and of the callback running.
func frameSummary(f kernel.Frame) string {
	names := make([]string, 0, min(len(f.Runs), 3))
	for _, r := range f.Runs[:min(len(f.Runs), 3)] {
		names = append(names, r.Name)
	}
	cur := "none"
	if f.Current != nil {
		cur = f.Current.Name
	}
	return fmt.Sprintf("frame %d: lost %d, %d runs %q..., running %s", f.Seq, f.Lost, len(f.Runs), names, cur)
}

package kernel

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Config says how to start a kernel process.
type Config struct {
	// Command is the kernel's command line; by default this executable with argument "kernel"
	// (`loopbook kernel`). Tests point it at their own test binary.
	Command []string
	Env     []string // added to the environment
	Dir     string   // working directory
	Limits  Limits
}

// Kernel is the parent's handle on one kernel process.
type Kernel struct {
	cmd     *exec.Cmd
	shell   *os.File
	control *os.File
	writeMu sync.Mutex
	pid     int

	msgs chan Message
	done chan struct{}

	mu     sync.Mutex
	dying  string       // the kernel's own last words (a dying message)
	crash  bytes.Buffer // the Go runtime's fatal report
	early  bytes.Buffer // what the process wrote to stdout/stderr before it captured them
	cause  string
	nextID atomic.Int64
}

// Start starts a kernel process. Its messages arrive on Messages until it exits; the last one
// is a status "dead" message whose Text says why.
func Start(cfg Config) (*Kernel, error) {
	if len(cfg.Command) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("kernel: finding this executable: %w", err)
		}
		cfg.Command = []string{exe, "kernel"}
	}
	if cfg.Limits == (Limits{}) || cfg.Limits == (Limits{VirtualTime: true}) {
		vt := cfg.Limits.VirtualTime
		cfg.Limits = DefaultLimits()
		cfg.Limits.VirtualTime = vt
	}
	var closeAfterStart []*os.File
	pipe := func() (r, w *os.File, err error) {
		r, w, err = os.Pipe()
		return
	}
	shellR, shellW, err := pipe()
	if err != nil {
		return nil, err
	}
	controlR, controlW, err := pipe()
	if err != nil {
		return nil, err
	}
	msgsR, msgsW, err := pipe()
	if err != nil {
		return nil, err
	}
	crashR, crashW, err := pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := pipe()
	if err != nil {
		return nil, err
	}
	closeAfterStart = append(closeAfterStart, shellR, controlR, msgsW, crashW, outW)

	args := append(append([]string{}, cfg.Command[1:]...), cfg.Limits.args()...)
	cmd := exec.Command(cfg.Command[0], args...)
	cmd.Env = append(os.Environ(), cfg.Env...)
	cmd.Dir = cfg.Dir
	cmd.Stdout, cmd.Stderr = outW, outW
	cmd.ExtraFiles = []*os.File{shellR, controlR, msgsW, crashW} // fds 3, 4, 5, 6
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		for _, f := range append(closeAfterStart, shellW, controlW, msgsR, crashR, outR) {
			f.Close()
		}
		return nil, fmt.Errorf("kernel: starting %s: %w", cfg.Command[0], err)
	}
	for _, f := range closeAfterStart {
		f.Close()
	}
	k := &Kernel{cmd: cmd, shell: shellW, control: controlW, pid: cmd.Process.Pid,
		msgs: make(chan Message, 1024), done: make(chan struct{})}
	var readers sync.WaitGroup
	readers.Add(3)
	go func() { defer readers.Done(); copyCapped(&k.mu, &k.crash, crashR) }()
	go func() { defer readers.Done(); copyCapped(&k.mu, &k.early, outR) }()
	go func() {
		defer readers.Done()
		k.readMessages(msgsR)
	}()
	go func() {
		werr := cmd.Wait()
		readers.Wait()
		removeCgroup(k.pid)
		k.shell.Close()
		k.control.Close()
		k.mu.Lock()
		k.cause = k.describeExit(werr)
		cause := k.cause
		k.mu.Unlock()
		k.msgs <- Message{Type: MsgStatus, State: StateDead, Text: cause, Pid: k.pid}
		close(k.msgs)
		close(k.done)
	}()
	return k, nil
}

// copyCapped copies r into buf (under mu), keeping at most the first 64 KiB.
func copyCapped(mu *sync.Mutex, buf *bytes.Buffer, r io.ReadCloser) {
	defer r.Close()
	b := make([]byte, 4096)
	for {
		n, err := r.Read(b)
		if n > 0 {
			mu.Lock()
			if room := 64<<10 - buf.Len(); room > 0 {
				buf.Write(b[:min(n, room)])
			}
			mu.Unlock()
		}
		if err != nil {
			return
		}
	}
}

func (k *Kernel) readMessages(r io.ReadCloser) {
	defer r.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	for sc.Scan() {
		var m Message
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			continue // a kernel writes only what it marshalled; skip anything else
		}
		if m.Type == MsgDying {
			k.mu.Lock()
			k.dying = m.Text
			k.mu.Unlock()
		}
		k.msgs <- m
	}
}

// describeExit says, in words for the user, why the kernel process ended.
func (k *Kernel) describeExit(werr error) string {
	// The crash output holds the runtime's stack of the fatal error but not its "fatal error:"
	// line (that goes to stderr, which the kernel reads itself), so the cause is read from the
	// runtime function that gave up.
	crash := k.crash.String()
	switch {
	case strings.Contains(crash, "stack overflow") || strings.Contains(crash, "runtime.newstack"):
		return "the kernel died: stack overflow (a function that calls itself without end?); its state is lost"
	case strings.Contains(crash, "out of memory") || strings.Contains(crash, "allocLarge") ||
		strings.Contains(crash, "runtime.sysMap") || strings.Contains(crash, "(*mheap).grow"):
		return "the kernel died: out of memory (a cell allocated more than the kernel's limit); its state is lost"
	case strings.HasPrefix(crash, "panic: ") || strings.Contains(crash, "\npanic: "):
		i := strings.Index(crash, "panic: ")
		line, _, _ := strings.Cut(crash[i:], "\n")
		return "the kernel died: " + line + "; its state is lost"
	case strings.HasPrefix(crash, "fatal error: "):
		line, _, _ := strings.Cut(crash, "\n")
		return "the kernel died: " + strings.TrimPrefix(line, "fatal error: ") + "; its state is lost"
	}
	if k.dying != "" {
		return k.dying
	}
	var ee *exec.ExitError
	if errors.As(werr, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return fmt.Sprintf("the kernel was killed by signal %d (%s); its state is lost", int(ws.Signal()), ws.Signal())
		}
		msg := "the kernel exited with status " + strconv.Itoa(ee.ExitCode())
		if early := strings.TrimSpace(k.early.String()); early != "" {
			msg += ": " + lastLine(early)
		}
		return msg + "; its state is lost"
	}
	if werr != nil {
		return "the kernel ended: " + werr.Error()
	}
	return "the kernel shut down"
}

func lastLine(s string) string {
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// Pid is the kernel's process id.
func (k *Kernel) Pid() int { return k.pid }

// Messages delivers everything the kernel sends, then a status "dead" message, then closes.
// One reader only.
func (k *Kernel) Messages() <-chan Message { return k.msgs }

// Done is closed when the process has exited and its messages have all been delivered.
func (k *Kernel) Done() <-chan struct{} { return k.done }

// Cause says why the kernel ended, once Done is closed.
func (k *Kernel) Cause() string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.cause
}

// NewID returns a fresh request id.
func (k *Kernel) NewID() string { return "r" + strconv.FormatInt(k.nextID.Add(1), 10) }

// Send sends a request on the shell fd (execute, cancel_owned) and returns its id.
func (k *Kernel) Send(req Request) (string, error) {
	if req.ID == "" {
		req.ID = k.NewID()
	}
	return req.ID, k.write(k.shell, req)
}

// Interrupt asks the kernel to stop the running cell and drop queued ones (control fd).
func (k *Kernel) Interrupt() (string, error) {
	req := Request{ID: k.NewID(), Type: ReqInterrupt}
	return req.ID, k.write(k.control, req)
}

func (k *Kernel) write(f *os.File, req Request) error {
	b, err := json.Marshal(req)
	if err != nil {
		return err
	}
	k.writeMu.Lock()
	defer k.writeMu.Unlock()
	select {
	case <-k.done:
		return errors.New("kernel: the kernel is dead")
	default:
	}
	_, err = f.Write(append(b, '\n'))
	return err
}

// Control sends a control request (a loop control for the panel) and returns its id.
func (k *Kernel) Control(req Request) (string, error) {
	if req.ID == "" {
		req.ID = k.NewID()
	}
	return req.ID, k.write(k.control, req)
}

// Shutdown asks the kernel to exit and waits up to timeout, then kills it.
func (k *Kernel) Shutdown(timeout time.Duration) {
	k.write(k.control, Request{ID: k.NewID(), Type: ReqShutdown})
	select {
	case <-k.done:
	case <-time.After(timeout):
		k.Kill()
		<-k.done
	}
}

// Kill kills the kernel's process group at once.
func (k *Kernel) Kill() {
	killGroup(k.pid)
}

// Execution is the outcome of Run: the messages of one request, in order.
type Execution struct {
	Count    int
	Status   string    // ok, error, aborted; "dead" if the kernel died
	Messages []Message // stream, display, result, error, notice messages of the run
}

// Run executes one cell and collects its messages until its reply. Messages of other cells that
// arrive meanwhile (work that outlived its cell) go to other. It is the building block of
// `loopbook run`; the server reads Messages itself.
func (k *Kernel) Run(ctx context.Context, cell, code string, other func(Message)) (Execution, error) {
	id, err := k.Send(Request{Type: ReqExecute, Cell: cell, Code: code})
	if err != nil {
		return Execution{Status: StateDead}, err
	}
	var ex Execution
	for {
		select {
		case <-ctx.Done():
			return ex, ctx.Err()
		case m, ok := <-k.msgs:
			if !ok || m.State == StateDead {
				ex.Status = StateDead
				if ok {
					ex.Messages = append(ex.Messages, m)
				}
				return ex, errors.New(k.Cause())
			}
			switch {
			case m.Type == MsgExecuteInput && m.Parent == id:
				ex.Count = m.Count
			case m.Type == MsgReply && m.Parent == id:
				ex.Status = m.Status
				return ex, nil
			case m.Type == MsgStatus || m.Type == MsgReply:
			case m.Cell == cell && (ex.Count == 0 || m.Count == ex.Count):
				ex.Messages = append(ex.Messages, m)
			default:
				if other != nil {
					other(m)
				}
			}
		}
	}
}

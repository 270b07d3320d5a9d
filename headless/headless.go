// Package headless executes a notebook without a browser: every code cell in order in a fresh
// kernel, outputs written into the notebook, like `jupyter nbconvert --execute`. It is
// `loopbook run` and the engine of the shipped notebooks' golden tests.
package headless

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/loopbook/loopbook/ipynb"
	"github.com/loopbook/loopbook/kernel"
)

// Options configure a run.
type Options struct {
	Kernel kernel.Config
	// AllowErrors runs every cell even after one fails (nbconvert's --allow-errors). Without it,
	// the run stops at the first failing cell that is not tagged "raises-exception".
	AllowErrors bool
	// Settle is how long to wait after the last cell for work the cells left on the loop (a
	// timer that prints) to finish; 0 means 5 seconds.
	Settle time.Duration
	// CellTimeout bounds one cell; 0 means 2 minutes.
	CellTimeout time.Duration
}

// Report says how a run went.
type Report struct {
	Ran         int      // code cells executed
	Failed      []string // "In[n]" of cells whose error was not expected
	Cause       string   // why the kernel died, if it did
	VirtualTime bool     // the kernel ran on virtual time
}

// Meta is what a notebook says about how it is run, under metadata.loopbook.
type Meta struct {
	// VirtualTime runs the notebook on virtual time: when nothing is ready the loop's clock jumps
	// to the next timer, so timers fire at once and in order and durations measured with loop
	// time are exact. Notebooks whose lesson is not real timing set it, so that a headless run
	// (and the shipped notebooks' golden test) is fast and its outputs are stable.
	VirtualTime bool `json:"virtual_time"`
}

// ReadMeta reads nb's metadata.loopbook; a notebook without it gets the zero Meta.
func ReadMeta(nb *ipynb.Notebook) (Meta, error) {
	var m Meta
	if _, err := ipynb.GetMetadata(nb.Metadata, ipynb.LoopbookKey, &m); err != nil {
		return Meta{}, fmt.Errorf("metadata.%s: %w", ipynb.LoopbookKey, err)
	}
	return m, nil
}

// ErrCellFailed is returned (wrapped) when a cell failed.
var ErrCellFailed = errors.New("a cell failed")

// Run executes nb's code cells in a fresh kernel and replaces their outputs and execution counts
// with the new ones. The error is ErrCellFailed (wrapped) if a cell failed unexpectedly. The
// kernel runs on virtual time when the notebook's metadata.loopbook.virtual_time says so (or
// opts.Kernel.Limits asks for it).
func Run(ctx context.Context, nb *ipynb.Notebook, opts Options) (Report, error) {
	meta, err := ReadMeta(nb)
	if err != nil {
		return Report{}, err
	}
	if meta.VirtualTime {
		opts.Kernel.Limits.VirtualTime = true
	}
	if opts.Settle == 0 {
		opts.Settle = 5 * time.Second
	}
	if opts.CellTimeout == 0 {
		opts.CellTimeout = 2 * time.Minute
	}
	k, err := kernel.Start(opts.Kernel)
	if err != nil {
		return Report{}, err
	}
	defer k.Shutdown(2 * time.Second)
	c := &collector{nb: nb, cells: map[string]*ipynb.Cell{}, live: map[int]bool{}}
	for _, cell := range nb.Cells {
		if cell.Type == ipynb.CellCode {
			c.cells[cell.ID] = cell
		}
	}
	if err := c.waitIdle(ctx, k); err != nil {
		return Report{Cause: k.Cause()}, err
	}
	rep := Report{VirtualTime: opts.Kernel.Limits.VirtualTime}
	for _, cell := range nb.Cells {
		if cell.Type != ipynb.CellCode {
			continue
		}
		cell.Outputs = []ipynb.Output{}
		cell.ExecutionCount = nil
		if strings.TrimSpace(cell.Source) == "" {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, opts.CellTimeout)
		ex, err := k.Run(cctx, cell.ID, cell.Source, c.add)
		cancel()
		rep.Ran++
		if ex.Count > 0 {
			n := ex.Count
			cell.ExecutionCount = &n
		}
		for _, m := range ex.Messages {
			c.add(m)
		}
		if ex.Status == kernel.StateDead {
			rep.Cause = k.Cause()
			rep.Failed = append(rep.Failed, fmt.Sprintf("In[%d]", ex.Count))
			cell.Outputs = append(cell.Outputs, ipynb.Output{Type: ipynb.OutputError, Ename: "KernelDied", Evalue: rep.Cause, Traceback: []string{rep.Cause}})
			return rep, fmt.Errorf("%w: the kernel died: %s", ErrCellFailed, rep.Cause)
		}
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				k.Interrupt()
				rep.Failed = append(rep.Failed, fmt.Sprintf("In[%d]", ex.Count))
				return rep, fmt.Errorf("%w: In[%d] ran longer than %v", ErrCellFailed, ex.Count, opts.CellTimeout)
			}
			return rep, err
		}
		if ex.Status != "ok" && !expectsError(cell) {
			rep.Failed = append(rep.Failed, fmt.Sprintf("In[%d]", ex.Count))
			if !opts.AllowErrors {
				return rep, fmt.Errorf("%w: In[%d]", ErrCellFailed, ex.Count)
			}
		}
	}
	c.settle(ctx, k, opts.Settle)
	if len(rep.Failed) > 0 {
		return rep, fmt.Errorf("%w: %s", ErrCellFailed, strings.Join(rep.Failed, ", "))
	}
	return rep, nil
}

// expectsError reports whether a cell is tagged "raises-exception", Jupyter's mark for a cell
// whose error is the point (the chapter's "Event loop is closed").
func expectsError(c *ipynb.Cell) bool {
	tags, _ := c.Metadata["tags"].([]any)
	for _, t := range tags {
		if t == "raises-exception" {
			return true
		}
	}
	return false
}

// collector turns kernel messages into notebook outputs.
type collector struct {
	nb    *ipynb.Notebook
	cells map[string]*ipynb.Cell
	live  map[int]bool // runs that still own work on the loop
}

func (c *collector) waitIdle(ctx context.Context, k *kernel.Kernel) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case m, ok := <-k.Messages():
			if !ok || m.State == kernel.StateDead {
				return fmt.Errorf("the kernel did not start: %s", k.Cause())
			}
			if m.Type == kernel.MsgStatus && m.State == kernel.StateIdle {
				return nil
			}
		}
	}
}

// settle waits until no cell owns work on the loop any more, at most d.
func (c *collector) settle(ctx context.Context, k *kernel.Kernel, d time.Duration) {
	deadline := time.After(d)
	for len(c.live) > 0 {
		select {
		case <-ctx.Done():
			return
		case <-deadline:
			return
		case m, ok := <-k.Messages():
			if !ok {
				return
			}
			c.add(m)
		}
	}
}

// add puts one message into the cell it belongs to.
func (c *collector) add(m kernel.Message) {
	if m.Type == kernel.MsgOwned {
		if m.Owned.Empty() {
			delete(c.live, m.Count)
		} else {
			c.live[m.Count] = true
		}
		return
	}
	cell := c.cells[m.Cell]
	if cell == nil {
		return // background output has no cell in a file
	}
	switch m.Type {
	case kernel.MsgStream:
		if n := len(cell.Outputs); n > 0 && cell.Outputs[n-1].Type == ipynb.OutputStream && cell.Outputs[n-1].Name == m.Name {
			cell.Outputs[n-1].Text += m.Text
		} else {
			cell.Outputs = append(cell.Outputs, ipynb.Output{Type: ipynb.OutputStream, Name: m.Name, Text: m.Text})
		}
	case kernel.MsgDisplay:
		out := ipynb.Output{Type: ipynb.OutputDisplayData, Data: m.Data, Metadata: map[string]any{}}
		if m.Update {
			c.updateDisplay(m.DisplayID, out)
			return
		}
		out.Metadata = map[string]any{"loopbook": map[string]any{"display_id": m.DisplayID}}
		cell.Outputs = append(cell.Outputs, out)
	case kernel.MsgResult:
		n := m.Count
		cell.Outputs = append(cell.Outputs, ipynb.Output{Type: ipynb.OutputExecuteResult, Data: m.Data, Metadata: map[string]any{}, ExecutionCount: &n})
	case kernel.MsgError:
		cell.Outputs = append(cell.Outputs, ipynb.Output{Type: ipynb.OutputError, Ename: m.Ename, Evalue: m.Evalue, Traceback: m.Traceback})
	case kernel.MsgNotice:
		cell.Outputs = append(cell.Outputs, ipynb.Output{Type: ipynb.OutputStream, Name: ipynb.StreamStderr, Text: "[loopbook] " + m.Text + "\n"})
	}
}

// updateDisplay replaces every output shown under a display id, wherever it is.
func (c *collector) updateDisplay(id string, out ipynb.Output) {
	for _, cell := range c.nb.Cells {
		for i, o := range cell.Outputs {
			if lb, ok := o.Metadata["loopbook"].(map[string]any); ok && lb["display_id"] == id {
				out.Metadata = o.Metadata
				cell.Outputs[i] = out
			}
		}
	}
}

// Print writes the outputs of nb's code cells in cell order, as text.
func Print(w io.Writer, nb *ipynb.Notebook) {
	for _, cell := range nb.Cells {
		if cell.Type != ipynb.CellCode || cell.ExecutionCount == nil {
			continue
		}
		n := *cell.ExecutionCount
		fmt.Fprintf(w, "── In[%d] ──\n", n)
		for _, o := range cell.Outputs {
			switch o.Type {
			case ipynb.OutputStream:
				io.WriteString(w, o.Text)
				if !strings.HasSuffix(o.Text, "\n") {
					io.WriteString(w, "\n")
				}
			case ipynb.OutputExecuteResult:
				fmt.Fprintf(w, "Out[%d]: %s\n", n, o.Data["text/plain"])
			case ipynb.OutputDisplayData:
				fmt.Fprintln(w, o.Data["text/plain"])
			case ipynb.OutputError:
				for _, l := range o.Traceback {
					fmt.Fprintln(w, l)
				}
			}
		}
	}
}

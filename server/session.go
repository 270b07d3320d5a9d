package server

import (
	"encoding/json"
	"fmt"
	"go/format"
	"log"
	"strings"
	"time"

	"github.com/loopbook/loopbook/ipynb"
	"github.com/loopbook/loopbook/kernel"
)

// session is one open notebook: its state (the authority every browser tab mirrors), its
// kernel, and the browsers watching it. All state is owned by the session's goroutine (run);
// clients and the kernel send it events.
type session struct {
	srv  *Server
	path string

	events chan func() // run on the session goroutine
	done   chan struct{}

	// Owned by the session goroutine.
	nb        *ipynb.Notebook
	cells     map[string]*cellState
	clients   map[*client]bool
	k         *kernel.Kernel
	kstate    KernelStatus
	pending   map[string]string // kernel request id → cell id
	runs      map[int]string    // execution count → cell id
	recording [][]byte          // recent loop frames, kept with the notebook (bounded by recordBytes)
	recBytes  int
	savedRec  Recording // the recording the file had when opened, for replay
	saveTimer *time.Timer
	dirty     bool
	saved     bool
	saveNow   bool        // an edit waits to be saved once the burst it came in is handled
	deferred  int         // events handled since saveNow was set
	closeAt   *time.Timer // closes the session when no client came back
	lastUse   time.Time
}

// cellState is what the session knows about a cell beyond the file.
type cellState struct {
	state   string // idle, queued, running
	started time.Time
	elapsed *float64
	owned   *Owned
	count   int // the run whose outputs the cell shows
}

func newSession(srv *Server, p string, nb *ipynb.Notebook) *session {
	s := &session{
		srv: srv, path: p, nb: nb,
		events:  make(chan func(), 256),
		done:    make(chan struct{}),
		cells:   map[string]*cellState{},
		clients: map[*client]bool{},
		pending: map[string]string{},
		runs:    map[int]string{},
		kstate:  KernelStatus{State: "none"},
		saved:   true,
		lastUse: time.Now(),
	}
	for _, c := range nb.Cells {
		s.cells[c.ID] = &cellState{state: "idle", elapsed: savedElapsed(c)}
	}
	s.savedRec = savedRecording(nb)
	go s.run()
	return s
}

// do runs fn on the session goroutine; false if the session has ended.
func (s *session) do(fn func()) bool {
	select {
	case s.events <- fn:
		return true
	case <-s.done:
		return false
	}
}

func (s *session) run() {
	idle := time.NewTicker(idleCheckEvery(s.srv.cfg.IdleTimeout))
	defer idle.Stop()
	for {
		select {
		case fn, ok := <-s.events:
			if !ok {
				return
			}
			fn()
			if s.closed() {
				return
			}
			// Edits are saved as soon as the burst they arrived in is handled: one write for
			// a paste of many edits, never more than a few events late.
			if s.saveNow {
				s.deferred++
				if len(s.events) == 0 || s.deferred >= 64 {
					s.save()
				}
			}
		case <-idle.C:
			s.checkIdle()
		}
	}
}

func (s *session) closed() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// attach adds a browser and sends it the whole state.
func (s *session) attach(c *client) {
	if s.closeAt != nil {
		s.closeAt.Stop()
		s.closeAt = nil
	}
	s.clients[c] = true
	s.lastUse = time.Now()
	c.send(MsgNbState, "", s.state())
	c.send(MsgRecording, "", s.savedRec)
	if s.k == nil && s.kstate.State != "dead" {
		s.startKernel()
	}
}

// detach removes a browser; the session ends CloseGrace after the last one left, unless one
// comes back (a reload, a network drop) meanwhile.
func (s *session) detach(c *client) {
	delete(s.clients, c)
	if len(s.clients) == 0 && s.closeAt == nil {
		s.closeAt = time.AfterFunc(s.srv.cfg.CloseGrace, func() {
			s.do(func() {
				if len(s.clients) == 0 {
					s.shutdown()
				}
			})
		})
	}
}

// shutdown saves, stops the kernel and ends the session.
func (s *session) shutdown() {
	s.save()
	s.stopKernel()
	s.srv.forget(s)
	close(s.done)
}

// idleCheckEvery is how often a session looks for an idle kernel: a quarter of the idle
// timeout, at most a minute, so a kernel stops at most 25% later than asked.
func idleCheckEvery(timeout time.Duration) time.Duration {
	if timeout <= 0 {
		return time.Minute
	}
	return min(time.Minute, max(timeout/4, 10*time.Millisecond))
}

// checkIdle stops a kernel that has done nothing for IdleTimeout: no message from a browser,
// no cell running or queued, nothing owned on the loop. It runs on the session goroutine.
func (s *session) checkIdle() {
	if s.k != nil && s.srv.cfg.IdleTimeout > 0 && time.Since(s.lastUse) > s.srv.cfg.IdleTimeout && !s.busy() {
		s.stopKernel()
		s.setKernel(KernelStatus{State: "none", Cause: "stopped after being idle"})
	}
}

func (s *session) busy() bool {
	for _, cs := range s.cells {
		if cs.state != "idle" || cs.owned != nil {
			return true
		}
	}
	return false
}

// state renders the whole notebook for a browser.
func (s *session) state() NbState {
	st := NbState{Path: s.path, Kernel: s.kstate, Saved: s.saved, Cells: []Cell{}}
	for _, c := range s.nb.Cells {
		st.Cells = append(st.Cells, s.cellView(c))
	}
	return st
}

func (s *session) cellView(c *ipynb.Cell) Cell {
	cs := s.cells[c.ID]
	v := Cell{ID: c.ID, Type: string(c.Type), Source: c.Source, Count: c.ExecutionCount, State: "idle", Outputs: []Output{}}
	if cs != nil {
		v.State, v.Elapsed, v.Owned = cs.state, cs.elapsed, cs.owned
		if cs.state == "running" && !cs.started.IsZero() {
			d := time.Since(cs.started).Seconds()
			v.RunningFor = &d
		}
	}
	e := cellElision(c)
	for _, o := range c.Outputs {
		ov := outputView(o)
		e.mark(&ov)
		v.Outputs = append(v.Outputs, ov)
	}
	return v
}

func outputView(o ipynb.Output) Output {
	v := Output{Type: string(o.Type), Name: o.Name, Text: o.Text, Data: o.Data, Count: o.ExecutionCount,
		Ename: o.Ename, Evalue: o.Evalue, Traceback: o.Traceback}
	if lb, ok := o.Metadata["loopbook"].(map[string]any); ok {
		v.DisplayID, _ = lb["display_id"].(string)
	}
	return v
}

// broadcast sends a message to every browser of the notebook.
func (s *session) broadcast(typ string, data any) {
	b, err := json.Marshal(data)
	if err != nil {
		return
	}
	for c := range s.clients {
		c.sendRaw(typ, "", b)
	}
}

// --- persistence ---

// touch marks the notebook changed: structural edits and sources are saved at once (nothing
// typed is lost if the server dies), outputs a moment later (they stream fast).
func (s *session) touch(now bool) {
	s.dirty, s.saved = true, false
	if now {
		s.saveNow = true
		return
	}
	if s.saveTimer == nil {
		s.saveTimer = time.AfterFunc(time.Second, func() { s.do(s.save) })
	}
}

// recordBytes bounds the loop recording kept in a notebook's metadata.
const recordBytes = 1 << 20

// record keeps a loop frame for replay, dropping the oldest beyond recordBytes.
func (s *session) record(frame []byte) {
	s.recording = append(s.recording, frame)
	s.recBytes += len(frame)
	for s.recBytes > recordBytes && len(s.recording) > 1 {
		s.recBytes -= len(s.recording[0])
		s.recording = s.recording[1:]
	}
	s.touch(false)
}

// storeRecording writes the recording into the notebook's metadata (loopbook.recording).
func (s *session) storeRecording() {
	if len(s.recording) == 0 {
		return
	}
	frames := make([]json.RawMessage, len(s.recording))
	for i, f := range s.recording {
		frames[i] = f
	}
	if s.nb.Metadata == nil {
		s.nb.Metadata = map[string]any{}
	}
	lb, _ := s.nb.Metadata["loopbook"].(map[string]any)
	if lb == nil {
		lb = map[string]any{}
	}
	lb["recording"] = map[string]any{"frames": frames}
	s.nb.Metadata["loopbook"] = lb
}

// savedRecording returns the frames a notebook file carries.
func savedRecording(nb *ipynb.Notebook) Recording {
	rec := Recording{Frames: []json.RawMessage{}}
	lb, _ := nb.Metadata["loopbook"].(map[string]any)
	r, _ := lb["recording"].(map[string]any)
	frames, _ := r["frames"].([]any)
	for _, f := range frames {
		if b, err := json.Marshal(f); err == nil {
			rec.Frames = append(rec.Frames, b)
		}
	}
	return rec
}

func (s *session) save() {
	s.saveNow, s.deferred = false, 0
	if s.saveTimer != nil {
		s.saveTimer.Stop()
		s.saveTimer = nil
	}
	if !s.dirty {
		return
	}
	s.storeRecording()
	if err := s.srv.store.write(s.path, s.nb); err != nil {
		s.broadcast(MsgNotice, Notice{Text: "could not save: " + err.Error()})
		log.Printf("loopbook: saving %s: %v", s.path, err)
		return
	}
	s.dirty, s.saved = false, true
	s.broadcast(MsgNbSaved, NbSaved{At: time.Now().UTC().Format(time.RFC3339)})
}

// --- requests from browsers ---

func (s *session) cell(id string) (*ipynb.Cell, int) {
	for i, c := range s.nb.Cells {
		if c.ID == id {
			return c, i
		}
	}
	return nil, -1
}

// handle applies one browser message. It returns an error message for the sender.
func (s *session) handle(c *client, env Envelope) error {
	s.lastUse = time.Now()
	decode := func(v any) error {
		if err := json.Unmarshal(env.Data, v); err != nil {
			return fmt.Errorf("%s: bad payload: %v", env.Type, err)
		}
		return nil
	}
	switch env.Type {
	case MsgCellEdit:
		var m CellEdit
		if err := decode(&m); err != nil {
			return err
		}
		cell, _ := s.cell(m.Cell)
		if cell == nil {
			return fmt.Errorf("no cell %q", m.Cell)
		}
		if cell.Source == m.Source {
			return nil
		}
		cell.Source = m.Source
		s.touch(true)
		s.broadcastExcept(c, MsgCellUpdated, s.cellView(cell))
	case MsgCellInsert:
		var m CellInsert
		if err := decode(&m); err != nil {
			return err
		}
		t, err := cellType(m.Type)
		if err != nil {
			return err
		}
		if m.Index < 0 || m.Index > len(s.nb.Cells) {
			return fmt.Errorf("index %d out of range", m.Index)
		}
		cell := s.nb.NewCell(t, m.Source)
		if m.ID != "" && validID(m.ID) {
			if other, _ := s.cell(m.ID); other == nil {
				cell.ID = m.ID
			}
		}
		s.nb.Cells = append(s.nb.Cells[:m.Index], append([]*ipynb.Cell{cell}, s.nb.Cells[m.Index:]...)...)
		s.cells[cell.ID] = &cellState{state: "idle"}
		s.touch(true)
		s.broadcast(MsgCellInserted, CellInserted{Index: m.Index, Cell: s.cellView(cell)})
	case MsgCellDelete:
		var m CellRef
		if err := decode(&m); err != nil {
			return err
		}
		cell, i := s.cell(m.Cell)
		if cell == nil {
			return fmt.Errorf("no cell %q", m.Cell)
		}
		if s.k != nil && cell.Type == ipynb.CellCode {
			s.k.Send(kernel.Request{Type: kernel.ReqCancelOwned, Cell: cell.ID})
		}
		s.nb.Cells = append(s.nb.Cells[:i], s.nb.Cells[i+1:]...)
		delete(s.cells, cell.ID)
		s.touch(true)
		s.broadcast(MsgCellDeleted, CellRef{Cell: cell.ID})
	case MsgCellMove:
		var m CellMove
		if err := decode(&m); err != nil {
			return err
		}
		cell, i := s.cell(m.Cell)
		if cell == nil {
			return fmt.Errorf("no cell %q", m.Cell)
		}
		if m.Index < 0 || m.Index >= len(s.nb.Cells) {
			return fmt.Errorf("index %d out of range", m.Index)
		}
		s.nb.Cells = append(s.nb.Cells[:i], s.nb.Cells[i+1:]...)
		s.nb.Cells = append(s.nb.Cells[:m.Index], append([]*ipynb.Cell{cell}, s.nb.Cells[m.Index:]...)...)
		s.touch(true)
		s.broadcast(MsgCellMoved, m)
	case MsgCellSetType:
		var m CellSetType
		if err := decode(&m); err != nil {
			return err
		}
		t, err := cellType(m.Type)
		if err != nil {
			return err
		}
		cell, _ := s.cell(m.Cell)
		if cell == nil {
			return fmt.Errorf("no cell %q", m.Cell)
		}
		if cell.Type == t {
			return nil
		}
		cell.Type = t
		cell.ExecutionCount = nil
		cell.Outputs = nil
		if t == ipynb.CellCode {
			cell.Outputs = []ipynb.Output{}
		}
		s.touch(true)
		s.broadcast(MsgCellUpdated, s.cellView(cell))
	case MsgCellRun:
		var m CellRun
		if err := decode(&m); err != nil {
			return err
		}
		for _, id := range m.Cells {
			if err := s.runCell(id); err != nil {
				return err
			}
		}
	case MsgCellClear:
		var m CellRefs
		if err := decode(&m); err != nil {
			return err
		}
		ids := m.Cells
		if len(ids) == 0 {
			for _, c := range s.nb.Cells {
				ids = append(ids, c.ID)
			}
		}
		for _, id := range ids {
			if cell, _ := s.cell(id); cell != nil && cell.Type == ipynb.CellCode {
				cell.Outputs = []ipynb.Output{}
			}
		}
		s.touch(true)
		s.broadcast(MsgCellCleared, CellRefs{Cells: ids})
	case MsgCellCancel:
		var m CellRef
		if err := decode(&m); err != nil {
			return err
		}
		if s.k != nil {
			s.k.Send(kernel.Request{Type: kernel.ReqCancelOwned, Cell: m.Cell})
		}
	case MsgCellFormat:
		var m CellRef
		if err := decode(&m); err != nil {
			return err
		}
		cell, _ := s.cell(m.Cell)
		if cell == nil {
			return fmt.Errorf("no cell %q", m.Cell)
		}
		src, err := formatCell(cell.Source)
		if err != nil {
			return err
		}
		if src != cell.Source {
			cell.Source = src
			s.touch(true)
			s.broadcast(MsgCellUpdated, s.cellView(cell))
		}
	case MsgLoopControl:
		var m LoopControl
		if err := decode(&m); err != nil {
			return err
		}
		if s.k == nil {
			return fmt.Errorf("the kernel is not running")
		}
		s.k.Control(kernel.Request{Type: kernel.ReqLoop, Action: m.Action, Value: m.Value, Loop: m.Loop})
	case MsgKernelInt:
		if s.k != nil {
			s.setKernel(KernelStatus{State: "interrupting"})
			s.k.Interrupt()
		}
	case MsgKernelRestart:
		var m KernelRestart
		if len(env.Data) > 0 {
			if err := decode(&m); err != nil {
				return err
			}
		}
		s.restart()
		if m.RunAll {
			for _, c := range s.nb.Cells {
				if c.Type == ipynb.CellCode && strings.TrimSpace(c.Source) != "" {
					s.runCell(c.ID)
				}
			}
		}
	default:
		return fmt.Errorf("unknown message type %q", env.Type)
	}
	return nil
}

// broadcastExcept sends to every browser but one (the tab that made the edit has it already).
func (s *session) broadcastExcept(except *client, typ string, data any) {
	b, err := json.Marshal(data)
	if err != nil {
		return
	}
	for c := range s.clients {
		if c != except {
			c.sendRaw(typ, "", b)
		}
	}
}

func cellType(t string) (ipynb.CellType, error) {
	switch ipynb.CellType(t) {
	case ipynb.CellCode, ipynb.CellMarkdown, ipynb.CellRaw:
		return ipynb.CellType(t), nil
	}
	return "", fmt.Errorf("unknown cell type %q", t)
}

func validID(id string) bool {
	if len(id) == 0 || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// formatCell gofmts a cell: a list of declarations and statements, as go/format accepts.
func formatCell(src string) (string, error) {
	out, err := format.Source([]byte(src))
	if err != nil {
		return "", fmt.Errorf("format: %v", err)
	}
	return string(out), nil
}

// --- the kernel ---

func (s *session) setKernel(st KernelStatus) {
	s.kstate = st
	s.broadcast(MsgKernelStatus, st)
}

func (s *session) startKernel() {
	s.setKernel(KernelStatus{State: "starting"})
	k, err := kernel.Start(s.srv.cfg.Kernel)
	if err != nil {
		s.setKernel(KernelStatus{State: "dead", Cause: err.Error()})
		return
	}
	s.k = k
	go func() {
		for m := range k.Messages() {
			m := m
			if !s.do(func() { s.fromKernel(k, m) }) {
				k.Kill()
				return
			}
		}
	}()
}

func (s *session) stopKernel() {
	if s.k == nil {
		return
	}
	k := s.k
	s.k = nil
	go k.Shutdown(2 * time.Second)
	s.endRuns("aborted", "")
}

// restart replaces the kernel; what the old one held is gone.
func (s *session) restart() {
	if s.k != nil {
		old := s.k
		s.k = nil
		old.Kill()
	}
	s.endRuns("aborted", "")
	for _, cs := range s.cells {
		if cs.owned != nil {
			cs.owned = nil
		}
	}
	s.broadcast(MsgNotice, Notice{Text: "kernel restarted: variables and running work are gone"})
	s.setKernel(KernelStatus{State: "restarting"})
	s.startKernel()
}

// endRuns finishes every queued or running cell (the kernel went away).
func (s *session) endRuns(status, cause string) {
	for id, cs := range s.cells {
		if cs.state == "idle" {
			continue
		}
		cell, _ := s.cell(id)
		if cell != nil && cs.state == "running" && cause != "" {
			out := ipynb.Output{Type: ipynb.OutputError, Ename: "KernelDied", Evalue: cause, Traceback: []string{"KernelDied: " + cause}}
			cell.Outputs = append(cell.Outputs, out)
			s.broadcast(MsgCellOutput, CellOutput{Cell: id, Count: cs.count, Output: outputView(out)})
		}
		cs.state = "idle"
		s.broadcast(MsgCellDone, CellDone{Cell: id, Count: cs.count, Status: status})
	}
	s.pending = map[string]string{}
	s.touch(false)
}

// runCell sends a cell to the kernel (it queues requests itself).
func (s *session) runCell(id string) error {
	cell, _ := s.cell(id)
	if cell == nil {
		return fmt.Errorf("no cell %q", id)
	}
	if cell.Type != ipynb.CellCode {
		return nil
	}
	if s.k == nil {
		s.startKernel()
		if s.k == nil {
			return fmt.Errorf("the kernel does not start: %s", s.kstate.Cause)
		}
	}
	rid, err := s.k.Send(kernel.Request{Type: kernel.ReqExecute, Cell: id, Code: cell.Source})
	if err != nil {
		return fmt.Errorf("the kernel is gone: %v", err)
	}
	s.pending[rid] = id
	s.cells[id].state = "queued"
	s.broadcast(MsgCellQueued, CellRef{Cell: id})
	return nil
}

// fromKernel applies one kernel message to the notebook.
func (s *session) fromKernel(k *kernel.Kernel, m kernel.Message) {
	if k != s.k {
		return // a kernel that was replaced; its last words do not matter
	}
	cellOf := func() (*ipynb.Cell, *cellState) {
		cell, _ := s.cell(m.Cell)
		if cell == nil {
			return nil, nil
		}
		cs := s.cells[m.Cell]
		if m.Count != 0 && cs.count != 0 && m.Count < cs.count {
			return nil, nil // output of an earlier run whose outputs were replaced
		}
		return cell, cs
	}
	switch m.Type {
	case kernel.MsgStatus:
		switch m.State {
		case kernel.StateDead:
			s.k = nil
			s.endRuns("error", m.Text)
			s.setKernel(KernelStatus{State: "dead", Cause: m.Text})
		case kernel.StateStarting:
			s.setKernel(KernelStatus{State: "starting"})
		case kernel.StateIdle, kernel.StateBusy:
			if s.kstate.State == "interrupting" && m.State == kernel.StateBusy {
				return
			}
			state := "idle"
			for _, cs := range s.cells {
				if cs.state != "idle" {
					state = "busy"
				}
			}
			if state != s.kstate.State || s.kstate.Cause != "" {
				s.setKernel(KernelStatus{State: state})
			}
		}
	case kernel.MsgExecuteInput:
		cell, _ := s.cell(m.Cell)
		if cell == nil {
			return
		}
		cs := s.cells[m.Cell]
		cs.state, cs.started, cs.count, cs.owned = "running", time.Now(), m.Count, nil
		n := m.Count
		cell.ExecutionCount = &n
		setExecution(cell, cs.started, 0)
		cell.Outputs = []ipynb.Output{}
		s.runs[m.Count] = m.Cell
		s.broadcast(MsgCellStarted, CellStarted{Cell: m.Cell, Count: m.Count})
		if s.kstate.State != "busy" && s.kstate.State != "interrupting" {
			s.setKernel(KernelStatus{State: "busy"})
		}
	case kernel.MsgStream, kernel.MsgDisplay, kernel.MsgResult, kernel.MsgError, kernel.MsgNotice:
		out := kernelOutput(m)
		if m.Type == kernel.MsgDisplay && m.Update {
			s.updateDisplay(m.DisplayID, out)
			return
		}
		cell, _ := cellOf()
		if cell == nil {
			if m.Cell == "" {
				s.broadcast(MsgBackground, outputView(out))
			}
			return
		}
		appendOutput(cell, out)
		ov := outputView(out)
		if m.Type == kernel.MsgStream && m.Name == ipynb.StreamStderr {
			var e elision
			e.add(m.Text)
			if e.elided > 0 {
				cellElision(cell).mark(&ov) // the sizes of all the run's notes so far
			}
		}
		s.broadcast(MsgCellOutput, CellOutput{Cell: cell.ID, Count: m.Count, Output: ov})
		s.touch(false)
	case kernel.MsgOwned:
		cell, cs := cellOf()
		if cell == nil {
			return
		}
		o := Owned(*m.Owned)
		s.lastUse = time.Now()
		if m.Owned.Empty() {
			cs.owned = nil
		} else {
			cs.owned = &o
		}
		s.broadcast(MsgCellOwned, CellOwned{Cell: cell.ID, Count: m.Count, Owned: o})
	case kernel.MsgReply:
		id, ok := s.pending[m.Parent]
		if !ok {
			if s.kstate.State == "interrupting" {
				s.setKernel(KernelStatus{State: "idle"})
				for _, cs := range s.cells {
					if cs.state != "idle" {
						s.setKernel(KernelStatus{State: "busy"})
						break
					}
				}
			}
			return
		}
		delete(s.pending, m.Parent)
		s.lastUse = time.Now()
		cs := s.cells[id]
		if cs == nil {
			return
		}
		cs.state = "idle"
		var el float64
		if !cs.started.IsZero() && m.Status != "aborted" {
			d := time.Since(cs.started)
			el = d.Seconds()
			cs.elapsed = &el
			if cell, _ := s.cell(id); cell != nil {
				setExecution(cell, cs.started, d)
			}
		}
		s.broadcast(MsgCellDone, CellDone{Cell: id, Count: m.Count, Status: m.Status, Elapsed: el})
		s.touch(false)
	case kernel.MsgLoop:
		s.record(m.Loop)
		for c := range s.clients {
			c.sendRaw(MsgLoopFrame, "", m.Loop)
		}
	case kernel.MsgDying:
		s.broadcast(MsgNotice, Notice{Cell: m.Cell, Count: m.Count, Text: m.Text})
	}
}

// The time of a run is kept in the cell's metadata as JupyterLab records it ("execution":
// {"iopub.execute_input": …, "shell.execute_reply": …}, ISO 8601 times), so it survives a
// reload and a server restart, and Jupyter shows it too. The server measures it: from the
// kernel's execute_input to its reply.
const (
	execInput = "iopub.execute_input"
	execReply = "shell.execute_reply"
)

// setExecution records a run that started at start and, when d > 0, ended d later. The reply
// time is start+d, so the two times differ by exactly the measured duration.
func setExecution(cell *ipynb.Cell, start time.Time, d time.Duration) {
	if cell.Metadata == nil {
		cell.Metadata = map[string]any{}
	}
	ex := map[string]any{execInput: start.UTC().Format(time.RFC3339Nano)}
	if d > 0 {
		ex[execReply] = start.Add(d).UTC().Format(time.RFC3339Nano)
	}
	cell.Metadata["execution"] = ex
}

// savedElapsed is the duration of a cell's last run recorded in its metadata, or nil.
func savedElapsed(cell *ipynb.Cell) *float64 {
	ex, _ := cell.Metadata["execution"].(map[string]any)
	in, _ := ex[execInput].(string)
	out, _ := ex[execReply].(string)
	t0, err1 := time.Parse(time.RFC3339Nano, in)
	t1, err2 := time.Parse(time.RFC3339Nano, out)
	if err1 != nil || err2 != nil || t1.Before(t0) {
		return nil
	}
	el := t1.Sub(t0).Seconds()
	return &el
}

func kernelOutput(m kernel.Message) ipynb.Output {
	switch m.Type {
	case kernel.MsgStream:
		return ipynb.Output{Type: ipynb.OutputStream, Name: m.Name, Text: m.Text}
	case kernel.MsgDisplay:
		return ipynb.Output{Type: ipynb.OutputDisplayData, Data: m.Data,
			Metadata: map[string]any{"loopbook": map[string]any{"display_id": m.DisplayID}}}
	case kernel.MsgResult:
		n := m.Count
		return ipynb.Output{Type: ipynb.OutputExecuteResult, Data: m.Data, Metadata: map[string]any{}, ExecutionCount: &n}
	case kernel.MsgError:
		return ipynb.Output{Type: ipynb.OutputError, Ename: m.Ename, Evalue: m.Evalue, Traceback: m.Traceback}
	}
	// A notice is shown as a line of stderr in its cell, and saved that way.
	return ipynb.Output{Type: ipynb.OutputStream, Name: ipynb.StreamStderr, Text: "[loopbook] " + m.Text + "\n"}
}

// appendOutput adds an output to a cell, joining stream text to the last output of the same
// stream, as Jupyter does.
func appendOutput(cell *ipynb.Cell, out ipynb.Output) {
	if n := len(cell.Outputs); n > 0 && out.Type == ipynb.OutputStream {
		last := &cell.Outputs[n-1]
		if last.Type == ipynb.OutputStream && last.Name == out.Name {
			last.Text += out.Text
			return
		}
	}
	cell.Outputs = append(cell.Outputs, out)
}

func (s *session) updateDisplay(id string, out ipynb.Output) {
	for _, cell := range s.nb.Cells {
		for i, o := range cell.Outputs {
			if lb, ok := o.Metadata["loopbook"].(map[string]any); ok && lb["display_id"] == id {
				out.Metadata = o.Metadata
				cell.Outputs[i] = out
			}
		}
	}
	v := outputView(out)
	v.DisplayID = id
	s.broadcast(MsgCellDisplay, DisplayUpdate{DisplayID: id, Output: v})
	s.touch(false)
}

package server

import "encoding/json"

// The wire protocol between the browser and the server: one websocket per open notebook, JSON
// text frames, each an Envelope {"type": "...", "data": {...}}. Every type has exactly one
// payload type, declared below; web/static/js/wire.js mirrors this list in one switch.
//
// The server holds the notebook's state. On connect it sends nb:state (everything, including
// outputs of cells still running); afterwards it sends changes. Edits from one tab reach the
// others as cell:updated etc. Every client message may carry a "req" id; errors caused by it
// come back as an error message with the same id.

// Client → server message types.
const (
	MsgCellEdit      = "cell:edit"     // CellEdit: new source of a cell (the whole text)
	MsgCellInsert    = "cell:insert"   // CellInsert: a new cell at an index
	MsgCellDelete    = "cell:delete"   // CellRef: delete a cell (cancels what it owns)
	MsgCellMove      = "cell:move"     // CellMove: move a cell to an index
	MsgCellSetType   = "cell:set_type" // CellSetType: code or markdown
	MsgCellRun       = "cell:run"      // CellRun: run cells, in the given order (queued)
	MsgCellClear     = "cell:clear"    // CellRefs: clear outputs (empty list: all cells)
	MsgCellCancel    = "cell:cancel"   // CellRef: cancel what the cell still owns on the loop
	MsgCellFormat    = "cell:format"   // CellRef: gofmt the cell's source
	MsgKernelInt     = "kernel:interrupt"
	MsgKernelRestart = "kernel:restart" // KernelRestart: restart, optionally run all cells after
	MsgLoopControl   = "loop:control"   // LoopControl: pause, resume, step, slow motion, virtual time
)

// Server → client message types.
const (
	MsgNbState      = "nb:state"          // NbState: the whole notebook (on connect)
	MsgNbSaved      = "nb:saved"          // NbSaved: the file on disk is up to date
	MsgCellUpdated  = "cell:updated"      // Cell: a cell changed (source, type, count, outputs reset…)
	MsgCellInserted = "cell:inserted"     // CellInserted
	MsgCellDeleted  = "cell:deleted"      // CellRef
	MsgCellMoved    = "cell:moved"        // CellMove
	MsgCellQueued   = "cell:queued"       // CellRef: waiting for the kernel
	MsgCellStarted  = "cell:started"      // CellStarted: running as In[count]
	MsgCellOutput   = "cell:output"       // CellOutput: one more output (stream text is appended to the last stream output of the same name)
	MsgCellDisplay  = "cell:display"      // DisplayUpdate: replace the outputs shown under a display id
	MsgCellDone     = "cell:done"         // CellDone: the run finished (ok, error, aborted)
	MsgCellOwned    = "cell:owned"        // CellOwned: what the cell still has on the loop
	MsgCellCleared  = "cell:cleared"      // CellRefs: outputs cleared
	MsgBackground   = "background:output" // Output: output that no cell owns
	MsgKernelStatus = "kernel:status"     // KernelStatus
	MsgNotice       = "notice"            // Notice: something the user should know, maybe about a cell
	MsgError        = "error"             // ErrorMsg: a request failed
	MsgLoopFrame    = "loop:frame"        // a kernel.Frame: what the shared loop did since the last frame (the panel)
	MsgRecording    = "loop:recording"    // Recording: the frames recorded with the notebook (replay)
)

// Envelope is one websocket message.
type Envelope struct {
	Type string          `json:"type"`
	Req  string          `json:"req,omitempty"`
	Data json.RawMessage `json:"data,omitempty"`
}

// Cell is a cell as the browser sees it.
type Cell struct {
	ID      string   `json:"id"`
	Type    string   `json:"type"` // code, markdown, raw
	Source  string   `json:"source"`
	Count   *int     `json:"count"`             // In[n]; null if never run
	State   string   `json:"state"`             // idle, queued, running
	Outputs []Output `json:"outputs"`           // as in nbformat
	Elapsed *float64 `json:"elapsed,omitempty"` // seconds of the last run (measured by the server: execute_input to reply)
	// RunningFor is how long a running cell has been running, in seconds, when the message was sent.
	RunningFor *float64 `json:"running_for,omitempty"`
	Owned      *Owned   `json:"owned,omitempty"` // what the last run still owns on the loop
}

// Output is one output, in nbformat's shape (stream, display_data, execute_result, error),
// plus the display id for updatable displays.
type Output struct {
	Type      string            `json:"output_type"`
	Name      string            `json:"name,omitempty"`
	Text      string            `json:"text,omitempty"`
	Data      map[string]string `json:"data,omitempty"`
	Count     *int              `json:"execution_count,omitempty"`
	Ename     string            `json:"ename,omitempty"`
	Evalue    string            `json:"evalue,omitempty"`
	Traceback []string          `json:"traceback,omitempty"`
	DisplayID string            `json:"display_id,omitempty"`
	// Truncated is set on the stream outputs of a run whose output the kernel cut: it keeps
	// the head and the tail of what a run prints and drops the middle (kernel/router.go), in
	// place of which the run's stderr carries a note. Bytes is what the run printed in all,
	// Elided what was dropped, both as the kernel's note gives them (to a KiB or MiB). The full
	// text of what was kept is GET /api/output/{path}?cell={id}.
	Truncated bool  `json:"truncated,omitempty"`
	Bytes     int64 `json:"bytes,omitempty"`
	Elided    int64 `json:"elided,omitempty"`
}

// Owned is what a cell run still has on the shared loop.
type Owned struct {
	Tasks    int `json:"tasks"`
	Timers   int `json:"timers"`
	Watchers int `json:"watchers"`
	Ready    int `json:"ready"`
}

// NbState is the whole notebook.
type NbState struct {
	Path     string       `json:"path"`     // the notebook's name in the notebooks directory
	ReadOnly bool         `json:"readonly"` // a shipped original: edits go to a copy
	Cells    []Cell       `json:"cells"`
	Kernel   KernelStatus `json:"kernel"`
	Saved    bool         `json:"saved"`
}

// NbSaved says the file on disk matches the state.
type NbSaved struct {
	At string `json:"at"` // RFC 3339
}

// KernelStatus is the kernel's state: starting, idle, busy, interrupting, restarting, dead
// (with its cause), or none (not started yet).
type KernelStatus struct {
	State string `json:"state"`
	Cause string `json:"cause,omitempty"`
}

// CellRef names a cell.
type CellRef struct {
	Cell string `json:"cell"`
}

// CellRefs names several cells.
type CellRefs struct {
	Cells []string `json:"cells"`
}

// CellEdit sets a cell's source.
type CellEdit struct {
	Cell   string `json:"cell"`
	Source string `json:"source"`
}

// CellInsert asks for a new cell at Index (0 = first); the server picks the id unless given.
type CellInsert struct {
	Index  int    `json:"index"`
	Type   string `json:"type"`
	Source string `json:"source"`
	ID     string `json:"id,omitempty"`
}

// CellInserted announces a new cell.
type CellInserted struct {
	Index int  `json:"index"`
	Cell  Cell `json:"cell"`
}

// CellMove moves a cell to Index (its position after the move).
type CellMove struct {
	Cell  string `json:"cell"`
	Index int    `json:"index"`
}

// CellSetType changes a cell's type.
type CellSetType struct {
	Cell string `json:"cell"`
	Type string `json:"type"`
}

// CellRun runs cells in order.
type CellRun struct {
	Cells []string `json:"cells"`
}

// KernelRestart restarts the kernel; RunAll then runs every code cell.
type KernelRestart struct {
	RunAll bool `json:"run_all"`
}

// CellStarted says a cell began to run as In[Count].
type CellStarted struct {
	Cell  string `json:"cell"`
	Count int    `json:"count"`
}

// CellOutput is one more output of a cell (Count: the run that produced it).
type CellOutput struct {
	Cell   string `json:"cell"`
	Count  int    `json:"count"`
	Output Output `json:"output"`
}

// DisplayUpdate replaces what is shown under a display id, in whichever cell.
type DisplayUpdate struct {
	DisplayID string `json:"display_id"`
	Output    Output `json:"output"`
}

// CellDone ends a run.
type CellDone struct {
	Cell    string  `json:"cell"`
	Count   int     `json:"count"`
	Status  string  `json:"status"`  // ok, error, aborted
	Elapsed float64 `json:"elapsed"` // seconds
}

// CellOwned reports what a cell run still has on the loop.
type CellOwned struct {
	Cell  string `json:"cell"`
	Count int    `json:"count"`
	Owned Owned  `json:"owned"`
}

// Notice is a message for the user; Cell is empty when it concerns the whole notebook.
type Notice struct {
	Cell  string `json:"cell,omitempty"`
	Count int    `json:"count,omitempty"`
	Text  string `json:"text"`
}

// ErrorMsg reports a failed request.
type ErrorMsg struct {
	Message string `json:"message"`
}

// LoopControl drives the shared loop from the panel: Action is pause, resume, step_iteration,
// step_callback, slow_motion (Value: ms per callback, 0 off) or virtual_time (Value 1 on, 0 off).
// Loop, when set, is a private loop's id (a frame's "loop") instead of the shared loop.
type LoopControl struct {
	Action string  `json:"action"`
	Value  float64 `json:"value"`
	Loop   int     `json:"loop,omitempty"`
}

// Recording is the loop's recent history kept with the notebook: frames in order (see
// kernel.Frame), so a saved or shared notebook can be replayed without running anything.
type Recording struct {
	Frames []json.RawMessage `json:"frames"`
}

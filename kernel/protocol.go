package kernel

import "encoding/json"

// The protocol between the server (or `loopbook run`) and a kernel process. Every message is one
// line of JSON. The parent writes requests to the kernel's shell fd and control requests
// (interrupt, shutdown) to its control fd, so that an interrupt never waits behind queued cells;
// the kernel writes messages to its message fd. The kernel's stdout and stderr are not part of
// the protocol: what user code prints there is captured inside the kernel and sent as stream
// messages, tagged with the cell that printed it.
//
// For each request the kernel sends, in order:
//
//	status busy (parent = request id)
//	execute_input (cell, count)                       execute only
//	stream / display / result / error / notice …      each tagged with cell and count
//	reply (parent, status ok | error | aborted)       exactly one
//	status idle (parent = request id)
//
// Messages caused by work that outlives its cell (a timer's callback printing later) come at any
// time, tagged with the cell and count that own the work; output nobody owns has an empty cell
// (the background lane). owned messages report what a cell run still has on the loop.

// Request types.
const (
	ReqExecute     = "execute"      // run Code as cell Cell; Count comes back in execute_input
	ReqCancelOwned = "cancel_owned" // cancel what every run of Cell still owns (re-run, delete)
	ReqInterrupt   = "interrupt"    // control fd: stop the running cell, drop queued ones
	ReqShutdown    = "shutdown"     // control fd: exit after cancelling everything
	ReqLoop        = "loop"         // control fd: Action pause|resume|step_iteration|step_callback|slow_motion (Value ms)|virtual_time (Value 0/1); Loop: a private loop's id
)

// Request is what the parent sends.
type Request struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	Cell string `json:"cell,omitempty"`
	Code string `json:"code,omitempty"`
	// Action and Value of a loop control request.
	Action string  `json:"action,omitempty"`
	Value  float64 `json:"value,omitempty"`
	Loop   int     `json:"loop,omitempty"` // the private loop a loop control is for (Frame.Loop); 0 the shared loop
}

// Message types.
const (
	MsgStatus       = "status"        // State: starting, idle, busy
	MsgExecuteInput = "execute_input" // a cell run starts: Cell, Count
	MsgStream       = "stream"        // Name stdout|stderr, Text
	MsgDisplay      = "display"       // Data (MIME bundle), DisplayID, Update
	MsgResult       = "result"        // Out[n]: Data
	MsgError        = "error"         // Ename, Evalue, Traceback
	MsgNotice       = "notice"        // Text: something the kernel did that the user should know
	MsgReply        = "reply"         // Status: ok, error, aborted
	MsgOwned        = "owned"         // Owned: what the cell run still has on the loop
	MsgDying        = "dying"         // Text: why the kernel is about to exit
	MsgLoop         = "loop"          // Loop: a Frame of the loop panel (see monitor.go)
)

// Kernel states in status messages; the client adds "dead" and "restarting" on its side.
const (
	StateStarting = "starting"
	StateIdle     = "idle"
	StateBusy     = "busy"
	StateDead     = "dead"
)

// Message is what the kernel sends.
type Message struct {
	Type      string            `json:"type"`
	Parent    string            `json:"parent,omitempty"`
	Cell      string            `json:"cell,omitempty"`
	Count     int               `json:"count,omitempty"`
	State     string            `json:"state,omitempty"`
	Name      string            `json:"name,omitempty"`
	Text      string            `json:"text,omitempty"`
	Data      map[string]string `json:"data,omitempty"`
	DisplayID string            `json:"display_id,omitempty"`
	Update    bool              `json:"update,omitempty"`
	Ename     string            `json:"ename,omitempty"`
	Evalue    string            `json:"evalue,omitempty"`
	Traceback []string          `json:"traceback,omitempty"`
	Status    string            `json:"status,omitempty"`
	Owned     *Owned            `json:"owned,omitempty"`
	Pid       int               `json:"pid,omitempty"`
	Loop      json.RawMessage   `json:"loop,omitempty"`
}

// Owned is what a cell run still has on the shared loop.
type Owned struct {
	Tasks    int `json:"tasks"`
	Timers   int `json:"timers"`
	Watchers int `json:"watchers"`
	Ready    int `json:"ready"`
}

// Empty reports whether nothing is left.
func (o Owned) Empty() bool { return o == Owned{} }

// File descriptors of the kernel process, set up by the client with exec's ExtraFiles.
const (
	fdShell   = 3 // requests in
	fdControl = 4 // control requests in
	fdMsgs    = 5 // messages out
	fdCrash   = 6 // the Go runtime's fatal error report (debug.SetCrashOutput)
)

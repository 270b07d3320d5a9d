// Package kernel runs notebook cells in a process of their own, one per open notebook: the
// kernel process (Serve, `loopbook kernel`) and the parent's handle on it (Start, Kernel).
//
// yaegi is neither a sandbox nor crash-safe: a stack overflow or an out-of-memory is fatal to
// the process, and goroutines outlive cancellation. The process boundary keeps the server and
// the other notebooks alive, and the kernel limits itself at start (Limits) so that runaway code
// dies fast. The parent reports why a kernel died, from the Go runtime's crash report on a
// dedicated fd and the exit status, and starting a fresh one is one call.
//
// Inside, one loop runs for ever; each cell runs as a task on it, owned by its run (the execution
// count), and everything the cell schedules inherits that owner. What code prints reaches the
// cell that owns it, live, even after the cell returned. The protocol is in protocol.go.
package kernel

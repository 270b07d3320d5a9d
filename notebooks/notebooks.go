// Package notebooks holds the notebooks Loopbook ships: read-only originals that open as
// editable copies.
//
//	tour.ipynb                 Loopbook itself: cells, L and co, ownership, the loop's picture, files
//	event-loops.ipynb          the chapter: a blocking read, non-blocking sockets and Select, the
//	                           loop, coroutines, "Event loop is closed", and the payoff, measured
//	timers.ipynb               timers and cancellation
//	futures-and-tasks.ipynb    futures, tasks, Gather and WaitFor
//	echo-server.ipynb          an echo server on the loop next to a blocking one, measured
//	dont-block-the-loop.ipynb  the slow-callback warning, a live watchdog, RunInExecutor
//
// Cells that need a network peer use the local test services of package testsvc (import
// "testsvc" in a cell), so every notebook runs offline.
//
// # Golden tests
//
// The notebooks are also golden tests (notebooks_test.go). `go test ./notebooks` executes each
// one in a fresh kernel, as `loopbook run` does, and compares every code cell's outputs with
// those stored in the file; a notebook that fails to run fails the test, except for cells
// tagged "raises-exception". `go test ./notebooks -update` stores new outputs (only in cells
// whose outputs changed beyond normalisation). The test also checks that each file is valid
// nbformat 4.5 with Jupyter's own validator (python3-nbformat), written in the canonical style,
// with a Go kernelspec and language_info and every code cell's outputs stored, so that code
// hosts render it as a notebook.
//
// A notebook's metadata.loopbook.virtual_time (true or false) chooses the clock of its golden
// run. On virtual time, timers fire at once and in order and durations measured with loop time
// are exact, so they are compared as they are: use it wherever timing is not the lesson. On real
// time (event-loops, echo-server, dont-block-the-loop), durations vary and are normalised.
// Normalised on both sides of the comparison, always: loopback ports (127.0.0.1:<port>), the
// seconds in the slow-callback warning ("took <n> seconds"), hexadecimal pointers (0x<ptr>),
// timestamps (<time>) and goroutine numbers; on real time also every Go duration (2.0041s,
// 501ms, 1m30s → <dur>) and decimal seconds ("2.01 s"). Everything else — the order of lines,
// counts, errors, ids such as Task-3 and In[n]:line — must match.
//
// Cells in these notebooks avoid two interpreter pitfalls (see the notebooks' own cells for the
// shape): a multi-value := inside a block (for, if) at a cell's top level, and declaring the
// same name with := twice in one cell.
package notebooks

import (
	"embed"
	"io/fs"
)

//go:embed *.ipynb
var files embed.FS

// FS holds the shipped notebooks.
func FS() fs.FS { return files }

// Package interp runs notebook cells: Go source interpreted by yaegi, made to behave like Go of
// today, run after run, against the notebook's shared event loop.
//
// yaegi is a good interpreter with gaps that a notebook turns into user-visible bugs (the
// reference yaegi.md lists 23). A Session closes them around it:
//
//   - A cell may mix imports, declarations and statements; split cuts it into pieces and the
//     session compiles declarations as a file and statements as a block, each piece under a
//     //line directive so every position reads In[n]:line:col (cells are spaced lineBlock lines
//     apart in the interpreter's single file).
//   - Imports are de-duplicated across cells; a package used without an import is imported.
//   - yaegi binds callers to the definitions that existed when they were compiled: when a cell
//     declares a name, the funcs of other cells that use it are compiled again (replay.go).
//   - A changed type or method (which yaegi silently ignores), a method using a redefined name,
//     or an import name now meaning another package rebuilds the interpreter and replays every
//     cell's declarations, in dependency order, with a notice.
//   - Compound top-level statements (loops, ifs, switches, blocks) run inside a func literal,
//     because yaegi keeps top-level variables in its global frame; top-level defers run when
//     the cell's code ends.
//   - rewrite.go gives loops per-iteration variables, range over integers, min/max/clear, and
//     guards go statements so a goroutine's panic is reported, not fatal.
//   - Out[n] only for a trailing expression that is not a print call.
//   - Interrupt stops interpreted execution (yaegi's own stop, reached by linkname) and re-primes
//     the interpreter afterwards.
//
// Each cell runs as a task on the shared loop: co is its *loop.Co, L the loop. The kernel
// (package kernel) owns processes, ownership of output and the protocol; this package only runs
// cells.
package interp

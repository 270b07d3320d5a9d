// Command lazify turns the symbol tables yaegi extract generates into tables built on demand.
//
// yaegi extract writes one file per package whose init function fills a package-level map with
// the package's symbols: every table of the standard library is built, and kept, in every process
// that links package symbols, although a kernel needs them only to hand them to its interpreter,
// which copies them. Rewritten by this command, the init function registers a function that builds
// the table instead, so the tables a process holds are the interpreter's copy alone. The rewrite is
// textual and exact, and gofmt settles the result, so that go generate stays reproducible (CI
// regenerates the tables and fails on any difference).
//
// Usage, from a go:generate line after the extract lines: go run ../lazify DIR
package main

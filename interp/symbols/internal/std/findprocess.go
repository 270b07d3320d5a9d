package std

import "os"

// osFindProcess is the name yaegi extract gives os.FindProcess in the table it generates (its
// generator substitutes a restricted version it expects the package to define). The symbols
// package's policy removes os.FindProcess from what cells see; this only satisfies the generator.
func osFindProcess(pid int) (*os.Process, error) { return os.FindProcess(pid) }

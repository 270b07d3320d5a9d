//go:build amd64 || arm64

package gid

import "unsafe"

// getg returns the current goroutine's runtime struct (gid_*.s).
func getg() unsafe.Pointer

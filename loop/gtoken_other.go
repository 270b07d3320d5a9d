//go:build !amd64 && !arm64

package loop

// gtoken returns 0, "unknown", where no assembly reads the goroutine's descriptor: the
// goroutine checks fall back to goid (see gtoken_asm.go).
func gtoken() uintptr { return 0 }

//go:build amd64 || arm64

package loop

// gtoken returns a token of the calling goroutine: the address of its runtime descriptor. Two
// goroutines alive at the same time never have the same token, and a goroutine keeps its token
// until it ends (the runtime may reuse it for a later goroutine). It costs a couple of
// instructions, where goid, the goroutine's id, costs a stack print. 0 means "unknown" (on
// architectures without the assembly, see gtoken_other.go); callers then fall back to goid.
//
//go:noescape
func gtoken() uintptr

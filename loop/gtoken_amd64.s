#include "textflag.h"

// func gtoken() uintptr
//
// The address of the calling goroutine's runtime g, which Go's amd64 code keeps in thread-local
// storage: a word that stays the same for the goroutine's whole life, no two live goroutines
// share, and that is read in a few instructions.
TEXT ·gtoken(SB), NOSPLIT, $0-8
	MOVQ (TLS), AX
	MOVQ AX, ret+0(FP)
	RET

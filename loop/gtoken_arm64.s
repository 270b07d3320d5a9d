#include "textflag.h"

// func gtoken() uintptr
//
// The address of the calling goroutine's runtime g, which Go's arm64 code keeps in register g
// (R28): see gtoken_amd64.s.
TEXT ·gtoken(SB), NOSPLIT, $0-8
	MOVD g, R0
	MOVD R0, ret+0(FP)
	RET

#include "textflag.h"

// func rdtsc() uint64
//
// RDTSC puts the counter's low half in AX and its high half in DX. It is not serialising: a
// reading may move by a few instructions, which is nothing at the timeline's scale.
TEXT ·rdtsc(SB), NOSPLIT, $0-8
	RDTSC
	SHLQ $32, DX
	ORQ  DX, AX
	MOVQ AX, ret+0(FP)
	RET

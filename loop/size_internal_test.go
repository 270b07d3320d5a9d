package loop

import (
	"testing"
	"unsafe"
)

// TestHandleSize: a Handle is allocated by every CallSoon; keep it in the 80-byte size class.
func TestHandleSize(t *testing.T) {
	if s := unsafe.Sizeof(Handle{}); s > 80 {
		t.Errorf("Handle is %d bytes, want at most 80", s)
	}
}

// TestFutureSize: a Future is allocated by most awaits; keep it in the 144-byte size class (see
// futureExtra).
func TestFutureSize(t *testing.T) {
	if s := unsafe.Sizeof(Future{}); s > 144 {
		t.Errorf("Future is %d bytes, want at most 144", s)
	}
}

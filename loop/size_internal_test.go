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

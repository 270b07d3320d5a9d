package kernel

import (
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Two flushes of the same run must not overtake each other: while the first is sending what it
// took, output written later and flushed by another goroutine (the ticker, or a writer whose
// buffer filled) must wait for it. Found as out-of-order output in TestOutputOrder under load.
func TestRouterFlushesInOrder(t *testing.T) {
	var (
		mu      sync.Mutex
		got     []string
		sending atomic.Bool
		done    = make(chan struct{})
		r       *router
	)
	r = &router{cell: func(int) string { return "c" }, runs: map[int]*runOutput{}}
	r.send = func(m Message) {
		if sending.CompareAndSwap(false, true) {
			// The first send is slow: meanwhile more output arrives and is flushed.
			go func() {
				r.write(1, "stdout", []byte("second\n"))
				r.flush(1)
				close(done)
			}()
			select {
			case <-done: // the second flush overtook this one
			case <-time.After(200 * time.Millisecond): // it waits, as it must
			}
		}
		mu.Lock()
		got = append(got, m.Text)
		mu.Unlock()
	}
	r.write(1, "stdout", []byte("first\n"))
	r.flush(1)
	<-done
	if want := []string{"first\n", "second\n"}; !slices.Equal(got, want) {
		t.Errorf("sent %q; want %q", got, want)
	}
}

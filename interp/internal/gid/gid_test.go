package gid

import (
	"runtime"
	"sync"
	"testing"
)

// ID agrees with runtime.Stack on many goroutines, including ones deep in recursion and ones
// started long after init, and takes the fast path where the architecture has one.
func TestID(t *testing.T) {
	if (runtime.GOARCH == "amd64" || runtime.GOARCH == "arm64") && !Fast() {
		t.Errorf("no fast path on %s", runtime.GOARCH)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 200)
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var deep func(n int) (int64, int64)
			deep = func(n int) (int64, int64) {
				if n == 0 {
					return ID(), Slow()
				}
				return deep(n - 1)
			}
			if a, b := deep(i % 50); a != b {
				errs <- "mismatch"
			}
			runtime.Gosched()
		}()
	}
	wg.Wait()
	close(errs)
	if n := len(errs); n > 0 {
		t.Errorf("%d goroutines: ID differs from runtime.Stack", n)
	}
	if ID() != Slow() {
		t.Errorf("test goroutine: ID %d, runtime.Stack %d", ID(), Slow())
	}
}

func BenchmarkID(b *testing.B) {
	for i := 0; i < b.N; i++ {
		ID()
	}
}

func BenchmarkSlow(b *testing.B) {
	for i := 0; i < b.N; i++ {
		Slow()
	}
}

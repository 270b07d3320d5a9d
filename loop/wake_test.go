package loop

import (
	"sync"
	"testing"
	"time"
)

// TestWakeupsNeverLost races many CallSoonThreadSafe callers against a loop that has nothing else
// to do, on every backend. No timer is scheduled, so a lost wake-up leaves the loop asleep for
// ever; a watchdog outside the loop turns that into a failure instead of a hang.
func TestWakeupsNeverLost(t *testing.T) {
	for _, name := range Backends() {
		t.Run(name, func(t *testing.T) {
			l, err := New(Options{Poller: name})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			const goroutines, calls = 8, 2000
			ran := 0
			var wg sync.WaitGroup
			for range goroutines {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range calls {
						if _, err := l.CallSoonThreadSafe(func() {
							if ran++; ran == goroutines*calls {
								l.Stop()
							}
						}); err != nil {
							t.Errorf("call %d: %v", i, err)
							return
						}
						if i%64 == 0 {
							time.Sleep(time.Microsecond) // let the loop go back to sleep now and then
						}
					}
				}()
			}
			done := make(chan error, 1)
			go func() { done <- l.RunForever() }()
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(20 * time.Second):
				l.CallSoonThreadSafe(l.Stop) // may be lost too; the test fails either way
				t.Fatalf("the loop is still asleep with calls queued: a wake-up was lost")
			}
			wg.Wait()
		})
	}
}

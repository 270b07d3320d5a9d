package kernel

import (
	"testing"
	"time"
)

// The trimmer trims once per idle period, and never while a request runs or after a new one came.
func TestTrimmer(t *testing.T) {
	tests := []struct {
		name  string
		steps func(tr *trimmer)
		want  int
	}{
		{"idle once", func(tr *trimmer) { tr.idle() }, 1},
		{"busy again before the trim", func(tr *trimmer) { tr.idle(); tr.start() }, 0},
		{"idle twice in a row: one trim", func(tr *trimmer) { tr.idle(); tr.idle() }, 1},
		{"a short request between", func(tr *trimmer) { tr.idle(); tr.start(); tr.idle() }, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := make(chan struct{}, 8)
			tr := &trimmer{trim: func() { calls <- struct{}{} }}
			tt.steps(tr)
			for i := range tt.want {
				select {
				case <-calls:
				case <-time.After(10 * time.Second):
					t.Fatalf("%d trims, want %d", i, tt.want)
				}
			}
			time.Sleep(3 * trimAfter) // a trim that should not happen would have by now
			if extra := len(calls); extra > 0 {
				t.Errorf("%d trims, want %d", tt.want+extra, tt.want)
			}
		})
	}
}

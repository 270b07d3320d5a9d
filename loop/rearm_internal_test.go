package loop

import (
	"reflect"
	"testing"
)

// TestFutureRearm: a re-armed future equals a new one with the same Info, loop and extra room,
// field for field, so a field added to Future and not reset by rearm fails here.
func TestFutureRearm(t *testing.T) {
	l, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	f := &Future{sockWait: true, x: &futureExtra{}}
	l.initFuture(f, "sock_recv", nil)
	f.addDone(doneEntry{fn: func(*Future) {}})
	f.addDone(doneEntry{fn: func(*Future) {}})
	if err := f.SetResult(300); err != nil {
		t.Fatal(err)
	}
	if v, err := f.Result(); v != 300 || err != nil {
		t.Fatalf("Result = %v, %v", v, err)
	}
	info, x := f.Info, f.x
	f.rearm()
	want := Future{Info: info, loop: l, x: x, sockWait: true}
	if !reflect.DeepEqual(*f, want) {
		t.Errorf("re-armed future:\n %+v\nwant\n %+v", *f, want)
	}
}

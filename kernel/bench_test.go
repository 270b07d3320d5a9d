package kernel_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/loopbook/loopbook/kernel"
)

// Benchmarks of the kernel process as the parent sees it; the test binary is the kernel (see
// TestMain). bench/kernel.sh compares the same measurements with Jupyter's ipykernel.

func testKernelConfig() kernel.Config {
	return kernel.Config{Command: []string{os.Args[0]}, Env: []string{"LOOPBOOK_TEST_KERNEL=1"}}
}

// waitFor reads messages until stop returns true for one; a cell error or a dead kernel fails b.
func waitFor(b *testing.B, k *kernel.Kernel, stop func(kernel.Message) bool) {
	b.Helper()
	timeout := time.After(60 * time.Second)
	for {
		select {
		case m, ok := <-k.Messages():
			if !ok || m.State == kernel.StateDead {
				b.Fatalf("kernel died: %s", k.Cause())
			}
			if m.Type == kernel.MsgError {
				b.Fatalf("cell error: %s: %s", m.Ename, m.Evalue)
			}
			if stop(m) {
				return
			}
		case <-timeout:
			b.Fatal("no message from the kernel within 60s")
		}
	}
}

func isIdleMsg(m kernel.Message) bool {
	return m.Type == kernel.MsgStatus && m.State == kernel.StateIdle
}

func startWarm(b *testing.B) *kernel.Kernel {
	b.Helper()
	k, err := kernel.Start(testKernelConfig())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		k.Shutdown(5 * time.Second)
		for range k.Messages() {
		}
	})
	waitFor(b, k, isIdleMsg)
	return k
}

// runCell runs one cell on k and fails b unless it replies ok.
func runCell(b *testing.B, k *kernel.Kernel, cell, code string) {
	b.Helper()
	ex, err := k.Run(context.Background(), cell, code, nil)
	if err != nil || ex.Status != "ok" {
		b.Fatalf("cell %s: status %q, err %v, messages %+v", cell, ex.Status, err, ex.Messages)
	}
}

// BenchmarkKernelStart: a fresh kernel process, from starting it to the stream output of
// fmt.Println("hi") (the cell is sent once the kernel reports idle). Shutting it down is not timed.
func BenchmarkKernelStart(b *testing.B) {
	for i := 0; i < b.N; i++ {
		k, err := kernel.Start(testKernelConfig())
		if err != nil {
			b.Fatal(err)
		}
		waitFor(b, k, isIdleMsg)
		if _, err := k.Send(kernel.Request{Type: kernel.ReqExecute, Cell: "c1", Code: `fmt.Println("hi")`}); err != nil {
			b.Fatal(err)
		}
		waitFor(b, k, func(m kernel.Message) bool { return m.Type == kernel.MsgStream })
		b.StopTimer()
		k.Shutdown(5 * time.Second)
		for range k.Messages() {
		}
		b.StartTimer()
	}
}

// BenchmarkCellRoundTrip: a trivial cell on a warm kernel, from the request to its idle status
// (its output and its reply come before).
func BenchmarkCellRoundTrip(b *testing.B) {
	k := startWarm(b)
	for i := 0; i < 20; i++ {
		runCell(b, k, fmt.Sprint("w", i), `fmt.Println("hi")`)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cell := fmt.Sprint("c", i)
		id, err := k.Send(kernel.Request{Type: kernel.ReqExecute, Cell: cell, Code: `fmt.Println("hi")`})
		if err != nil {
			b.Fatal(err)
		}
		waitFor(b, k, func(m kernel.Message) bool { return isIdleMsg(m) && m.Parent == id })
	}
}

// benchCell runs one cell doing b.N hops of the workload in code (a format with one %d); the op is
// one hop. The cell's protocol round trip (well under a millisecond) is included.
func benchCell(b *testing.B, code string) {
	k := startWarm(b)
	runCell(b, k, "w", `fmt.Println("hi")`)
	b.ResetTimer()
	runCell(b, k, "bench", fmt.Sprintf(code, b.N))
}

// BenchmarkCellCallSoonChain: an interpreted callback that reschedules itself with L.CallSoon
// b.N times; the cell awaits the future the last one resolves.
func BenchmarkCellCallSoonChain(b *testing.B) {
	benchCell(b, `
done := L.CreateFuture()
left := %d
var hop func()
hop = func() {
	left--
	if left <= 0 {
		done.SetResult(nil)
		return
	}
	L.CallSoon(hop)
}
L.CallSoon(hop)
co.Await(done)
`)
}

// BenchmarkCellSleep0: co.Sleep(0) in an interpreted loop, a suspension and a resumption per hop
// (asyncio.sleep(0)).
func BenchmarkCellSleep0(b *testing.B) {
	benchCell(b, `
for i := 0; i < %d; i++ {
	co.Sleep(0)
}
`)
}

// BenchmarkCellAwaitDone: co.Await on a future already done: no suspension, the interpreted call
// into Await alone.
func BenchmarkCellAwaitDone(b *testing.B) {
	benchCell(b, `
f := L.CreateFuture()
f.SetResult(1)
for i := 0; i < %d; i++ {
	co.Await(f)
}
`)
}

// BenchmarkCellPrintln: a cell printing b.N lines with fmt.Println, from the request to its reply
// (the output capped per cell is included: the kernel still routes every line). The op is one line.
func BenchmarkCellPrintln(b *testing.B) {
	benchCell(b, `
for i := 0; i < %d; i++ {
	fmt.Println("line", i)
}
`)
}

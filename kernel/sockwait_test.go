package kernel_test

import (
	"slices"
	"testing"
)

// TestCellSockWaitsRearmed: in a kernel (debug mode, sites from the cell's lines) a task's
// socket waits re-arm its last one, as in the benchmarks' loop: a ping-pong of 20 messages in a
// cell makes 41 receive waits (the server's last one sees the client hang up) and most of them
// re-use a future, so the event stream shows few distinct ids. The rule is the loop's (see
// loop.sockWait); this checks that the kernel's settings do not turn it off.
func TestCellSockWaitsRearmed(t *testing.T) {
	k := start(t)
	const code = `check := func(err error) {
	if err != nil {
		panic(err)
	}
}
ln, err := loop.NewSocket()
check(err)
check(ln.Bind("127.0.0.1:0"))
check(ln.Listen(5))
check(ln.SetBlocking(false))
srv, _ := L.CreateTask(func(co *loop.Co) (any, error) {
	c, _, err := L.SockAccept(co, ln)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	buf := make([]byte, 64)
	for {
		k, err := L.SockRecvInto(co, c, buf)
		if err != nil || k == 0 {
			return nil, err
		}
		if err := L.SockSendAll(co, c, buf[:k]); err != nil {
			return nil, err
		}
	}
})
cl, err := loop.NewSocket()
check(err)
check(cl.SetBlocking(false))
check(L.SockConnect(co, cl, ln.LocalAddr()))
buf := make([]byte, 64)
for i := 0; i < 20; i++ {
	check(L.SockSendAll(co, cl, []byte("ping")))
	_, err := L.SockRecvInto(co, cl, buf)
	check(err)
}
cl.Close()
_, err = co.Await(srv)
check(err)
ln.Close()
evs, _, _ := L.Events(0, nil)
ids := map[uint64]bool{}
waits := 0
for _, e := range evs {
	if e.Kind == loop.EvCreate && e.Info != nil && e.Info.Name == "sock_recv" {
		ids[e.ID] = true
		waits++
	}
}
fmt.Println("waits:", waits, "re-armed most:", waits-len(ids) >= waits/2)`
	got := execute(t, k, "s", code)
	want := `stream s[1] stdout "waits: 41 re-armed most: true\n"`
	if !slices.Contains(got, want) {
		t.Errorf("cell output:\n%q\nwant a line %q", got, want)
	}
}

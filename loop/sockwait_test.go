package loop_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/loopbook/loopbook/loop"
)

// swRecv receives one byte on server that client sends only after the task has suspended, so
// the receive always waits; it returns what it read. With alt, it receives from another line of
// code (another creation site in debug mode).
func swRecv(co *loop.Co, l *loop.Loop, client, server *loop.Socket, b byte, alt bool) (string, error) {
	if _, err := l.CallSoon(func() { client.Send([]byte{b}) }); err != nil {
		return "", err
	}
	buf := make([]byte, 1)
	var n int
	var err error
	if alt {
		n, err = l.SockRecvInto(co, server, buf)
	} else {
		n, err = l.SockRecvInto(co, server, buf)
	}
	return string(buf[:n]), err
}

// swCreated returns the ids of the futures named name that the loop created, in order.
func swCreated(l *loop.Loop, name string) []uint64 {
	evs, _, _ := l.Events(0, nil)
	var ids []uint64
	for _, e := range evs {
		if e.Kind == loop.EvCreate && e.Info != nil && e.Info.Name == name {
			ids = append(ids, e.ID)
		}
	}
	return ids
}

// TestSockWaitRearm: a task's next Sock* wait re-arms its last one (see sockWait) only when
// nothing could tell the difference but the id: the same operation, owner and site, a wait
// that succeeded, and a future nobody outside the loop was given. Each case waits twice in one
// task, doing something in between or during the first wait, and checks whether the two
// waits' futures share an id.
func TestSockWaitRearm(t *testing.T) {
	siteA, siteB := &loop.Site{File: "In[1]", Line: 3}, &loop.Site{File: "In[1]", Line: 4}
	cases := []struct {
		name string
		// hook: a site hook reports *site. setup runs before the task; during runs from a
		// callback while the first wait is pending; between runs in the task after the first
		// wait.
		hook    bool
		setup   func(l *loop.Loop)
		during  func(task *loop.Task)
		between func(site **loop.Site)
		// other: the second wait is on another connection (after a cancelled wait, the first
		// connection has data: a receive there would not wait).
		other bool
		// cancelled: the first wait is cancelled (and the task goes on).
		cancelled bool
		// altLine: the second wait is made from another line of code.
		altLine bool
		same    bool
	}{
		{name: "next wait", same: true},
		{name: "next wait on another socket", other: true, same: true},
		{name: "same site", hook: true, same: true},
		{name: "same site, another *Site", hook: true, between: func(site **loop.Site) {
			*site = &loop.Site{File: siteA.File, Line: siteA.Line}
		}, same: true},
		{name: "another site", hook: true, between: func(site **loop.Site) { *site = siteB }},
		{name: "debug mode, same line", setup: func(l *loop.Loop) { l.SetDebug(true) }, same: true},
		{name: "debug mode, another line", setup: func(l *loop.Loop) { l.SetDebug(true) }, altLine: true},
		{name: "another line, sites not recorded", altLine: true, same: true},
		{name: "future handed out by Waiter", during: func(task *loop.Task) {
			if task.Waiter() == nil {
				panic("the task awaits nothing")
			}
		}},
		{name: "cancelled wait", during: func(task *loop.Task) { task.Cancel() }, cancelled: true, other: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := skLoop(t, "")
			client, server := skPair(t)
			client2, server2 := skPair(t)
			skNonBlocking(t, server, server2)
			site := siteA
			if tc.hook {
				l.SetSiteHook(func() *loop.Site { return site })
			}
			if tc.setup != nil {
				tc.setup(l)
			}
			var got []string
			_, err := skRun(t, l, func(co *loop.Co) (any, error) {
				if tc.during != nil {
					task := co.Task()
					l.CallSoon(func() { tc.during(task) })
				}
				s, err := swRecv(co, l, client, server, 'a', false)
				var ce *loop.CancelledError
				if tc.cancelled && errors.As(err, &ce) {
					s, err = "cancelled", nil
				}
				if err != nil {
					return nil, err
				}
				got = append(got, s)
				if tc.between != nil {
					tc.between(&site)
				}
				c, sv := client, server
				if tc.other {
					c, sv = client2, server2
				}
				s, err = swRecv(co, l, c, sv, 'b', tc.altLine)
				got = append(got, s)
				return nil, err
			})
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			want := []string{"a", "b"}
			if tc.cancelled {
				want[0] = "cancelled"
			}
			if !slices.Equal(got, want) {
				t.Errorf("received %q, want %q", got, want)
			}
			ids := swCreated(l, "sock_recv")
			if len(ids) != 2 {
				t.Fatalf("sock_recv futures created: %v, want 2", ids)
			}
			if same := ids[0] == ids[1]; same != tc.same {
				t.Errorf("future ids %v: shared = %v, want %v", ids, same, tc.same)
			}
		})
	}
}

// TestSockWaitRearmSkipsQueuedReader: the poll just before a wait's done callback runs may queue
// the wait's reader again (the fd is still watched and still readable). A re-armed wait uses
// its other reader, so that queued run stays cancelled: every run of a reader follows a poll
// that found its fd ready since the reader was last added. Here the peer sends "ab" and the task
// reads one byte at a time: the first read waits, the second is the try-first read of the
// remaining "b" in the batch where the reader was queued again, and the third waits.
func TestSockWaitRearmSkipsQueuedReader(t *testing.T) {
	l := skLoop(t, "")
	client, server := skPair(t)
	skNonBlocking(t, server)
	var got []byte
	_, err := skRun(t, l, func(co *loop.Co) (any, error) {
		l.CallSoon(func() { client.Send([]byte("ab")) })
		buf := make([]byte, 1)
		for i := range 3 {
			if i == 2 {
				l.CallSoon(func() { client.Send([]byte("c")) })
			}
			n, err := l.SockRecvInto(co, server, buf)
			if err != nil {
				return nil, err
			}
			got = append(got, buf[:n]...)
		}
		return nil, nil
	})
	if err != nil || string(got) != "abc" {
		t.Fatalf("received %q, %v; want \"abc\"", got, err)
	}
	evs, _, _ := l.Events(0, nil)
	readers := map[uint64]bool{} // reader id -> ready since it was last added
	var queuedAgain bool
	var log []string
	for _, e := range evs {
		switch {
		case e.Kind == loop.EvWatch && e.Info != nil && e.Info.Name == "sock_recv":
			readers[e.ID] = false
			log = append(log, fmt.Sprintf("watch %d", e.ID))
		case e.Kind == loop.EvUnwatch:
			if _, ok := readers[e.ID]; ok {
				log = append(log, fmt.Sprintf("unwatch %d", e.ID))
			}
		case e.Kind == loop.EvFdReady:
			if ready, ok := readers[e.ID]; ok {
				queuedAgain = queuedAgain || ready
				readers[e.ID] = true
				log = append(log, fmt.Sprintf("ready %d", e.ID))
			}
		case e.Kind == loop.EvRun:
			if ready, ok := readers[e.ID]; ok {
				log = append(log, fmt.Sprintf("run %d", e.ID))
				if !ready {
					t.Errorf("reader %d ran with no poll finding its fd ready since it was added", e.ID)
				}
			}
		}
	}
	if !queuedAgain {
		t.Errorf("no reader was queued again by the poll before its done callback: the case this test is about did not happen")
	}
	if len(readers) != 2 {
		t.Errorf("readers %v: want the two of one re-armed wait", readers)
	}
	if t.Failed() {
		t.Logf("reader events: %q", log)
	}
}

// TestSockWaitRearmWhileRead: re-arming a wait leaves its Infos untouched, so a goroutine that
// reads the event stream meanwhile, and with it the Infos of earlier waits, reads memory the
// loop does not write (the race detector checks this under -race, as CI runs the package).
func TestSockWaitRearmWhileRead(t *testing.T) {
	l := skLoop(t, "")
	client, server := skPair(t)
	skNonBlocking(t, server)
	stop := make(chan struct{})
	done := make(chan int)
	go func() {
		var cursor uint64
		var buf []loop.Event
		seen := 0
		for {
			var evs []loop.Event
			evs, cursor, _ = l.Events(cursor, buf[:0])
			for _, e := range evs {
				if e.Info != nil && e.Info.ID != 0 && e.Info.Label() != "" {
					seen++
				}
			}
			buf = evs
			select {
			case <-stop:
				done <- seen
				return
			default:
			}
		}
	}()
	const waits = 2000
	_, err := skRun(t, l, func(co *loop.Co) (any, error) {
		for range waits {
			if _, err := swRecv(co, l, client, server, 'x', false); err != nil {
				return nil, err
			}
		}
		return nil, nil
	})
	close(stop)
	seen := <-done
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if ids := swCreated(l, "sock_recv"); len(ids) < 2 || ids[0] != ids[len(ids)-1] {
		t.Errorf("sock_recv futures %v…: want the waits re-armed", ids[:min(len(ids), 5)])
	}
	t.Logf("the reader saw %d events with an Info", seen)
}

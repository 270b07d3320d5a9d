package loop

import (
	"errors"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The contract suite: every test here runs once per backend available on the machine, on real
// loopback sockets, through the package-internal poller interface.

// closedFdReported says, per backend, whether wait reports an fd that was closed while registered
// (until set(fd, x, 0) removes it). epoll and kqueue drop the registration with the last close;
// poll keeps its own table and the kernel answers POLLNVAL, which the backend reports as ready in
// both directions. A backend missing here fails the test until its behaviour is written down.
var closedFdReported = map[string]bool{"epoll": false, "kqueue": false, "poll": true}

// waitGuard bounds every wait that could block: a backend that never returns fails the test
// instead of hanging it.
const waitGuard = 5 * time.Second

func TestPollerBackends(t *testing.T) {
	names := Backends()
	if len(names) == 0 {
		t.Fatal("no poller backend on this platform")
	}
	var want []string
	switch runtime.GOOS {
	case "linux":
		want = []string{"epoll", "poll"}
	case "darwin", "ios", "freebsd", "netbsd", "openbsd", "dragonfly":
		want = []string{"kqueue", "poll"}
	}
	if want != nil && !slices.Equal(names, want) {
		t.Errorf("Backends() = %v, want %v (native first, poll last)", names, want)
	}
	if names[len(names)-1] != "poll" {
		t.Errorf("Backends() = %v: poll must rank last", names)
	}
	p, err := newPoller("")
	if err != nil {
		t.Fatalf(`newPoller(""): %v`, err)
	}
	if p.name() != names[0] {
		t.Errorf(`newPoller("") opened %q, want the best backend %q`, p.name(), names[0])
	}
	p.close()
	var unknown *unknownBackendError
	if _, err := newPoller("no-such-backend"); !errors.As(err, &unknown) {
		t.Errorf("newPoller(unknown) error = %v, want *unknownBackendError", err)
	}
}

// pollerT drives one poller in a test and remembers the interest it registered, so that every
// wait can check that only registered fds come back (wakeup fds never do).
type pollerT struct {
	t        *testing.T
	p        poller
	interest map[int]uint8
}

// forEachPoller runs fn as one subtest per available backend, on a freshly opened poller.
func forEachPoller(t *testing.T, fn func(pt *pollerT)) {
	t.Helper()
	for _, name := range Backends() {
		t.Run(name, func(t *testing.T) {
			p, err := newPoller(name)
			if err != nil {
				t.Fatalf("newPoller(%q): %v", name, err)
			}
			if p.name() != name {
				t.Fatalf("newPoller(%q) opened %q", name, p.name())
			}
			t.Cleanup(func() {
				if err := p.close(); err != nil {
					t.Errorf("close: %v", err)
				}
			})
			fn(&pollerT{t: t, p: p, interest: map[int]uint8{}})
		})
	}
}

func (pt *pollerT) name() string { return pt.p.name() }

// set moves fd to the interest new, passing the interest it had as old, as the loop does.
func (pt *pollerT) set(fd int, new uint8) {
	pt.t.Helper()
	if err := pt.p.set(fd, pt.interest[fd], new); err != nil {
		pt.t.Fatalf("set(%d, %s, %s): %v", fd, pollDirs(pt.interest[fd]), pollDirs(new), err)
	}
	if new == 0 {
		delete(pt.interest, fd)
	} else {
		pt.interest[fd] = new
	}
}

// waitN calls wait with room for room events and returns the readiness per fd (an fd may come back
// once per direction, so directions are merged). It fails the test on an error, on an fd that is
// not registered, and on a wait still blocked after waitGuard.
func (pt *pollerT) waitN(room int, timeout time.Duration) map[int]uint8 {
	pt.t.Helper()
	type result struct {
		evs []pollEvent
		err error
	}
	done := make(chan result, 1)
	go func() {
		evs := make([]pollEvent, room)
		n, err := pt.p.wait(evs, timeout)
		if n < 0 || n > room {
			err = errors.New("wait returned " + strconv.Itoa(n) + " events with room for " + strconv.Itoa(room))
			n = 0
		}
		done <- result{evs[:n], err}
	}()
	var r result
	select {
	case r = <-done:
	case <-time.After(waitGuard + max(timeout, 0)):
		pt.t.Fatalf("wait(%v) still blocked after %v", timeout, waitGuard)
	}
	if r.err != nil {
		pt.t.Fatalf("wait(%v): %v", timeout, r.err)
	}
	got := map[int]uint8{}
	for _, ev := range r.evs {
		if _, ok := pt.interest[ev.fd]; !ok {
			pt.t.Errorf("wait reported fd %d, which is not registered (registered: %v)", ev.fd, pt.interest)
		}
		if ev.events == 0 || ev.events&^(pollRead|pollWrite) != 0 {
			pt.t.Errorf("wait reported fd %d with events %#x", ev.fd, ev.events)
		}
		got[ev.fd] |= ev.events
	}
	return got
}

// noPendingWake checks that no wakeup is left over, i.e. that a wait(-1) blocks. The probe gets
// 30ms; a signal can end a wait early too (EINTR returns 0, like a wakeup), so only three early
// returns in a row fail the test. The probe is then woken, which also checks that the wakeup
// flag was re-armed. Call it only while no registered fd is ready.
func (pt *pollerT) noPendingWake() {
	pt.t.Helper()
	for range 3 {
		done := make(chan error, 1)
		go func() {
			_, err := pt.p.wait(make([]pollEvent, 8), -1)
			done <- err
		}()
		select {
		case err := <-done:
			if err != nil {
				pt.t.Fatalf("wait(-1): %v", err)
			}
			continue // a pending wakeup, or a signal: try again
		case <-time.After(30 * time.Millisecond):
		}
		if err := pt.p.wakeup(); err != nil {
			pt.t.Fatalf("wakeup: %v", err)
		}
		select {
		case err := <-done:
			if err != nil {
				pt.t.Fatalf("wait(-1): %v", err)
			}
		case <-time.After(waitGuard):
			pt.t.Fatalf("wait(-1) still blocked %v after a wakeup", waitGuard)
		}
		return
	}
	pt.t.Errorf("wait(-1) returned at once three times in a row: a wakeup was left pending")
}

func (pt *pollerT) wait(timeout time.Duration) map[int]uint8 {
	pt.t.Helper()
	return pt.waitN(128, timeout)
}

// want checks the readiness of fd in got: exactly want, or absent when want is 0.
func (pt *pollerT) want(got map[int]uint8, fd int, want uint8, what string) {
	pt.t.Helper()
	if got[fd] != want {
		pt.t.Errorf("%s: fd %d ready for %s, want %s", what, fd, pollDirs(got[fd]), pollDirs(want))
	}
}

func pollDirs(bits uint8) string {
	switch bits {
	case 0:
		return "nothing"
	case pollRead:
		return "read"
	case pollWrite:
		return "write"
	case pollRead | pollWrite:
		return "read|write"
	}
	return "0x" + strconv.FormatUint(uint64(bits), 16)
}

// testFD is a descriptor a test owns; close is idempotent so that cleanup never closes a number
// the test already closed (and something else may have reused).
type testFD struct {
	t      *testing.T
	fd     int
	closed bool
}

func (f *testFD) close() {
	if f.closed {
		return
	}
	f.closed = true
	if err := unix.Close(f.fd); err != nil {
		f.t.Errorf("close(%d): %v", f.fd, err)
	}
}

func (f *testFD) write(s string) {
	f.t.Helper()
	if n, err := unix.Write(f.fd, []byte(s)); err != nil || n != len(s) {
		f.t.Fatalf("write(%d): %d, %v", f.fd, n, err)
	}
}

// read reads what is there (the fd is non-blocking) and returns it; n == 0 means EOF.
func (f *testFD) read() (string, int) {
	f.t.Helper()
	buf := make([]byte, 4096)
	n, err := unix.Read(f.fd, buf)
	if err != nil {
		f.t.Fatalf("read(%d): %v", f.fd, err)
	}
	return string(buf[:n]), n
}

func ownTestFD(t *testing.T, fd int) *testFD {
	t.Helper()
	if err := unix.SetNonblock(fd, true); err != nil {
		t.Fatalf("set non-blocking: %v", err)
	}
	f := &testFD{t: t, fd: fd}
	t.Cleanup(f.close)
	return f
}

// testSocketKinds are the real socket pairs the table-driven tests run on.
var testSocketKinds = []struct {
	name string
	pair func(t *testing.T) (a, b *testFD)
}{
	{"unix", testUnixPair},
	{"tcp", testTCPPair},
}

// testUnixPair returns the two ends of a connected AF_UNIX stream socketpair, non-blocking. Neither
// fd is duplicated anywhere, so closing one really closes the socket.
func testUnixPair(t *testing.T) (a, b *testFD) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatalf("socketpair: %v", err)
	}
	unix.CloseOnExec(fds[0])
	unix.CloseOnExec(fds[1])
	return ownTestFD(t, fds[0]), ownTestFD(t, fds[1])
}

// testTCPPair returns the accepted and the connecting end of a TCP connection on 127.0.0.1,
// made with raw system calls so that no Go runtime poller or dup holds on to them.
func testTCPPair(t *testing.T) (a, b *testFD) {
	t.Helper()
	socket := func() int {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)
		if err != nil {
			t.Fatalf("socket: %v", err)
		}
		unix.CloseOnExec(fd)
		return fd
	}
	ln := socket()
	defer unix.Close(ln)
	if err := unix.Bind(ln, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatalf("bind: %v", err)
	}
	if err := unix.Listen(ln, 1); err != nil {
		t.Fatalf("listen: %v", err)
	}
	sa, err := unix.Getsockname(ln)
	if err != nil {
		t.Fatalf("getsockname: %v", err)
	}
	c := socket()
	cf := &testFD{t: t, fd: c}
	t.Cleanup(cf.close)
	// A blocking connect to a listening loopback socket completes at once. EINTR (a runtime
	// signal) leaves the connection under way, and accept below waits for it.
	if err := unix.Connect(c, sa); err != nil && err != unix.EINTR {
		t.Fatalf("connect: %v", err)
	}
	var s int
	for {
		s, _, err = unix.Accept(ln)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		t.Fatalf("accept: %v", err)
	}
	unix.CloseOnExec(s)
	unix.SetsockoptInt(s, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	unix.SetsockoptInt(c, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	if err := unix.SetNonblock(c, true); err != nil {
		t.Fatalf("set non-blocking: %v", err)
	}
	return ownTestFD(t, s), cf
}

func TestPollerReadableLevelTriggered(t *testing.T) {
	forEachPoller(t, func(pt *pollerT) {
		for _, kind := range testSocketKinds {
			pt.t.Run(kind.name, func(t *testing.T) {
				pt := &pollerT{t: t, p: pt.p, interest: pt.interest}
				a, b := kind.pair(t)
				pt.set(a.fd, pollRead)
				defer pt.set(a.fd, 0)
				pt.want(pt.wait(0), a.fd, 0, "before the peer writes")

				b.write("ping")
				pt.want(pt.wait(waitGuard), a.fd, pollRead, "after the peer wrote")
				// Level-triggered: nothing was read, so every wait reports it again.
				for i := range 3 {
					pt.want(pt.wait(0), a.fd, pollRead, "data still unread, wait "+strconv.Itoa(i+2))
				}
				if s, _ := a.read(); s != "ping" {
					t.Fatalf("read %q, want ping", s)
				}
				pt.want(pt.wait(0), a.fd, 0, "after reading everything")
			})
		}
	})
}

func TestPollerWritable(t *testing.T) {
	forEachPoller(t, func(pt *pollerT) {
		for _, kind := range testSocketKinds {
			pt.t.Run(kind.name, func(t *testing.T) {
				pt := &pollerT{t: t, p: pt.p, interest: pt.interest}
				a, _ := kind.pair(t)
				pt.set(a.fd, pollWrite)
				defer pt.set(a.fd, 0)
				// A fresh connected socket has room to write; with no data and no hang-up it is
				// not readable, whatever the backend.
				pt.want(pt.wait(waitGuard), a.fd, pollWrite, "fresh socket")
				pt.want(pt.wait(0), a.fd, pollWrite, "fresh socket, again")
			})
		}
	})
}

func TestPollerInterestChanges(t *testing.T) {
	// Data waits unread on a throughout, so it is both readable and writable; what comes back must
	// follow the interest exactly.
	steps := []struct {
		interest uint8
		want     uint8
	}{
		{pollRead, pollRead},
		{pollWrite, pollWrite},
		{pollRead | pollWrite, pollRead | pollWrite},
		{pollRead, pollRead},
		{pollRead | pollWrite, pollRead | pollWrite},
		{pollWrite, pollWrite},
		{0, 0},
		{pollWrite, pollWrite},
		{0, 0},
	}
	forEachPoller(t, func(pt *pollerT) {
		for _, kind := range testSocketKinds {
			pt.t.Run(kind.name, func(t *testing.T) {
				pt := &pollerT{t: t, p: pt.p, interest: pt.interest}
				a, b := kind.pair(t)
				b.write("data")
				for i, st := range steps {
					from := pt.interest[a.fd]
					pt.set(a.fd, st.interest)
					timeout := time.Duration(0)
					if i == 0 {
						timeout = waitGuard // the first time, let the data arrive
					}
					pt.want(pt.wait(timeout), a.fd, st.want, "interest "+pollDirs(from)+" → "+pollDirs(st.interest))
				}
			})
		}
	})
}

func TestPollerPeerCloses(t *testing.T) {
	forEachPoller(t, func(pt *pollerT) {
		for _, kind := range testSocketKinds {
			pt.t.Run(kind.name, func(t *testing.T) {
				pt := &pollerT{t: t, p: pt.p, interest: pt.interest}
				a, b := kind.pair(t)
				pt.set(a.fd, pollRead)
				defer pt.set(a.fd, 0)
				b.close()
				// Readable, so that the reader meets the EOF. A hang-up may also be reported as
				// writable (epoll, poll); the loop masks that by interest.
				for i := range 2 {
					if got := pt.wait(waitGuard); got[a.fd]&pollRead == 0 {
						t.Errorf("wait %d after the peer closed: fd %d ready for %s, want read", i+1, a.fd, pollDirs(got[a.fd]))
					}
				}
				if _, n := a.read(); n != 0 {
					t.Errorf("read after the peer closed returned %d bytes, want EOF", n)
				}
				// The EOF stays: level-triggered, it is reported until the fd is deregistered.
				if got := pt.wait(0); got[a.fd]&pollRead == 0 {
					t.Errorf("after reading EOF: fd %d ready for %s, want read", a.fd, pollDirs(got[a.fd]))
				}
			})
		}
	})
}

func TestPollerStalledPeer(t *testing.T) {
	forEachPoller(t, func(pt *pollerT) {
		a, _ := testTCPPair(pt.t) // the peer end stays open and silent
		pt.set(a.fd, pollRead)
		defer pt.set(a.fd, 0)
		// Only "nothing happened" is asserted: how long wait took is the scheduler's business.
		if got := pt.wait(20 * time.Millisecond); len(got) != 0 {
			pt.t.Errorf("wait(20ms) on a stalled peer reported %v, want no events", got)
		}
	})
}

func TestPollerRegisterBadFD(t *testing.T) {
	forEachPoller(t, func(pt *pollerT) {
		a, _ := testUnixPair(pt.t)
		fd := a.fd
		a.close()
		for _, interest := range []uint8{pollRead, pollWrite, pollRead | pollWrite} {
			if err := pt.p.set(fd, 0, interest); err == nil {
				pt.t.Errorf("set(%d, 0, %s) on a closed fd succeeded, want an error", fd, pollDirs(interest))
				pt.p.set(fd, interest, 0)
			}
		}
		if err := pt.p.set(-1, 0, pollRead); err == nil {
			pt.t.Errorf("set(-1, 0, read) succeeded, want an error")
		}
		if got := pt.wait(0); len(got) != 0 {
			pt.t.Errorf("wait after failed registrations reported %v", got)
		}
	})
}

func TestPollerClosedWhileRegistered(t *testing.T) {
	forEachPoller(t, func(pt *pollerT) {
		reported, known := closedFdReported[pt.name()]
		if !known {
			pt.t.Fatalf("backend %q: document what it does with an fd closed while registered in closedFdReported", pt.name())
		}
		for _, interest := range []uint8{pollRead, pollWrite, pollRead | pollWrite} {
			pt.t.Run(pollDirs(interest), func(t *testing.T) {
				pt := &pollerT{t: t, p: pt.p, interest: pt.interest}
				a, b := testUnixPair(t)
				pt.set(a.fd, interest)
				b.write("pending") // ready in every direction when it is closed
				pt.want(pt.wait(waitGuard), a.fd, interest, "before close")
				a.close()
				// No error, and no bogus event, except where the backend documents one.
				for i := range 2 {
					want := uint8(0)
					if reported {
						want = pollRead | pollWrite
					}
					pt.want(pt.wait(0), a.fd, want, "closed while registered, wait "+strconv.Itoa(i+1))
				}
				// Deregistering a closed fd succeeds, and it is never reported again.
				pt.set(a.fd, 0)
				pt.want(pt.wait(0), a.fd, 0, "closed, then deregistered")
				pt.want(pt.wait(0), a.fd, 0, "closed, then deregistered, again")
			})
		}
	})
}

// moveTestFD gives the socket of a the number fd, which must be free, and returns it under that
// number. fcntl(F_DUPFD) returns the lowest free number not below its argument; closing the
// original afterwards leaves the socket with exactly one descriptor again.
func moveTestFD(t *testing.T, a *testFD, fd int) *testFD {
	t.Helper()
	n, err := unix.FcntlInt(uintptr(a.fd), unix.F_DUPFD, fd)
	if err != nil {
		t.Fatalf("fcntl(F_DUPFD): %v", err)
	}
	if n != fd {
		unix.Close(n)
		t.Skipf("fd %d was taken by something else before the test could reuse it", fd)
	}
	unix.CloseOnExec(n)
	a.close()
	moved := &testFD{t: t, fd: n}
	t.Cleanup(moved.close)
	return moved
}

func TestPollerReusedFD(t *testing.T) {
	// Both orders the loop can produce: RemoveReader before the number is reused, and after.
	cases := []struct {
		name            string
		deregisterFirst bool
	}{
		{"deregister-then-reuse", true},
		{"reuse-then-deregister", false},
	}
	forEachPoller(t, func(pt *pollerT) {
		for _, tc := range cases {
			pt.t.Run(tc.name, func(t *testing.T) {
				pt := &pollerT{t: t, p: pt.p, interest: pt.interest}
				old, _ := testUnixPair(t)
				fresh, b := testUnixPair(t) // made first, so that it cannot take old's number itself
				fd := old.fd
				pt.set(fd, pollRead)
				old.close()
				if tc.deregisterFirst {
					pt.set(fd, 0)
				}
				a := moveTestFD(t, fresh, fd) // a new socket under the old number
				if !tc.deregisterFirst {
					pt.set(fd, 0)
				}
				pt.want(pt.wait(0), fd, 0, "reused, not yet registered")

				pt.set(fd, pollRead)
				defer pt.set(fd, 0)
				pt.want(pt.wait(0), fd, 0, "reused and registered, nothing written")
				b.write("new")
				pt.want(pt.wait(waitGuard), fd, pollRead, "reused fd, peer wrote")
				pt.want(pt.wait(0), fd, pollRead, "reused fd, still unread")
				if s, _ := a.read(); s != "new" {
					t.Fatalf("read %q from the reused fd, want new", s)
				}
				pt.want(pt.wait(0), fd, 0, "reused fd, drained")
			})
		}
	})
}

func TestPollerManyFDs(t *testing.T) {
	// Enough fds to exercise the poll backend's table (removal from the middle moves the last
	// entry) and a result buffer shorter than the ready set.
	const n = 16
	forEachPoller(t, func(pt *pollerT) {
		var as []*testFD // the peers stay open until cleanup
		for range n {
			a, b := testUnixPair(pt.t)
			as = append(as, a)
			pt.set(a.fd, pollRead)
			b.write("x")
		}
		got := pt.wait(waitGuard)
		for len(got) < n { // the data may still be on its way to some of them
			more := pt.wait(waitGuard)
			for fd, ev := range more {
				got[fd] |= ev
			}
		}
		for _, a := range as {
			pt.want(got, a.fd, pollRead, "all registered")
		}

		for i, a := range as {
			if i%2 == 0 {
				pt.set(a.fd, 0)
			}
		}
		got = pt.wait(0)
		for i, a := range as {
			pt.want(got, a.fd, uint8(i%2)*pollRead, "every other one removed")
		}

		for i, a := range as {
			if i%2 == 0 {
				pt.set(a.fd, pollWrite)
			}
		}
		got = pt.wait(0)
		for i, a := range as {
			want := uint8(pollWrite)
			if i%2 == 1 {
				want = pollRead
			}
			pt.want(got, a.fd, want, "removed ones back, for writing")
		}

		// With room for 3 events per wait, level-triggered readiness must still reach every fd
		// within a few rounds: no backend may keep reporting the same few.
		seen := map[int]bool{}
		for round := 0; round < 4*n && len(seen) < n; round++ {
			evs := pt.waitN(3, 0)
			if len(evs) > 3 {
				pt.t.Fatalf("wait with room for 3 events reported %d fds", len(evs))
			}
			for fd := range evs {
				seen[fd] = true
			}
		}
		if len(seen) != n {
			pt.t.Errorf("with a short buffer, only %d of %d ready fds were ever reported", len(seen), n)
		}

		for _, a := range as {
			pt.set(a.fd, 0)
		}
		if got := pt.wait(0); len(got) != 0 {
			pt.t.Errorf("after deregistering everything: %v", got)
		}
	})
}

func TestPollerWakeup(t *testing.T) {
	forEachPoller(t, func(pt *pollerT) {
		t := pt.t
		t.Run("before-wait", func(t *testing.T) {
			pt := &pollerT{t: t, p: pt.p, interest: pt.interest}
			if err := pt.p.wakeup(); err != nil {
				t.Fatalf("wakeup: %v", err)
			}
			if got := pt.wait(-1); len(got) != 0 {
				t.Errorf("wait after a wakeup reported %v, want nothing", got)
			}
			if got := pt.wait(0); len(got) != 0 {
				t.Errorf("second wait reported %v", got)
			}
			pt.noPendingWake()
		})

		t.Run("unblocks-infinite-wait", func(t *testing.T) {
			pt := &pollerT{t: t, p: pt.p, interest: pt.interest}
			go func() {
				time.Sleep(10 * time.Millisecond) // most likely lands while wait is blocked
				if err := pt.p.wakeup(); err != nil {
					t.Errorf("wakeup: %v", err)
				}
			}()
			if got := pt.wait(-1); len(got) != 0 { // fails after waitGuard if the wakeup is lost
				t.Errorf("woken wait reported %v, want nothing", got)
			}
			pt.noPendingWake()
		})

		t.Run("coalesced-and-consumed", func(t *testing.T) {
			pt := &pollerT{t: t, p: pt.p, interest: pt.interest}
			var wg sync.WaitGroup
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range 100 {
						if err := pt.p.wakeup(); err != nil {
							t.Errorf("wakeup: %v", err)
							return
						}
					}
				}()
			}
			wg.Wait()
			if got := pt.wait(-1); len(got) != 0 {
				t.Errorf("wait after 800 wakeups reported %v", got)
			}
			// One wait consumed all 800: nothing is pending any more, and the next wakeup, into
			// a blocked wait this time, still works.
			if got := pt.wait(0); len(got) != 0 {
				t.Errorf("wait(0) after the wakeups were consumed reported %v", got)
			}
			pt.noPendingWake()
		})

		t.Run("never-an-event", func(t *testing.T) {
			pt := &pollerT{t: t, p: pt.p, interest: pt.interest}
			a, _ := testUnixPair(t)
			pt.set(a.fd, pollWrite)
			defer pt.set(a.fd, 0)
			for range 3 {
				if err := pt.p.wakeup(); err != nil {
					t.Fatalf("wakeup: %v", err)
				}
				// waitN already fails on any fd that is not registered, such as a wake fd.
				got := pt.wait(-1)
				pt.want(got, a.fd, pollWrite, "writable fd next to a wakeup")
				if len(got) != 1 {
					t.Errorf("wait reported %v, want only fd %d", got, a.fd)
				}
			}
		})
	})
}

// listOpenFDs lists the process's open descriptors: /proc/self/fd on Linux; elsewhere it asks each
// number up to a bound with fcntl(F_GETFD), which needs no file system.
func listOpenFDs(t *testing.T) map[int]bool {
	t.Helper()
	fds := map[int]bool{}
	if runtime.GOOS == "linux" {
		ents, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Fatalf("read /proc/self/fd: %v", err)
		}
		for _, e := range ents {
			if n, err := strconv.Atoi(e.Name()); err == nil {
				fds[n] = true
			}
		}
		return fds
	}
	for fd := range 4096 {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == nil {
			fds[fd] = true
		}
	}
	return fds
}

func TestPollerCloseReleasesFDs(t *testing.T) {
	for _, name := range Backends() {
		t.Run(name, func(t *testing.T) {
			a, _ := testUnixPair(t)
			listOpenFDs(t) // the first listing may open descriptors of the runtime's own; not ours
			before := listOpenFDs(t)
			p, err := newPoller(name)
			if err != nil {
				t.Fatalf("newPoller(%q): %v", name, err)
			}
			// Use it, so that nothing it opens lazily escapes the count.
			if err := p.set(a.fd, 0, pollRead); err != nil {
				t.Fatalf("set: %v", err)
			}
			p.wakeup()
			if _, err := p.wait(make([]pollEvent, 8), 0); err != nil {
				t.Fatalf("wait: %v", err)
			}
			if err := p.set(a.fd, pollRead, 0); err != nil {
				t.Fatalf("set: %v", err)
			}
			during := listOpenFDs(t)
			var opened []int
			for fd := range during {
				if !before[fd] {
					opened = append(opened, fd)
				}
			}
			if len(opened) == 0 {
				t.Errorf("the %s poller seems to hold no descriptor at all", name)
			}
			if err := p.close(); err != nil {
				t.Fatalf("close: %v", err)
			}
			after := listOpenFDs(t)
			for _, fd := range opened {
				if after[fd] {
					t.Errorf("fd %d, opened by the %s poller, is still open after close", fd, name)
				}
			}
		})
	}
}

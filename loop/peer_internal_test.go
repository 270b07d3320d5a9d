package loop

import (
	"net"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

// TestPeerInProcess: the ports a process's Sockets hold are counted while they are open, and a
// connection tells whether its peer is one of them.
func TestPeerInProcess(t *testing.T) {
	held := func(port int) int {
		localPorts.Lock()
		defer localPorts.Unlock()
		return localPorts.count[port]
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	ln, err := NewSocket()
	must(err)
	defer ln.Close()
	must(ln.Bind("127.0.0.1:0"))
	must(ln.Listen(8))
	if ln.port == 0 || held(ln.port) != 1 {
		t.Fatalf("listener port %d held %d times, want once", ln.port, held(ln.port))
	}
	lport := ln.port

	client, err := NewSocket()
	must(err)
	must(client.Connect(ln.LocalAddr()))
	server, _, err := ln.Accept()
	must(err)
	if held(lport) != 2 || client.port == 0 || held(client.port) != 1 {
		t.Errorf("after accept: listener port held %d times (want 2), client port %d held %d times (want 1)",
			held(lport), client.port, held(client.port))
	}
	if !client.peerInProcess() || !server.peerInProcess() {
		t.Errorf("a connection within the process: peerInProcess = %v (client), %v (server); want true, true",
			client.peerInProcess(), server.peerInProcess())
	}

	conn, err := net.Dial("tcp", ln.LocalAddr())
	must(err)
	defer conn.Close()
	other, _, err := ln.Accept()
	must(err)
	if other.peerInProcess() {
		t.Errorf("a connection from package net: peerInProcess = true, want false")
	}

	cport := client.port
	for _, s := range []*Socket{client, server, other} {
		must(s.Close())
	}
	if held(lport) != 1 || held(cport) != 0 {
		t.Errorf("after closing: listener port held %d times (want 1), client port %d times (want 0)", held(lport), held(cport))
	}
	must(ln.Close())
	if held(lport) != 0 {
		t.Errorf("after closing the listener: its port held %d times, want 0", held(lport))
	}
}

// TestReadIdle: the loop knows a fd is idle only from a poll that covered its read watch and
// did not report it, in the same iteration. Data written after that poll is not known until the
// next poll reports it.
func TestReadIdle(t *testing.T) {
	l, err := New()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var p [2]int
	if err := unix.Pipe(p[:]); err != nil {
		t.Fatal(err)
	}
	for _, fd := range p {
		if err := unix.SetNonblock(fd, true); err != nil {
			t.Fatal(err)
		}
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	type check struct {
		when string
		idle bool
	}
	var got []check
	note := func(when string) { got = append(got, check{when, l.readIdle(p[0])}) }
	// Each step runs in the iteration after the previous one.
	steps := []func(){
		func() {
			note("before any watch")
			if _, err := l.AddReader(p[0], func() {}); err != nil {
				t.Error(err)
			}
			note("watched after this iteration's poll")
		},
		func() {
			note("the next poll found nothing")
			if _, err := unix.Write(p[1], []byte("x")); err != nil {
				t.Error(err)
			}
			note("written after that poll")
		},
		func() { note("the next poll found the data") },
	}
	var next func()
	next = func() {
		if len(steps) == 0 {
			l.Stop()
			return
		}
		steps[0]()
		steps = steps[1:]
		if _, err := l.CallSoon(next); err != nil {
			t.Error(err)
		}
	}
	if _, err := l.CallSoon(next); err != nil {
		t.Fatal(err)
	}
	if err := l.RunForever(); err != nil {
		t.Fatal(err)
	}
	want := []check{
		{"before any watch", false},
		{"watched after this iteration's poll", false},
		{"the next poll found nothing", true},
		{"written after that poll", true},
		{"the next poll found the data", false},
	}
	if !slices.Equal(got, want) {
		t.Errorf("readIdle:\n got %v\nwant %v", got, want)
	}
	l.RemoveReader(p[0])
}

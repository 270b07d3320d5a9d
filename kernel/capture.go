package kernel

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"os"
	"sync"
	"time"
)

// Interpreted code that writes to os.Stdout or os.Stderr directly (not through fmt.Print, which
// the session routes exactly), and native code writing to fd 1 or 2, write to the kernel
// process's own stdout and stderr. The kernel makes those pipes that it reads itself, and
// gives the bytes to the callback running on the loop when they arrive (or to the running cell).
// At the end of each cell, syncFDs makes sure everything the cell wrote has been read, so its
// output is complete before its reply.

type fdCapture struct {
	name   string
	w      *os.File // the write end, now also fd 1 or 2
	marker []byte

	mu     sync.Mutex
	synced chan struct{} // closed when the reader passes the marker
}

var captures []*fdCapture

// captureFDs replaces fd 1 and fd 2 with pipes read by the kernel.
func captureFDs(r *router, owner func() int) error {
	nonce := make([]byte, 8)
	rand.Read(nonce)
	for _, c := range []struct {
		fd   int
		name string
	}{{1, "stdout"}, {2, "stderr"}} {
		pr, pw, err := os.Pipe()
		if err != nil {
			return err
		}
		if err := dupOnto(int(pw.Fd()), c.fd); err != nil {
			return err
		}
		fc := &fdCapture{name: c.name, w: pw, marker: []byte("\x00loopbook-sync-" + hex.EncodeToString(nonce) + "\x00")}
		captures = append(captures, fc)
		go fc.read(pr, r, owner)
	}
	return nil
}

func (fc *fdCapture) read(pr *os.File, r *router, owner func() int) {
	buf := make([]byte, 64<<10)
	var carry []byte
	for {
		n, err := pr.Read(buf)
		if n > 0 {
			data := append(carry, buf[:n]...)
			carry = nil
			for {
				i := bytes.Index(data, fc.marker)
				if i < 0 {
					break
				}
				r.write(owner(), fc.name, data[:i])
				data = data[i+len(fc.marker):]
				fc.mu.Lock()
				if fc.synced != nil {
					close(fc.synced)
					fc.synced = nil
				}
				fc.mu.Unlock()
			}
			// Keep a possible start of the marker for the next read.
			keep := 0
			for k := min(len(fc.marker)-1, len(data)); k > 0; k-- {
				if bytes.HasSuffix(data, fc.marker[:k]) {
					keep = k
					break
				}
			}
			r.write(owner(), fc.name, data[:len(data)-keep])
			carry = append([]byte(nil), data[len(data)-keep:]...)
		}
		if err != nil {
			return
		}
	}
}

// syncFDs waits (briefly) until what was written to fd 1 and 2 so far has been routed.
func syncFDs() {
	var waits []chan struct{}
	for _, fc := range captures {
		ch := make(chan struct{})
		fc.mu.Lock()
		fc.synced = ch
		fc.mu.Unlock()
		if _, err := fc.w.Write(fc.marker); err != nil {
			continue
		}
		waits = append(waits, ch)
	}
	deadline := time.After(200 * time.Millisecond)
	for _, ch := range waits {
		select {
		case <-ch:
		case <-deadline:
			return
		}
	}
}

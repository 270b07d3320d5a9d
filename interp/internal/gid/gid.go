// Package gid tells goroutines apart quickly. The kernel asks who is printing on every write
// that interpreted code makes; the portable way to learn the current goroutine's id (parsing
// runtime.Stack) walks the whole stack, which in an interpreted cell is deep: tens of
// microseconds per line printed.
//
// Where the architecture allows (amd64, arm64), ID reads the id from the runtime's goroutine
// struct, found through the g register. The field's offset is not part of any API, so init
// finds it: it compares the struct with runtime.Stack's answer on several goroutines and uses
// the fast path only when exactly one offset agrees on all of them. Otherwise ID parses
// runtime.Stack, as before.
package gid

import (
	"bytes"
	"runtime"
	"strconv"
	"sync"
	"unsafe"
)

// offset of the id in the runtime's g struct; -1 when unknown (ID then parses runtime.Stack).
var offset = -1

// scanBytes bounds the search: the id sits well inside the struct (152 bytes in on 64-bit Go
// 1.26), and the struct is far larger than this.
const scanBytes = 320

// ID returns the current goroutine's id, as runtime.Stack prints it.
func ID() int64 {
	if offset >= 0 {
		if g := getg(); g != nil {
			return *(*int64)(unsafe.Add(g, offset))
		}
	}
	return Slow()
}

// Fast reports whether ID reads the id directly.
func Fast() bool { return offset >= 0 }

// Slow returns the current goroutine's id by parsing runtime.Stack.
func Slow() int64 {
	var buf [64]byte
	n := runtime.Stack(buf[:], false)
	b, _ := bytes.CutPrefix(buf[:n], []byte("goroutine "))
	if i := bytes.IndexByte(b, ' '); i > 0 {
		id, _ := strconv.ParseInt(string(b[:i]), 10, 64)
		return id
	}
	return 0
}

func init() {
	if getg() == nil {
		return // no fast path on this architecture
	}
	// Candidate offsets on this goroutine, then narrowed on others with other ids.
	cands := matches(nil)
	var wg sync.WaitGroup
	for i := 0; i < 8 && len(cands) > 0; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cands = matches(cands)
		}()
		wg.Wait()
	}
	if len(cands) == 1 {
		offset = cands[0]
	}
}

// matches returns the 8-byte-aligned offsets in the current goroutine's struct (among cands,
// or all when cands is nil) that hold its id.
func matches(cands []int) []int {
	g := getg()
	id := Slow()
	if g == nil || id <= 0 {
		return nil
	}
	var out []int
	check := func(off int) {
		if *(*int64)(unsafe.Add(g, off)) == id {
			out = append(out, off)
		}
	}
	if cands == nil {
		for off := 0; off+8 <= scanBytes; off += 8 {
			check(off)
		}
	} else {
		for _, off := range cands {
			check(off)
		}
	}
	return out
}

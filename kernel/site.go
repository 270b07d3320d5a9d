package kernel

import (
	"strconv"
	"sync/atomic"

	"github.com/loopbook/loopbook/interp"
	"github.com/loopbook/loopbook/loop"
)

// cellSites is the site hook of a loop the kernel watches (the shared loop and a cell's private
// ones): work is created at the cell that owns it, and at its line when the cell's own top-level
// code made it.
//
// The hook runs for every callback, timer, future and await a cell schedules: in a CallSoon chain
// it runs once per hop. Building a fresh Site and its "In[n]" string each time cost about a tenth
// of an interpreted hop, so the last site is kept and handed out again while the owner and line
// stay the same (a Site is never modified once made). The cache is an atomic pointer because a
// private loop may run on a goroutine of its own.
func cellSites(l *loop.Loop, s *interp.Session) func() *loop.Site {
	type entry struct {
		owner, line int
		site        *loop.Site
	}
	var last atomic.Pointer[entry]
	return func() *loop.Site {
		o := int(l.CurrentOwner())
		if o == 0 {
			return nil
		}
		line := 0
		if count, at, ok := s.Line(); ok && count == o {
			line = at
		}
		if e := last.Load(); e != nil && e.owner == o && e.line == line {
			return e.site
		}
		site := &loop.Site{File: "In[" + strconv.Itoa(o) + "]", Line: line}
		last.Store(&entry{owner: o, line: line, site: site})
		return site
	}
}

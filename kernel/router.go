package kernel

import (
	"fmt"
	"sync"
	"time"
)

// router turns what cells print into stream messages for the cell that owns the printing code.
// Writes are buffered per owner and flushed every flushEvery, when a buffer grows past
// flushBytes, and before any other message of that owner (so a cell's output stays in order
// with its results and errors). Each cell run may print outputHead bytes; past that, only the
// last outputTail bytes are kept and the run's output ends with a note of how much was elided.
type router struct {
	send func(Message)
	cell func(count int) string // the cell id of a run

	mu   sync.Mutex
	runs map[int]*runOutput // by count; 0 is the background lane

	// sendMu keeps what is sent in the order it was written: a flush takes a run's pending
	// output and sends it without letting go of it, so two flushes (the ticker's, and a
	// writer's whose buffer filled) cannot overtake each other. It is taken before mu.
	sendMu sync.Mutex
}

const (
	flushEvery = 20 * time.Millisecond
	flushBytes = 16 << 10
	outputHead = 256 << 10
	outputTail = 32 << 10
)

// runOutput is one cell run's output state.
type runOutput struct {
	pending []segment // written, not yet sent
	size    int       // bytes pending
	total   int64     // bytes written by the run, ever
	elided  int64     // bytes dropped past the head (the tail ring keeps the last ones)
	tail    []segment // past the head: the last outputTail bytes
	tailLen int
}

type segment struct {
	name string // stdout or stderr
	text []byte
}

func newRouter(send func(Message), cell func(int) string) *router {
	r := &router{send: send, cell: cell, runs: map[int]*runOutput{}}
	go r.flusher()
	return r
}

func (r *router) flusher() {
	t := time.NewTicker(flushEvery)
	defer t.Stop()
	for range t.C {
		r.flushAll()
	}
}

// write records p, printed to stream name by code owned by cell run count.
func (r *router) write(count int, name string, p []byte) {
	if len(p) == 0 {
		return
	}
	r.mu.Lock()
	ro := r.runs[count]
	if ro == nil {
		ro = &runOutput{}
		r.runs[count] = ro
	}
	room := outputHead - ro.total
	ro.total += int64(len(p))
	if room > 0 {
		take := p
		if int64(len(take)) > room {
			take = take[:room]
		}
		ro.pending = appendSegment(ro.pending, name, take)
		ro.size += len(take)
		p = p[len(take):]
	}
	if len(p) > 0 {
		// Past the head: keep a tail of the last outputTail bytes.
		ro.elided += int64(len(p))
		ro.tail = appendSegment(ro.tail, name, p)
		ro.tailLen += len(p)
		for ro.tailLen > outputTail && len(ro.tail) > 0 {
			over := ro.tailLen - outputTail
			if over >= len(ro.tail[0].text) {
				ro.tailLen -= len(ro.tail[0].text)
				ro.tail = ro.tail[1:]
				continue
			}
			ro.tail[0].text = ro.tail[0].text[over:]
			ro.tailLen -= over
		}
	}
	full := ro.size >= flushBytes
	r.mu.Unlock()
	if full {
		r.flush(count)
	}
}

func appendSegment(segs []segment, name string, p []byte) []segment {
	if n := len(segs); n > 0 && segs[n-1].name == name {
		segs[n-1].text = append(segs[n-1].text, p...)
		return segs
	}
	return append(segs, segment{name: name, text: append([]byte(nil), p...)})
}

// flush sends what run count has pending.
func (r *router) flush(count int) {
	r.sendMu.Lock()
	defer r.sendMu.Unlock()
	r.flushLocked(count)
}

// flushLocked is flush for a caller holding sendMu.
func (r *router) flushLocked(count int) {
	r.mu.Lock()
	ro := r.runs[count]
	var segs []segment
	if ro != nil {
		segs, ro.pending, ro.size = ro.pending, nil, 0
	}
	r.mu.Unlock()
	r.sendSegments(count, segs)
}

func (r *router) sendSegments(count int, segs []segment) {
	cell := ""
	if count != 0 {
		cell = r.cell(count)
	}
	for _, s := range segs {
		r.send(Message{Type: MsgStream, Cell: cell, Count: count, Name: s.name, Text: string(s.text)})
	}
}

func (r *router) flushAll() {
	r.mu.Lock()
	counts := make([]int, 0, len(r.runs))
	for c, ro := range r.runs {
		if ro.size > 0 {
			counts = append(counts, c)
		}
	}
	r.mu.Unlock()
	for _, c := range counts {
		r.flush(c)
	}
}

// finish flushes run count and, if it printed more than the head, sends the elision note and
// the kept tail. The kernel calls it when the cell returns and again whenever the run's owned
// work ends, so output printed after the cell finished is capped the same way.
func (r *router) finish(count int) {
	r.sendMu.Lock()
	defer r.sendMu.Unlock()
	r.flushLocked(count)
	r.mu.Lock()
	ro := r.runs[count]
	var tail []segment
	var elided int64
	if ro != nil && ro.elided > 0 {
		tail, elided = ro.tail, ro.elided-int64(ro.tailLen)
		ro.tail, ro.tailLen, ro.elided = nil, 0, 0
		// Later output stays capped: the head is used up.
	}
	r.mu.Unlock()
	if elided > 0 || len(tail) > 0 {
		cell := r.cell(count)
		r.send(Message{Type: MsgStream, Cell: cell, Count: count, Name: "stderr",
			Text: fmt.Sprintf("\n[… %s of output elided: the cell printed %s in all; the last %s follow …]\n",
				bytesText(elided), bytesText(r.total(count)), bytesText(int64(outputTail)))})
		r.sendSegments(count, tail)
	}
}

func (r *router) total(count int) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ro := r.runs[count]; ro != nil {
		return ro.total
	}
	return 0
}

// forget drops the state of a run whose output is complete.
func (r *router) forget(count int) {
	r.mu.Lock()
	delete(r.runs, count)
	r.mu.Unlock()
}

func bytesText(n int64) string {
	switch {
	case n >= 10<<20:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 10<<10:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// streamWriter is an io.Writer for one stream that asks who is printing.
type streamWriter struct {
	r     *router
	name  string
	owner func() int
}

func (w streamWriter) Write(p []byte) (int, error) {
	w.r.write(w.owner(), w.name, p)
	return len(p), nil
}

package loop

// queue is the ready deque: a ring buffer of handles that grows by doubling. It is touched only
// by the loop goroutine.
//
// pop leaves the popped handle in its slot: clearing it was a pointer store, and so a GC write
// barrier while a collection marks, on every callback. A stale slot is overwritten when the ring
// comes round to it, so a small ring keeps at most a few dozen finished handles alive; a ring
// that a burst made large is cleared whenever it empties (see settle).
type queue struct {
	buf   []*Handle
	head  int
	n     int
	stale bool // slots outside the live range may hold popped handles
}

// bigQueue is the ring size from which stale handles are cleared rather than left to be
// overwritten.
const bigQueue = 1024

func (q *queue) len() int { return q.n }

func (q *queue) push(h *Handle) {
	if q.n == len(q.buf) {
		q.grow()
	}
	q.buf[(q.head+q.n)&(len(q.buf)-1)] = h
	q.n++
}

func (q *queue) pop() *Handle {
	h := q.buf[q.head]
	q.head = (q.head + 1) & (len(q.buf) - 1)
	q.n--
	q.stale = true
	return h
}

// settle clears the stale slots of a large ring once it is empty; the loop calls it after each
// ready step.
func (q *queue) settle() {
	if q.n == 0 && q.stale && len(q.buf) >= bigQueue {
		clear(q.buf)
		q.stale = false
	}
}

// at returns the i-th queued handle without removing it.
func (q *queue) at(i int) *Handle { return q.buf[(q.head+i)&(len(q.buf)-1)] }

func (q *queue) grow() {
	size := 2 * len(q.buf)
	if size == 0 {
		size = 64
	}
	buf := make([]*Handle, size)
	for i := 0; i < q.n; i++ {
		buf[i] = q.at(i)
	}
	q.buf, q.head, q.stale = buf, 0, false
}

func (q *queue) clear() {
	clear(q.buf)
	q.head, q.n, q.stale = 0, 0, false
}

package loop

// queue is the ready deque: a ring buffer of handles that grows by doubling. It is touched only
// by the loop goroutine.
type queue struct {
	buf  []*Handle
	head int
	n    int
}

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
	q.buf[q.head] = nil
	q.head = (q.head + 1) & (len(q.buf) - 1)
	q.n--
	return h
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
	q.buf, q.head = buf, 0
}

func (q *queue) clear() {
	for q.n > 0 {
		q.pop()
	}
}

package loop

// timerHeap is asyncio's timer heap. It reproduces CPython's heapq algorithm exactly (heappush,
// heappop, heapify, _siftdown, _siftup), comparing only the due time, because heapq is not stable:
// timers with equal deadlines leave the heap in the order heapq gives them, and a loop that claims
// asyncio's ordering must give the same one.
type timerHeap []*TimerHandle

func (h *timerHeap) push(t *TimerHandle) {
	*h = append(*h, t)
	h.siftdown(0, len(*h)-1)
}

func (h *timerHeap) pop() *TimerHandle {
	old := *h
	n := len(old) - 1
	last := old[n]
	old[n] = nil
	*h = old[:n]
	if n == 0 {
		last.index = -1
		return last
	}
	top := old[0]
	old[0] = last
	last.index = 0
	h.siftup(0)
	top.index = -1
	return top
}

func (h timerHeap) set(i int, t *TimerHandle) {
	h[i] = t
	t.index = i
}

// siftdown moves the item at pos towards the root while it is strictly earlier than its parent.
func (h timerHeap) siftdown(start, pos int) {
	item := h[pos]
	for pos > start {
		parent := (pos - 1) >> 1
		if item.when < h[parent].when {
			h.set(pos, h[parent])
			pos = parent
			continue
		}
		break
	}
	h.set(pos, item)
}

// siftup moves the smaller child up until a leaf is reached, then sifts the item down from there:
// heapq's variant, which on ties prefers the right child.
func (h timerHeap) siftup(pos int) {
	end := len(h)
	start := pos
	item := h[pos]
	child := 2*pos + 1
	for child < end {
		if right := child + 1; right < end && !(h[child].when < h[right].when) {
			child = right
		}
		h.set(pos, h[child])
		pos = child
		child = 2*pos + 1
	}
	h.set(pos, item)
	h.siftdown(start, pos)
}

// compact drops cancelled timers and heapifies what is left: asyncio's rebuild, done when more
// than minScheduledTimers are scheduled and more than half of them are cancelled.
func (h *timerHeap) compact() {
	live := (*h)[:0]
	for _, t := range *h {
		if t.cancelled {
			t.index = -1
			continue
		}
		live = append(live, t)
	}
	for i := len(live); i < len(*h); i++ {
		(*h)[i] = nil
	}
	*h = live
	for i, t := range live {
		t.index = i
	}
	for i := len(live)/2 - 1; i >= 0; i-- {
		live.siftup(i)
	}
}

// asyncio's constants (base_events.py).
const (
	minScheduledTimers    = 100
	minCancelledTimerFrac = 0.5
	maximumSelectTimeout  = 24 * 3600 * 1e9 // 24 h in ns
	clockResolution       = 1               // ns: CPython's monotonic clock resolution on Linux
)

package loop

import "time"

// Interest bits for a watched fd, and readiness bits reported by a poller.
const (
	pollRead  uint8 = 1 << iota // readable (or hung up / in error, as asyncio's selectors report)
	pollWrite                   // writable (or in error)
)

// pollEvent is one fd that became ready.
type pollEvent struct {
	fd     int
	events uint8 // pollRead|pollWrite; may exceed the fd's interest, which the loop masks
}

// poller is the small interface every readiness backend implements (epoll, kqueue, poll).
// Only the loop goroutine calls it, except wakeup, which any goroutine may call.
//
// Contract (checked by one test suite run against every backend on the machine):
//   - set(fd, old, new) changes fd's interest from old to new; new == 0 deregisters it. It succeeds
//     when fd was closed while registered (the registration is gone either way), and an fd number
//     that was closed and reused can be registered afresh. Registering (old == 0) an fd that is not
//     open fails.
//   - wait blocks for at most timeout (< 0: forever, 0: not at all), fills evs with ready fds
//     (level-triggered: an fd is reported again on every call while it stays ready) and returns
//     how many it filled. A wakeup makes a blocked or later wait return, and is consumed by it;
//     wakeups never appear in evs. EINTR is not an error: wait returns 0. Reported directions may
//     exceed the interest (a hang-up or error wakes both, as in asyncio's selectors); the loop
//     masks them. An fd closed while still registered is never an error for wait: epoll and kqueue
//     drop it silently (the kernel forgets it with the last close), poll reports it ready in both
//     directions on every call (POLLNVAL, where select would fail with EBADF) until set(fd, x, 0).
//   - close releases the backend's fds; nothing may be called afterwards.
type poller interface {
	name() string
	set(fd int, old, new uint8) error
	wait(evs []pollEvent, timeout time.Duration) (int, error)
	wakeup() error
	close() error
}

// backends lists the native pollers this platform can build (epoll, kqueue) and fallbackBackends
// the portable ones (poll). Init functions fill both, and init order across files is not something
// to lean on, so it is the second list, not registration order, that ranks poll last.
// allBackends gives the order Backends and newPoller use: best first. newPoller picks the first
// one that opens unless a name is given.
var backends, fallbackBackends []backend

func allBackends() []backend {
	return append(backends[:len(backends):len(backends)], fallbackBackends...)
}

type backend struct {
	name string
	open func() (poller, error)
}

// Backends returns the names of the readiness backends available on this platform, best first.
func Backends() []string {
	all := allBackends()
	names := make([]string, len(all))
	for i, b := range all {
		names[i] = b.name
	}
	return names
}

func newPoller(name string) (poller, error) {
	var firstErr error
	for _, b := range allBackends() {
		if name != "" && b.name != name {
			continue
		}
		p, err := b.open()
		if err == nil {
			return p, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	if firstErr == nil {
		firstErr = &unknownBackendError{name}
	}
	return nil, firstErr
}

type unknownBackendError struct{ name string }

func (e *unknownBackendError) Error() string { return "loop: unknown poller backend " + e.name }

// timeoutMillis converts a poll timeout to whole milliseconds, rounding up so the loop never wakes
// before a timer is due (asyncio's selectors do the same: math.ceil(timeout * 1e3)).
func timeoutMillis(d time.Duration) int {
	if d < 0 {
		return -1
	}
	return int((d + time.Millisecond - 1) / time.Millisecond)
}

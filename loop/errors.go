package loop

import (
	"errors"
	"fmt"
)

// RuntimeError is an error whose text is asyncio's own, kept verbatim so that a reader of the
// chapter recognises it. The sentinel values below are the only instances; compare with errors.Is.
type RuntimeError struct{ msg string }

func (e *RuntimeError) Error() string { return e.msg }

// Sentinel errors with asyncio's exact texts (CPython base_events.py).
var (
	// ErrClosed is returned by every scheduling or running method of a closed loop.
	ErrClosed = &RuntimeError{"Event loop is closed"}
	// ErrAlreadyRunning is returned by a re-entrant RunForever or RunUntilComplete.
	ErrAlreadyRunning = &RuntimeError{"This event loop is already running"}
	// ErrCloseRunning is returned by Close while the loop runs.
	ErrCloseRunning = &RuntimeError{"Cannot close a running event loop"}
	// ErrStoppedBeforeComplete is returned by RunUntilComplete when Stop ended the run early.
	ErrStoppedBeforeComplete = &RuntimeError{"Event loop stopped before Future completed."}
	// ErrWrongGoroutine is returned in debug mode when a method other than CallSoonThreadSafe
	// is called from a goroutine that is not running the loop.
	ErrWrongGoroutine = &RuntimeError{"Non-thread-safe operation invoked on an event loop other than the current one"}
	// ErrNoRunningLoop plays asyncio's "no running event loop".
	ErrNoRunningLoop = &RuntimeError{"no running event loop"}
)

// ErrCancelled is what a cancelled future or task reports, and what Await returns inside a task
// that has been asked to cancel. Errors returned for a cancellation are *CancelledError values
// that match ErrCancelled with errors.Is.
var ErrCancelled = errors.New("CancelledError")

// CancelledError carries the optional message given to Cancel.
type CancelledError struct{ Msg string }

func (e *CancelledError) Error() string {
	if e.Msg == "" {
		return "CancelledError"
	}
	return "CancelledError: " + e.Msg
}

// Is makes errors.Is(err, ErrCancelled) true.
func (e *CancelledError) Is(target error) bool { return target == ErrCancelled }

// ErrInvalidState plays asyncio.InvalidStateError; concrete errors wrap it with asyncio's text.
var ErrInvalidState = errors.New("InvalidStateError")

func invalidState(msg string) error { return fmt.Errorf("%w: %s", ErrInvalidState, msg) }

// ErrTimeout is returned by WaitFor when the timeout expires (asyncio.TimeoutError).
var ErrTimeout = errors.New("TimeoutError")

// ErrWouldBlock plays BlockingIOError: a non-blocking socket operation could not complete now.
// Socket methods return an error that matches it with errors.Is, carrying the errno.
var ErrWouldBlock = errors.New("BlockingIOError: [Errno 11] Resource temporarily unavailable")

// ErrNotAwaitable is returned when something that is not a *Future, *Task, Coroutine or *Coro is
// awaited, the analogue of passing `main` instead of `main()` to run_until_complete.
var ErrNotAwaitable = errors.New("TypeError: An asyncio.Future, a coroutine or an awaitable is required")

// PanicError is the error a callback or task ends with when its code panicked. The loop survives.
type PanicError struct {
	Value any    // the value passed to panic
	Stack []byte // the goroutine's stack at the panic
}

func (e *PanicError) Error() string { return fmt.Sprintf("panic: %v", e.Value) }

// Unwrap returns the panic value when it is an error, so errors.Is sees through a panic(err).
func (e *PanicError) Unwrap() error {
	if err, ok := e.Value.(error); ok {
		return err
	}
	return nil
}

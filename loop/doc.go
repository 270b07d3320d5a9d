// Package loop is an asyncio-style event loop written in Go on golang.org/x/sys: the loop every
// Loopbook notebook cell runs against, and the chapter's asyncio rewritten in Go.
//
// Every name maps at a glance to asyncio's:
//
//	asyncio                          loop
//	new_event_loop()                 New()
//	run_forever() / stop()           RunForever() / Stop()
//	run_until_complete(aw)           RunUntilComplete(aw)
//	close() / is_closed()            Close() / IsClosed()
//	is_running()                     IsRunning()
//	call_soon / call_soon_threadsafe CallSoon / CallSoonThreadSafe
//	call_later / call_at / time()    CallLater / CallAt / Time()
//	add_reader / remove_reader       AddReader / RemoveReader (and AddWriter / RemoveWriter)
//	create_future / create_task      CreateFuture / CreateTask
//	await aw                         co.Await(aw)
//	asyncio.sleep / gather / wait_for co.Sleep / Gather / co.WaitFor
//	sock_recv / sock_sendall / ...   SockRecv / SockSendAll / SockConnect / SockAccept
//	run_in_executor                  RunInExecutor
//	set_debug / set_exception_handler SetDebug / SetExceptionHandler
//	all_tasks / current_task         AllTasks / CurrentTask
//	get_running_loop                 Running
//	select.select / socket.socket    Select / NewSocket (with SetBlocking)
//
// Errors are returned, not raised; those asyncio raises keep its exact text ("Event loop is
// closed", "This event loop is already running", ...) and are sentinel values for errors.Is.
// Durations are time.Duration. The API is deliberately non-generic: the yaegi interpreter
// cannot call compiled generic code, so results travel as any.
//
// # Semantics
//
// One iteration is CPython's _run_once, in named steps: compact (drop cancelled timers at the
// heap's head, or rebuild it when more than 100 are scheduled and over half are cancelled), poll
// (timeout 0 if anything is ready or a stop is pending, else until the next timer, capped at
// 24 h, else for ever), io (ready fds become ready callbacks), timers (timers due by now + clock
// resolution become ready callbacks), ready (run only the callbacks that were ready when the
// step began). Watchers are level-triggered; done callbacks are always scheduled with CallSoon;
// a task awaits one future at a time and sees cancellation at its next Await. The timer heap is
// CPython's heapq, comparison for comparison, so even equal deadlines come out in asyncio's
// order. The tests compare the order of whole programs with recordings of the same programs run
// by CPython (testdata/asyncio).
//
// # Coroutines
//
// A coroutine is a func(co *Co) (any, error). Tasks run it through iter.Pull: a suspension is a
// coroutine switch, not a goroutine hand-off, and interpreted code can await through it.
//
// # Concurrency
//
// One goroutine runs a loop. Only CallSoonThreadSafe, Pause, Resume, StepIteration,
// StepCallback, SetSlowMotion, Inspect, Events, Current, Iterations, IsRunning and IsClosed may
// be called from other goroutines; in debug mode the rest return ErrWrongGoroutine when they are.
//
// # Introspection
//
// Every handle, timer, watcher, future and task carries an Info: id, kind, name, owner and, in
// debug mode or with a site hook, its creation site. The loop appends compact events to chunks
// it publishes into a ring that other goroutines read without locks (Events), names the callback
// running now and for how long (Current), can be paused and stepped at iteration boundaries,
// and returns a Snapshot of its queues, watchers, tasks and await graph. Its clock is real or
// virtual (SetVirtualTime): in virtual time, an idle loop jumps to its next timer.
//
// Differences from asyncio, on purpose: the loop keeps every task until it is done (no weak
// references to lose a task by), task names count per loop, and the warnings asyncio gives at
// garbage collection are given deterministically, by Report and Close. SockRecvInto skips
// asyncio's first read when this iteration's poll found the socket idle and its peer is in
// another process: that read could only fail, and data that arrives from the other process in
// the meantime is read one iteration later, as uvloop always does. A task's successive waits in
// the Sock* operations re-arm one future and its reader or writer rather than allocate new ones,
// when the new ones would differ only in their ids (same operation, owner and site; see
// sockWait): the event stream shows the same steps, under repeated ids. A future handed out by
// Task.Waiter is never re-armed.
package loop

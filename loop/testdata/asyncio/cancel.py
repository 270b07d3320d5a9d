# Task cancellation: what runs when. Cancellations print as CancelledError(<message>).
import asyncio

loop = asyncio.new_event_loop()


def p(s):
    print(s)


def cerr(e):
    return f"CancelledError({e.args[0] if e.args else ''})"


def done_cb(name):
    def cb(f):
        print(f"{name} done-callback cancelled={f.cancelled()}")
    return cb


# 1. A task cancelled while it awaits a future.
async def waits_on(fut):
    print("w: awaiting fut")
    try:
        await fut
    except asyncio.CancelledError as e:
        print(f"w: caught {cerr(e)}, re-raising")
        raise
    print("w: not reached")


async def case1():
    print("== 1 cancel while awaiting a future")
    fut = loop.create_future()
    fut.add_done_callback(done_cb("fut"))
    t = loop.create_task(waits_on(fut))
    t.add_done_callback(done_cb("w"))
    await asyncio.sleep(0)
    print(f"main: cancel -> {t.cancel('m1')}")
    loop.call_soon(p, "soon after cancel")
    print(f"main: fut.cancelled()={fut.cancelled()} t.done()={t.done()}")
    try:
        await t
    except asyncio.CancelledError as e:
        print(f"main: await w raised {cerr(e)}")
    print(f"main: w.cancelled()={t.cancelled()} cancel again -> {t.cancel()}")


# 2. Cancelled before its first step: the body never runs.
async def never():
    print("never: body runs (wrong)")


async def case2():
    print("== 2 cancel before first step")
    t = loop.create_task(never())
    t.add_done_callback(done_cb("never"))
    loop.call_soon(p, "soon before cancel")
    print(f"main: cancel -> {t.cancel('early')}")
    loop.call_soon(p, "soon after cancel")
    for i in range(3):
        print(f"main: tick{i} done={t.done()}")
        await asyncio.sleep(0)
    try:
        t.result()
    except asyncio.CancelledError as e:
        print(f"main: never.result() raised {cerr(e)}")


# 3. The coroutine catches the cancellation and returns normally.
async def stubborn():
    print("stubborn: sleeping")
    try:
        await asyncio.sleep(30)
    except asyncio.CancelledError as e:
        print(f"stubborn: caught {cerr(e)}")
    await asyncio.sleep(0)
    print("stubborn: continues")
    await asyncio.sleep(0)
    print("stubborn: returns")
    return "r3"


async def case3():
    print("== 3 cancel caught, task returns normally")
    t = loop.create_task(stubborn())
    t.add_done_callback(done_cb("stubborn"))
    await asyncio.sleep(0)
    print(f"main: cancel -> {t.cancel('m3')}")
    r = await t
    print(f"main: result={r} cancelled={t.cancelled()}")


# 4. Cancelling a task that awaits another task cancels the inner one.
async def inner(fut):
    print("inner: awaiting fut")
    try:
        await fut
    except asyncio.CancelledError as e:
        print(f"inner: caught {cerr(e)}, re-raising")
        raise


async def outer(it):
    print("outer: awaiting inner")
    try:
        await it
    except asyncio.CancelledError as e:
        print(f"outer: caught {cerr(e)}, re-raising")
        raise


async def case4():
    print("== 4 cancel propagates to the awaited task")
    fut = loop.create_future()
    fut.add_done_callback(done_cb("fut"))
    it = loop.create_task(inner(fut))
    it.add_done_callback(done_cb("inner"))
    ot = loop.create_task(outer(it))
    ot.add_done_callback(done_cb("outer"))
    await asyncio.sleep(0)
    print(f"main: cancel outer -> {ot.cancel('m4')}")
    print(f"main: fut.cancelled()={fut.cancelled()} inner.done()={it.done()} outer.done()={ot.done()}")
    loop.call_soon(p, "soon after cancel")
    try:
        await ot
    except asyncio.CancelledError as e:
        print(f"main: await outer raised {cerr(e)}")
    print(f"main: inner.cancelled()={it.cancelled()} outer.cancelled()={ot.cancelled()}")


# 5. Cancelled while yielding with sleep(0) (nothing to cancel but the task itself).
async def spinner():
    try:
        for i in range(10):
            print(f"spinner: step{i}")
            await asyncio.sleep(0)
    except asyncio.CancelledError as e:
        print(f"spinner: caught {cerr(e)}")
        raise


async def case5():
    print("== 5 cancel while yielding")
    t = loop.create_task(spinner())
    t.add_done_callback(done_cb("spinner"))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    print(f"main: cancel -> {t.cancel('m5')}")
    loop.call_soon(p, "soon after cancel")
    await asyncio.sleep(0)
    print(f"main: spinner.done()={t.done()}")
    await asyncio.sleep(0)
    print(f"main: spinner.cancelled()={t.cancelled()}")


# 6. A task cancels itself: its next await is cancelled; returning instead still cancels it.
async def selfcancel(fut):
    print("self: cancel myself")
    asyncio.current_task().cancel("self")
    print("self: still running after cancel()")
    try:
        await fut
    except asyncio.CancelledError as e:
        print(f"self: caught {cerr(e)}, fut.cancelled()={fut.cancelled()}")
    asyncio.current_task().cancel("self again")
    print("self: returns without awaiting")
    return "ignored"


async def case6():
    print("== 6 self-cancel")
    fut = loop.create_future()
    fut.add_done_callback(done_cb("fut"))
    t = loop.create_task(selfcancel(fut))
    t.add_done_callback(done_cb("self"))
    try:
        await t
    except asyncio.CancelledError as e:
        print(f"main: await self raised {cerr(e)}")
    print(f"main: self.cancelled()={t.cancelled()}")


# 7. Cancelled while the future it awaits is already done but the wake-up has not run.
async def case7():
    print("== 7 cancel after the awaited future finished")
    fut = loop.create_future()
    t = loop.create_task(waits_on(fut))
    t.add_done_callback(done_cb("w"))
    await asyncio.sleep(0)
    fut.set_result("value")
    print(f"main: cancel -> {t.cancel('m7')}")
    try:
        await t
    except asyncio.CancelledError as e:
        print(f"main: await w raised {cerr(e)}")
    print(f"main: w.cancelled()={t.cancelled()}")


# 8. Cancelled twice before the wake-up: the coroutine sees one CancelledError, the first one.
async def case8():
    print("== 8 cancel twice")
    fut = loop.create_future()
    t = loop.create_task(waits_on(fut))
    await asyncio.sleep(0)
    print(f"main: cancel -> {t.cancel('first')}")
    print(f"main: cancel again -> {t.cancel('second')}")
    try:
        await t
    except asyncio.CancelledError as e:
        print(f"main: await w raised {cerr(e)}")
    print(f"main: w.cancelled()={t.cancelled()}")


for case in (case1, case2, case3, case4, case5, case6, case7, case8):
    loop.run_until_complete(case())
loop.close()

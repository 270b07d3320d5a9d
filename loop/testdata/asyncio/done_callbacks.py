# Done callbacks are scheduled with call_soon, in the order they were added, never run inline.
import asyncio

loop = asyncio.new_event_loop()


def p(s):
    print(s)


def cb(name):
    def f(fut):
        if fut.cancelled():
            state = "cancelled"
        elif fut.exception() is not None:
            state = f"exception={fut.exception()}"
        else:
            state = f"result={fut.result()}"
        print(f"{name} {state}")
    return f


async def awaiter(name, fut):
    print(f"{name}: awaiting")
    r = await fut
    print(f"{name}: woke with {r}")


fut = loop.create_future()
fut.add_done_callback(cb("cb1"))
fut.add_done_callback(cb("cb2"))
loop.create_task(awaiter("task A", fut))
fut.add_done_callback(cb("cb3"))


def cb_adds(f):
    print("cb4 adds cb6 to the done future and schedules soon z")
    f.add_done_callback(cb("cb6"))
    loop.call_soon(p, "soon z")


fut.add_done_callback(cb_adds)


def setter():
    print("setter: set_result(1)")
    loop.call_soon(p, "soon x (before set_result)")
    fut.set_result(1)
    print("setter: after set_result, nothing ran inline")
    loop.call_soon(p, "soon y (after set_result)")
    fut.add_done_callback(cb("cb5 (added after done)"))
    print("setter: after late add_done_callback, nothing ran inline")
    loop.create_task(awaiter("task B", fut))


loop.call_soon(p, "soon 0")
loop.call_soon(setter)
loop.call_soon(p, "soon 1")

# Callbacks on a cancelled future and on a future with an exception.
f2 = loop.create_future()
f2.add_done_callback(cb("f2 cb1"))
f2.add_done_callback(cb("f2 cb2"))
f3 = loop.create_future()
f3.add_done_callback(cb("f3 cb1"))


def finisher():
    print("finisher: cancel f2, set_exception f3")
    f2.cancel()
    loop.call_soon(p, "soon between")
    f3.set_exception(ValueError("boom"))
    f2.add_done_callback(cb("f2 cb3 (late)"))


loop.call_soon(finisher)


# Callbacks on a task: added before it runs, while it runs, after it is done.
async def body():
    print("body: step0")
    asyncio.current_task().add_done_callback(cb("task cb2 (added by itself)"))
    await asyncio.sleep(0)
    print("body: returns")
    return "T"


t = loop.create_task(body())
t.add_done_callback(cb("task cb1"))


async def main():
    for i in range(6):
        print(f"main tick{i}")
        await asyncio.sleep(0)
    t.add_done_callback(cb("task cb3 (after done)"))
    print("main: added cb3 after done")
    await asyncio.sleep(0)
    print("main: end")


loop.run_until_complete(main())
loop.close()

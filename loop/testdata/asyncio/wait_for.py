# wait_for: in time, timeout (the inner task is cancelled and waited for), an inner task that
# swallows the cancellation, timeout 0. A chain of call_soon ticks started when the inner task
# sees its cancellation shows how many loop iterations each hand-off takes.
import asyncio

loop = asyncio.new_event_loop()


def err(e):
    if isinstance(e, asyncio.CancelledError):
        return f"CancelledError({e.args[0] if e.args else ''})"
    if isinstance(e, TimeoutError):
        return "TimeoutError"
    return f"{type(e).__name__}: {e}"


def tick(name, i):
    print(f"{name} tick{i}")
    if i < 5:
        loop.call_soon(tick, name, i + 1)


async def fast():
    for i in range(3):
        print(f"fast step{i}")
        await asyncio.sleep(0)
    print("fast returns")
    return "fast result"


async def slow(name):
    print(f"{name} sleeping")
    try:
        await asyncio.sleep(30)
    except asyncio.CancelledError as e:
        print(f"{name} caught {err(e)}")
        loop.call_soon(tick, name, 0)
        raise
    return "never"


async def stubborn():
    print("stubborn sleeping")
    try:
        await asyncio.sleep(30)
    except asyncio.CancelledError as e:
        print(f"stubborn caught {err(e)}")
        loop.call_soon(tick, "stubborn", 0)
    await asyncio.sleep(0)
    print("stubborn returns")
    return "stubborn result"


async def failing():
    await asyncio.sleep(0)
    print("failing raises")
    raise ValueError("inner failure")


async def main():
    print("== in time")
    r = await asyncio.wait_for(fast(), 5)
    print(f"main: {r}")

    print("== timeout")
    try:
        r = await asyncio.wait_for(slow("slow1"), 0.05)
        print(f"main: returned {r}")
    except Exception as e:
        print(f"main: wait_for raised {err(e)}")

    print("== inner swallows the cancellation")
    try:
        r = await asyncio.wait_for(stubborn(), 0.05)
        print(f"main: returned {r}")
    except Exception as e:
        print(f"main: wait_for raised {err(e)}")

    print("== inner fails in time")
    try:
        r = await asyncio.wait_for(failing(), 5)
        print(f"main: returned {r}")
    except Exception as e:
        print(f"main: wait_for raised {err(e)}")

    print("== timeout 0, not started")
    try:
        r = await asyncio.wait_for(slow("slow0"), 0)
        print(f"main: returned {r}")
    except Exception as e:
        print(f"main: wait_for raised {err(e)}")

    print("== timeout 0, already done")
    f = loop.create_future()
    f.set_result("done already")
    r = await asyncio.wait_for(f, 0)
    print(f"main: {r}")

    print("== timeout on a task")
    t = loop.create_task(slow("slow2"))
    await asyncio.sleep(0)
    try:
        r = await asyncio.wait_for(t, 0.05)
        print(f"main: returned {r}")
    except Exception as e:
        print(f"main: wait_for raised {err(e)}; task cancelled={t.cancelled()}")
    for i in range(3):
        await asyncio.sleep(0)


loop.run_until_complete(main())
loop.close()

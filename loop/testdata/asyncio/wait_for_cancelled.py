# wait_for whose own task is cancelled: while it waits (the inner task is cancelled with it), and
# after the timeout while it waits for the cancelled inner task to finish its clean-up (asyncio
# 3.11 then gives up waiting and raises the CancelledError at once).
import asyncio

loop = asyncio.new_event_loop()


def err(e):
    if isinstance(e, asyncio.CancelledError):
        return f"CancelledError({e.args[0] if e.args else ''})"
    if isinstance(e, TimeoutError):
        return "TimeoutError"
    return f"{type(e).__name__}: {e}"


state = {}


async def lingering(name, cancel_outer_at):
    print(f"{name} sleeping")
    try:
        await asyncio.sleep(30)
    except asyncio.CancelledError as e:
        print(f"{name} caught {err(e)}, cleaning up")
        for i in range(4):
            if i == cancel_outer_at:
                print(f"{name} cancels the waiter -> {state['waiter'].cancel('outer')}")
            print(f"{name} cleanup{i}")
            await asyncio.sleep(0)
        print(f"{name} re-raises")
        raise
    return "never"


async def waiter(name, timeout, cancel_outer_at):
    try:
        r = await asyncio.wait_for(lingering(name, cancel_outer_at), timeout)
        print(f"waiter: returned {r}")
    except BaseException as e:
        print(f"waiter: wait_for raised {err(e)}")
        raise


async def main():
    print("== waiter cancelled before the timeout")
    w = loop.create_task(waiter("l1", 5, -1))
    state["waiter"] = w
    for i in range(2):
        await asyncio.sleep(0)
    print(f"main: cancel waiter -> {w.cancel('outer')}")
    try:
        await w
    except asyncio.CancelledError as e:
        print(f"main: waiter raised {err(e)}")
    for i in range(6):
        print(f"main tick{i}")
        await asyncio.sleep(0)

    print("== waiter cancelled while the timed-out task cleans up")
    w = loop.create_task(waiter("l2", 0.05, 1))
    state["waiter"] = w
    try:
        await w
    except asyncio.CancelledError as e:
        print(f"main: waiter raised {err(e)}")
    for i in range(6):
        print(f"main tick{i}")
        await asyncio.sleep(0)


loop.run_until_complete(main())
loop.close()

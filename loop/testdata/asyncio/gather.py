# gather: children start in argument order, results come in argument order, the first error
# becomes gather's while the other children keep running, cancelling gather cancels the children.
import asyncio

loop = asyncio.new_event_loop()


def p(s):
    print(s)


def err(e):
    if isinstance(e, asyncio.CancelledError):
        return f"CancelledError({e.args[0] if e.args else ''})"
    return f"{type(e).__name__}: {e}"


async def child(name, n, fail=False):
    try:
        for i in range(n):
            print(f"{name} step{i}")
            await asyncio.sleep(0)
    except asyncio.CancelledError as e:
        print(f"{name} caught {err(e)}")
        raise
    if fail:
        print(f"{name} raises")
        raise ValueError(name)
    print(f"{name} returns")
    return name.upper()


async def main():
    print("== results in argument order")
    g = asyncio.gather(child("a", 3), child("b", 0), child("c", 2))
    g.add_done_callback(lambda f: print("gather done-callback"))
    loop.call_soon(p, "soon after gather")
    res = await g
    print("gather result " + " ".join(res))

    print("== first error wins, siblings keep running")
    g = asyncio.gather(child("d", 3), child("e", 1, fail=True), child("f", 4), child("g", 1, fail=True))
    try:
        await g
    except Exception as e:
        print(f"gather raised {err(e)}")
    for i in range(5):
        print(f"main tick{i}")
        await asyncio.sleep(0)

    print("== futures and tasks")
    f1 = loop.create_future()
    f1.set_result("pre")
    f2 = loop.create_future()
    loop.call_soon(f2.set_result, "soon")
    t = loop.create_task(child("h", 1))
    res = await asyncio.gather(f1, child("i", 2), f2, t)
    print("gather result " + " ".join(res))

    print("== cancel gather")
    g = asyncio.gather(child("j", 5), child("k", 1), child("l", 5))
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    print(f"main: cancel gather -> {g.cancel('stop')}")
    try:
        await g
    except asyncio.CancelledError as e:
        print(f"main: gather raised {err(e)}")
    print(f"main: gather.cancelled()={g.cancelled()}")

    print("== a child is cancelled")
    t = loop.create_task(child("m", 5))
    g = asyncio.gather(child("n", 3), t)
    await asyncio.sleep(0)
    print(f"main: cancel m -> {t.cancel('only m')}")
    try:
        await g
    except asyncio.CancelledError as e:
        print(f"main: gather raised {err(e)}")
    for i in range(4):
        print(f"main tick{i}")
        await asyncio.sleep(0)

    print("== a child already failed")
    f = loop.create_future()
    f.set_exception(ValueError("pre"))
    g = asyncio.gather(f, child("o", 4))
    loop.call_soon(p, "soon after gather")
    try:
        await g
    except Exception as e:
        print(f"gather raised {err(e)}")
    for i in range(4):
        print(f"main tick{i}")
        await asyncio.sleep(0)

    print("== empty gather")
    res = await asyncio.gather()
    print(f"empty gather result {len(res)}")


loop.run_until_complete(main())
loop.close()

# call_soon vs call_later(0) vs task steps: what runs in which iteration, in which order.
import asyncio

loop = asyncio.new_event_loop()
t0 = loop.time()


def p(s):
    print(s)


async def worker(name, n):
    for i in range(n):
        print(f"{name} step{i}")
        await asyncio.sleep(0)
    print(f"{name} done")


def soon_a():
    print("soon a")
    loop.call_soon(p, "soon a2")
    loop.call_later(0, p, "later0 a3")
    loop.create_task(worker("task3", 2))
    loop.call_soon(p, "soon a4")


def later0_b():
    print("later0 b")
    loop.call_later(0, p, "later0 b2")
    loop.call_soon(p, "soon b3")


loop.call_soon(soon_a)
loop.call_later(0, later0_b)
loop.create_task(worker("task1", 3))
loop.call_soon(p, "soon c")
loop.call_later(0, p, "later0 d")
loop.create_task(worker("task2", 2))
loop.call_soon(p, "soon e")
loop.call_at(t0 + 0.1, loop.stop)
loop.run_forever()
print("stopped")
loop.close()

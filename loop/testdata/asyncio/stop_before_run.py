# stop() before run_forever: the run makes one iteration over what is ready, then returns.
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
    return name


def a():
    print("a")
    loop.call_soon(p, "a2 soon by a")
    loop.call_later(0, p, "a3 later0 by a")


loop.call_soon(a)
loop.call_later(0, p, "b later0")
far = loop.call_at(t0 + 30, p, "far timer (never)")
task = loop.create_task(worker("task1", 3))
loop.call_soon(p, "c")
loop.stop()
loop.run_forever()
print("run_forever returned 1")
loop.stop()
loop.run_forever()
print("run_forever returned 2")
loop.stop()
loop.stop()
loop.run_forever()
print("run_forever returned 3")
loop.stop()
loop.run_forever()
print("run_forever returned 4")
print("result", loop.run_until_complete(task))
far.cancel()
loop.close()

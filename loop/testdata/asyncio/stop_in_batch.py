# stop() inside a batch: the rest of the batch still runs, what the batch scheduled waits for the
# next run_forever, which continues it.
import asyncio

loop = asyncio.new_event_loop()


def p(s):
    print(s)


async def worker(name, n):
    for i in range(n):
        print(f"{name} step{i}")
        await asyncio.sleep(0)
    print(f"{name} done")


def b():
    print("b calls stop")
    loop.stop()
    loop.call_soon(p, "x soon by b")
    loop.call_later(0, p, "y later0 by b")
    loop.call_soon(p, "z soon by b")


def d():
    print("d after stop, same batch")
    loop.call_soon(p, "w soon by d")


def second_stop():
    print("second stop")
    loop.stop()
    loop.call_soon(p, "v soon by second stop")


loop.call_soon(p, "a")
task = loop.create_task(worker("task1", 5))
loop.call_soon(b)
loop.call_soon(d)
loop.call_soon(p, "c")
loop.call_soon(loop.stop)
loop.call_soon(p, "after double stop, same batch")
loop.run_forever()
print("run_forever returned 1")
loop.call_soon(p, "e scheduled between runs")
loop.call_soon(second_stop)
loop.run_forever()
print("run_forever returned 2")
loop.call_soon(loop.stop)
loop.run_forever()
print("run_forever returned 3")
loop.call_later(0, loop.stop)
loop.run_forever()
print("run_forever returned 4")
loop.run_until_complete(task)
print("task finished")
loop.close()

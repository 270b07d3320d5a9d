# run_until_complete / run_forever / close errors, printed as "<where>: <Type>: <text>".
import asyncio

loop = asyncio.new_event_loop()


def p(s):
    print(s)


def perr(where, e):
    print(f"{where}: {type(e).__name__}: {e}")


async def worker(name, n):
    for i in range(n):
        print(f"{name} step{i}")
        await asyncio.sleep(0)
    print(f"{name} returns")
    return f"{name} result"


print("== stopped before the future completed")
t = loop.create_task(worker("task1", 4))
loop.call_soon(p, "soon before stop")
loop.call_soon(loop.stop)
loop.call_soon(p, "soon after stop")
try:
    loop.run_until_complete(t)
except RuntimeError as e:
    perr("run_until_complete", e)
print(f"task1 done={t.done()}")
print(f"run_until_complete again: {loop.run_until_complete(t)}")
print(f"run_until_complete on a done task: {loop.run_until_complete(t)}")
f = loop.create_future()
loop.call_soon(p, "soon, then stop")
loop.call_soon(loop.stop)
try:
    loop.run_until_complete(f)
except RuntimeError as e:
    perr("run_until_complete(future)", e)
f.cancel()

print("== re-entrant run")


async def reenter():
    try:
        loop.run_forever()
    except RuntimeError as e:
        perr("run_forever inside the loop", e)
    inner = loop.create_future()
    try:
        loop.run_until_complete(inner)
    except RuntimeError as e:
        perr("run_until_complete inside the loop", e)
    inner.cancel()
    print(f"is_running={loop.is_running()}")
    return "reenter result"


print(loop.run_until_complete(reenter()))
print(f"is_running={loop.is_running()}")


def cb_reenter():
    try:
        loop.run_forever()
    except RuntimeError as e:
        perr("run_forever in a callback", e)
    loop.stop()


loop.call_soon(cb_reenter)
loop.run_forever()

print("== close while running")


def closer():
    try:
        loop.close()
    except RuntimeError as e:
        perr("close in a callback", e)
    print(f"is_closed={loop.is_closed()}")
    loop.stop()


loop.call_soon(closer)
loop.run_forever()


async def close_in_task():
    try:
        loop.close()
    except RuntimeError as e:
        perr("close in a task", e)
    return "still open"


print(loop.run_until_complete(close_in_task()))

print("== closed loop")
pending = loop.create_future()
loop.close()
print(f"is_closed={loop.is_closed()}")
loop.close()
print("close again: no error")


async def never():
    print("never runs")

try:
    loop.call_soon(p, "x")
except RuntimeError as e:
    perr("call_soon", e)
try:
    loop.call_later(0, p, "x")
except RuntimeError as e:
    perr("call_later", e)
try:
    loop.call_at(loop.time() + 1, p, "x")
except RuntimeError as e:
    perr("call_at", e)
coro = never()
try:
    loop.create_task(coro)
except RuntimeError as e:
    perr("create_task", e)
coro.close()
try:
    loop.run_forever()
except RuntimeError as e:
    perr("run_forever", e)
try:
    loop.run_until_complete(pending)
except RuntimeError as e:
    perr("run_until_complete", e)
loop.stop()
print("stop on a closed loop: no error")

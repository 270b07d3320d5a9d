"""Loop micro-workloads for asyncio and uvloop, mirroring bench/loopbench (Go) and micro.js.

Usage: micro.py IMPL TEST N [VARIANT]
  IMPL     asyncio | uvloop   (uvloop imports only under Debian's /usr/bin/python3)
  TEST     chain N [nofd|fd]  each callback call_soon's the next; fd adds an idle add_reader
           burst N            N call_soon up front, then drain
           timers N           N call_later with random delays in [0, 10 ms), seed 42
           await N [pingpong|sleep0|pingpong-100|sleep0-100]  N task await/resume hops

Prints one JSON line: {"impl", "test", "n", "seconds", "ns_per_op"[, "sched_s"]}. The clock starts
after the loop exists and stops when run_forever / run_until_complete returns, as in the Go runner.
"""

import asyncio
import json
import random
import socket
import sys
import time


def new_loop(impl):
    if impl == "asyncio":
        return asyncio.new_event_loop()
    if impl == "uvloop":
        import uvloop

        return uvloop.new_event_loop()
    raise SystemExit(f"unknown impl {impl!r}: want asyncio or uvloop")


def chain(loop, n):
    left = n

    def hop():
        nonlocal left
        left -= 1
        if left <= 0:
            loop.stop()
            return
        loop.call_soon(hop)

    t0 = time.perf_counter()
    loop.call_soon(hop)
    loop.run_forever()
    return time.perf_counter() - t0, None


def burst(loop, n):
    left = n

    def cb():
        nonlocal left
        left -= 1
        if left == 0:
            loop.stop()

    t0 = time.perf_counter()
    for _ in range(n):
        loop.call_soon(cb)
    sched = time.perf_counter() - t0
    loop.run_forever()
    return time.perf_counter() - t0, sched


def timers(loop, n):
    random.seed(42)
    left = n

    def fire():
        nonlocal left
        left -= 1
        if left == 0:
            loop.stop()

    t0 = time.perf_counter()
    for _ in range(n):
        loop.call_later(random.random() * 0.010, fire)
    sched = time.perf_counter() - t0
    loop.run_forever()
    return time.perf_counter() - t0, sched


def pingpong_pair(loop, left):
    # Two players taking turns for `left` hops in all: each creates a future, resolves the one its
    # partner waits on and awaits its own, so every await suspends and is resumed one loop
    # iteration later. Returns the coroutine function of a player (0 or 1).
    state = {"left": left}
    wait = [None, None]

    def release(i):
        f = wait[1 - i]
        if f is not None:
            wait[1 - i] = None
            f.set_result(None)

    async def player(i):
        while state["left"] > 0:
            state["left"] -= 1
            mine = loop.create_future()
            wait[i] = mine
            release(i)
            await mine
        release(i)

    return player


def await_pingpong(loop, n):
    player = pingpong_pair(loop, n)

    async def main():
        a = loop.create_task(player(0))
        b = loop.create_task(player(1))
        await a
        await b

    t0 = time.perf_counter()
    loop.run_until_complete(main())
    return time.perf_counter() - t0, None


MANY_TASKS = 100  # the "-100" variants: as bench/workload's ManyTasks


def await_pingpong_many(loop, n):
    # await_pingpong with MANY_TASKS / 2 pairs at once, n awaits in all: the iteration's own cost
    # is shared by all of them.
    pairs = MANY_TASKS // 2

    async def main():
        tasks = []
        for k in range(pairs):
            player = pingpong_pair(loop, n // pairs + (1 if k < n % pairs else 0))
            tasks += [loop.create_task(player(0)), loop.create_task(player(1))]
        for t in tasks:
            await t

    t0 = time.perf_counter()
    loop.run_until_complete(main())
    return time.perf_counter() - t0, None


def sleep0_many(loop, n):
    async def sleeper(count):
        for _ in range(count):
            await asyncio.sleep(0)

    async def main():
        tasks = [loop.create_task(sleeper(n // MANY_TASKS + (1 if k < n % MANY_TASKS else 0)))
                 for k in range(MANY_TASKS)]
        for t in tasks:
            await t

    t0 = time.perf_counter()
    loop.run_until_complete(main())
    return time.perf_counter() - t0, None


def sleep0(loop, n):
    async def main():
        for _ in range(n):
            await asyncio.sleep(0)

    t0 = time.perf_counter()
    loop.run_until_complete(main())
    return time.perf_counter() - t0, None


def main():
    if len(sys.argv) < 4:
        raise SystemExit(__doc__)
    impl, test, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    variant = sys.argv[4] if len(sys.argv) > 4 else None
    loop = new_loop(impl)
    asyncio.set_event_loop(loop)
    keep = []
    if test == "chain":
        variant = variant or "nofd"
        if variant == "fd":
            a, b = socket.socketpair()
            keep = [a, b]  # never written to: the reader stays idle, but the loop must poll it
            loop.add_reader(a.fileno(), lambda: None)
        elif variant != "nofd":
            raise SystemExit(f"chain variant {variant!r}: want nofd or fd")
        name, fn = "chain-" + variant, chain
    elif test == "burst":
        name, fn = "burst", burst
    elif test == "timers":
        name, fn = "timers", timers
    elif test == "await":
        variant = variant or "pingpong"
        fns = {"pingpong": await_pingpong, "sleep0": sleep0,
               "pingpong-100": await_pingpong_many, "sleep0-100": sleep0_many}
        if variant not in fns:
            raise SystemExit(f"await variant {variant!r}: want one of {', '.join(fns)}")
        name, fn = "await-" + variant, fns[variant]
    else:
        raise SystemExit(f"unknown test {test!r}")
    secs, sched = fn(loop, n)
    rec = {"impl": impl, "test": name, "n": n, "seconds": secs, "ns_per_op": secs / n * 1e9}
    if sched is not None:
        rec["sched_s"] = sched
    print(json.dumps(rec), flush=True)
    if keep:
        loop.remove_reader(keep[0].fileno())
    for s in keep:
        s.close()
    loop.close()


if __name__ == "__main__":
    main()

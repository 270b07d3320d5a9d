# More than 100 timers, more than half cancelled: asyncio rebuilds the heap (heapify) before the
# next poll, which reorders timers with equal deadlines. The twin must rebuild the same way.
import asyncio

loop = asyncio.new_event_loop()
t0 = loop.time()
T = t0 + 0.1
hs = []


def cb(name):
    print(name)


def phase(n):
    print(f"phase: schedules {n} timers at T")
    for i in range(n):
        hs.append(loop.call_at(T, cb, f"t{i}"))
    hs.append(loop.call_at(T + 0.05, cb, "after"))
    # Cancel 70 of them, none at the head: 70/(n+2) > 0.5 triggers the rebuild.
    for i in range(1, n, 2):
        if i < 2 * 70:
            hs[i].cancel()


loop.call_at(t0 + 0.05, phase, 120)
loop.call_at(t0 + 0.2, loop.stop)
loop.run_forever()
print("stopped")
loop.close()

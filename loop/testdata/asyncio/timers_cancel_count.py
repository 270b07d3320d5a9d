# asyncio counts a cancelled timer when it is cancelled and uncounts it only when it removes it
# from the head of the heap before polling; a cancelled timer popped as due together with live
# ones stays counted. That count decides when the heap is rebuilt (heapify), and a rebuild
# reorders timers with equal deadlines.
import asyncio

loop = asyncio.new_event_loop()
t0 = loop.time()
T1 = t0 + 0.05
T2 = t0 + 0.1


def cb(name):
    print(name)


def phase2():
    print("phase2: schedules 110 timers at T2")
    for i in range(110):
        loop.call_at(T2, cb, f"t{i}")


# A live head, then 60 cancelled timers with the same deadline behind it: the head is live, so
# none is removed before polling; all 60 are popped as due, and they stay counted.
loop.call_at(T1, phase2)
cancelled = [loop.call_at(T1, cb, f"c{i}") for i in range(60)]
for h in cancelled:
    h.cancel()
loop.call_at(t0 + 0.2, loop.stop)
loop.run_forever()
print("stopped")
loop.close()

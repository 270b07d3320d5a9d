# Timers with equal deadlines: asyncio's heap (heapq) is not stable, so their order is the one
# heapq's push/pop sequence gives. Earlier and later timers and cancelled ones are mixed in.
import asyncio

loop = asyncio.new_event_loop()
t0 = loop.time()
T = t0 + 0.1
hs = {}


def cb(name):
    print(name)


def early():
    print("early: adds eq-x0..eq-x4 at T, cancels eq5")
    for i in range(5):
        hs[f"x{i}"] = loop.call_at(T, cb, f"eq-x{i}")
    hs["eq5"].cancel()


def eq2():
    print("eq2: adds eq-late at T (already due) and a call_soon, cancels eq9 and eq12")
    loop.call_at(T, cb, "eq-late")
    loop.call_soon(cb, "soon by eq2")
    hs["eq9"].cancel()  # already ran: no effect
    hs["eq12"].cancel()  # popped into this batch: skipped


loop.call_at(t0 + 0.15, cb, "later1")
for i in range(14):
    if i == 2:
        hs["eq2"] = loop.call_at(T, eq2)
        continue
    hs[f"eq{i}"] = loop.call_at(T, cb, f"eq{i}")
    if i == 4:
        loop.call_at(t0 + 0.15, cb, "later2")
    if i == 8:
        loop.call_at(t0 + 0.05, early)
    if i == 10:
        loop.call_at(t0 + 0.15, cb, "later3")
for name in ("eq0", "eq3", "eq7", "eq11"):
    hs[name].cancel()
# A second group of equal deadlines, pushed in one go with nothing else in between.
U = t0 + 0.2
for i in range(13):
    hs[f"u{i}"] = loop.call_at(U, cb, f"u{i}")
hs["u1"].cancel()
hs["u12"].cancel()
loop.call_at(t0 + 0.25, loop.stop)
loop.run_forever()
print("stopped")
loop.close()

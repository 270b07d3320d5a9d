"""Jupyter's ipykernel, measured the way bench/kernelbench measures loopbook's kernel.

Usage: ipykernel_bench.py TEST [ARGS]
  start N           N fresh kernels: KernelManager.start_kernel → the stream message of print("hi")
  roundtrip N       N trivial cells on one warm kernel: execute_request → stream, → execute_reply, → idle
  memory [IDLE_S]   VmRSS / Pss of a kernel after start and one print("hi"), idle for IDLE_S (2) seconds
  cells NCHAIN NAWAIT   asyncio chain and sleep(0) loop run by a cell (top-level await) on the kernel's loop

Run it with Debian's /usr/bin/python3 (python3-ipykernel, python3-jupyter-client). The kernel is
the stock "python3" kernel spec (/usr/bin/python3 -m ipykernel_launcher), started by
jupyter_client's KernelManager.

Two clients talk to it. "lean" speaks the protocol on plain blocking zmq sockets with
jupyter_client's Session (signing and JSON as the real thing), and takes a message the moment it
arrives; its figures are reported as impl "ipykernel" and are the ones compared. "jc" is
jupyter_client's BlockingKernelClient (get_iopub_msg / get_shell_msg), whose per-call asyncio
plumbing adds client-side time; its round trip is reported as impl "ipykernel-jc" for reference.
Readiness is checked as a notebook server does: kernel_info until its reply arrives on shell and a
message arrives on iopub (so the subscription is live); BlockingKernelClient.wait_for_ready
additionally waits for 0.2 s of iopub silence, which would add a fixed 200 ms to the start figure.

Prints one JSON line per measurement, in the shape bench/kernelbench prints.
"""

import json
import statistics
import sys
import time

import zmq
from jupyter_client import KernelManager

TRIVIAL = 'print("hi")'
TIMEOUT = 60.0


def quantile(xs, q):
    """Nearest-rank quantile, as kernelbench computes it."""
    s = sorted(xs)
    i = int(q * len(s) + 0.999999) - 1
    return s[max(0, min(i, len(s) - 1))]


class Lean:
    """A minimal blocking client on the kernel's shell and iopub sockets."""

    def __init__(self, km):
        self.km = km
        self.session = km.session
        self.ctx = zmq.Context()
        self.shell = self.ctx.socket(zmq.DEALER)
        self.shell.linger = 0
        self.shell.connect(km._make_url("shell"))
        self.iopub = self.ctx.socket(zmq.SUB)
        self.iopub.linger = 0
        self.iopub.setsockopt(zmq.SUBSCRIBE, b"")
        self.iopub.connect(km._make_url("iopub"))
        self.poller = zmq.Poller()
        self.poller.register(self.shell, zmq.POLLIN)
        self.poller.register(self.iopub, zmq.POLLIN)

    def close(self):
        self.shell.close()
        self.iopub.close()
        self.ctx.term()

    def send(self, msg_type, content):
        msg = self.session.msg(msg_type, content)
        self.session.send(self.shell, msg)
        return msg["header"]["msg_id"]

    def execute(self, code):
        return self.send("execute_request", {"code": code, "silent": False, "store_history": True,
                                             "user_expressions": {}, "allow_stdin": False,
                                             "stop_on_error": True})

    def next(self, timeout=TIMEOUT):
        """The next message from shell or iopub, as (channel, msg); None on timeout."""
        events = dict(self.poller.poll(timeout * 1000))
        for sock, name in ((self.shell, "shell"), (self.iopub, "iopub")):
            if sock in events:
                _, msg = self.session.recv(sock, mode=zmq.NOBLOCK)
                if msg is not None:
                    return name, msg
        return None

    def until(self, stop, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            got = self.next(max(left, 0)) if left > 0 else None
            if got is None:
                raise SystemExit("ipykernel_bench: no message from the kernel within %.0f s" % timeout)
            ch, msg = got
            if msg["msg_type"] == "error":
                raise SystemExit("ipykernel_bench: cell error: %s" % msg["content"])
            if stop(ch, msg):
                return msg

    def wait_ready(self):
        """kernel_info until a reply has arrived on shell and something on iopub (the subscription
        is live). The first request waits for the kernel to come up; once it has answered, a
        status message iopub missed (the subscription was not connected yet) is made up for by
        asking again every 10 ms, so the check adds no fixed delay to the start figure."""
        deadline = time.monotonic() + TIMEOUT
        replied = iopub_seen = False
        self.send("kernel_info_request", {})
        while not (replied and iopub_seen):
            if time.monotonic() > deadline:
                raise SystemExit("ipykernel_bench: the kernel did not become ready")
            got = self.next(0.01 if replied else 1.0)
            if got is None:
                if replied:  # answered, but iopub heard nothing: ask again
                    self.send("kernel_info_request", {})
                continue
            ch, msg = got
            if ch == "shell" and msg["msg_type"] == "kernel_info_reply":
                replied = True
            elif ch == "iopub":
                iopub_seen = True

    def run(self, code):
        """Execute code, wait for its idle status; return what it printed on stdout."""
        mid = self.execute(code)
        out = []

        def stop(ch, msg):
            if msg["parent_header"].get("msg_id") != mid:
                return False
            if msg["msg_type"] == "stream" and msg["content"]["name"] == "stdout":
                out.append(msg["content"]["text"])
            return msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle"

        self.until(stop)
        return "".join(out)


def new_kernel():
    km = KernelManager(kernel_name="python3")
    km.start_kernel()
    return km


def stop_kernel(km, client):
    client.close()
    km.shutdown_kernel(now=True)


def start_bench(n):
    samples, ready = [], []
    for _ in range(n):
        t0 = time.perf_counter()
        km = new_kernel()
        c = Lean(km)
        c.wait_ready()
        t_ready = time.perf_counter() - t0
        mid = c.execute(TRIVIAL)
        c.until(lambda ch, m: m["msg_type"] == "stream" and m["parent_header"].get("msg_id") == mid)
        t_first = time.perf_counter() - t0
        stop_kernel(km, c)
        samples.append(t_first * 1e3)
        ready.append(t_ready * 1e3)
    return [{"impl": "ipykernel", "test": "start", "n": n, "samples_ms": samples, "ready_ms": ready,
             "p50_ms": statistics.median(samples)}]


def lean_roundtrips(c, n):
    outs, replies, idles = [], [], []
    for _ in range(n):
        t0 = time.perf_counter()
        mid = c.execute(TRIVIAL)
        t = {}

        def stop(ch, msg):
            if msg["parent_header"].get("msg_id") != mid:
                return False
            kind = msg["msg_type"]
            now = time.perf_counter() - t0
            if kind == "stream" and "out" not in t:
                t["out"] = now
            elif kind == "execute_reply":
                if msg["content"]["status"] != "ok":
                    raise SystemExit("ipykernel_bench: reply %s" % msg["content"])
                t["reply"] = now
            elif kind == "status" and msg["content"]["execution_state"] == "idle":
                t["idle"] = now
            # The reply (shell) and the idle status (iopub) race on separate sockets.
            return "idle" in t and "reply" in t

        c.until(stop)
        outs.append(t["out"] * 1e6)
        replies.append(t["reply"] * 1e6)
        idles.append(t["idle"] * 1e6)
    return outs, replies, idles


def jc_roundtrips(kc, n):
    """The same with jupyter_client's BlockingKernelClient: output, then reply, then idle."""
    outs, replies, idles = [], [], []
    for _ in range(n):
        t0 = time.perf_counter()
        mid = kc.execute(TRIVIAL)
        t_out = t_idle = None
        while t_idle is None:
            msg = kc.get_iopub_msg(timeout=TIMEOUT)
            if msg["parent_header"].get("msg_id") != mid:
                continue
            if msg["msg_type"] == "stream" and t_out is None:
                t_out = time.perf_counter() - t0
            elif msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                t_idle = time.perf_counter() - t0
        while True:
            msg = kc.get_shell_msg(timeout=TIMEOUT)
            if msg["parent_header"].get("msg_id") == mid:
                t_reply = time.perf_counter() - t0
                break
        outs.append(t_out * 1e6)
        # Read in this order, the reply is seen after the idle status: report the later of the two.
        replies.append(t_reply * 1e6)
        idles.append(max(t_idle, t_reply) * 1e6)
    return outs, replies, idles


def rt_record(impl, n, outs, replies, idles):
    return {"impl": impl, "test": "roundtrip", "n": n,
            "output_p50_us": quantile(outs, 0.5), "output_p99_us": quantile(outs, 0.99),
            "reply_p50_us": quantile(replies, 0.5), "reply_p99_us": quantile(replies, 0.99),
            "idle_p50_us": quantile(idles, 0.5), "idle_p99_us": quantile(idles, 0.99)}


def roundtrip_bench(n):
    km = new_kernel()
    c = Lean(km)
    c.wait_ready()
    try:
        for _ in range(20):
            c.run(TRIVIAL)
        recs = [rt_record("ipykernel", n, *lean_roundtrips(c, n))]
        kc = km.client()
        kc.start_channels()
        kc.wait_for_ready(timeout=TIMEOUT)
        for _ in range(20):
            jc_roundtrips(kc, 1)
        recs.append(rt_record("ipykernel-jc", n, *jc_roundtrips(kc, n)))
        kc.stop_channels()
    finally:
        stop_kernel(km, c)
    return recs


def proc_field(path, name):
    with open(path) as f:
        for line in f:
            if line.startswith(name + ":"):
                return int(line.split()[1])
    raise SystemExit("ipykernel_bench: no %s in %s" % (name, path))


def memory_bench(idle):
    km = new_kernel()
    c = Lean(km)
    try:
        c.wait_ready()
        c.run(TRIVIAL)
        time.sleep(idle)
        pid = km.provisioner.pid
        d = "/proc/%d" % pid
        rec = {"impl": "ipykernel", "test": "memory", "rss_kb": proc_field(d + "/status", "VmRSS"),
               "hwm_kb": proc_field(d + "/status", "VmHWM"), "pss_kb": proc_field(d + "/smaps_rollup", "Pss")}
    finally:
        stop_kernel(km, c)
    return [rec]


# The cells run on the kernel's own asyncio loop (ipykernel 6 awaits top-level-await cells there)
# and time themselves, as kernelbench's cells do.
CHAIN_CELL = """
import asyncio, time
_loop = asyncio.get_running_loop()
_done = _loop.create_future()
_left = %d
def _hop():
    global _left
    _left -= 1
    if _left <= 0:
        _done.set_result(None)
        return
    _loop.call_soon(_hop)
_t0 = time.perf_counter_ns()
_loop.call_soon(_hop)
await _done
print(time.perf_counter_ns() - _t0)
"""

SLEEP0_CELL = """
import asyncio, time
_t0 = time.perf_counter_ns()
for _i in range(%d):
    await asyncio.sleep(0)
print(time.perf_counter_ns() - _t0)
"""


def cells_bench(n_chain, n_await):
    km = new_kernel()
    c = Lean(km)
    recs = []
    try:
        c.wait_ready()
        c.run(TRIVIAL)
        for test, code, n in (("cell-chain", CHAIN_CELL, n_chain), ("cell-sleep0", SLEEP0_CELL, n_await)):
            out = c.run(code % n)
            ns = int(out.strip())
            recs.append({"impl": "ipykernel", "test": test, "n": n, "seconds": ns / 1e9, "ns_per_op": ns / n})
    finally:
        stop_kernel(km, c)
    return recs


def main():
    args = sys.argv[1:]
    if not args:
        raise SystemExit(__doc__)
    test = args[0]
    num = lambda i, d: int(args[i]) if len(args) > i else d
    if test == "start":
        recs = start_bench(num(1, 10))
    elif test == "roundtrip":
        recs = roundtrip_bench(num(1, 1000))
    elif test == "memory":
        recs = memory_bench(float(args[1]) if len(args) > 1 else 2.0)
    elif test == "cells":
        recs = cells_bench(num(1, 1000000), num(2, 100000))
    else:
        raise SystemExit(__doc__)
    for r in recs:
        print(json.dumps(r), flush=True)


if __name__ == "__main__":
    main()

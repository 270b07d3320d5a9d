#!/usr/bin/env python3
"""Summarise bench/run.sh results as Markdown tables.

Usage: summarise.py RESULTS.jsonl [MORE.jsonl ...]

Medians and min..max are taken over all runs of an implementation and workload. Ratios are
taken within a round (the same file and round number) and then the median of those per-round
ratios is reported, because the host's speed drifts between rounds more than the implementations
differ within one. The "Targets" table checks the issue's goals for the loop.
"""

import collections
import json
import os
import re
import statistics
import sys

MICRO_IMPLS = ["loopbook", "uvloop", "asyncio", "node"]
MICRO_TESTS = [
    ("chain-nofd", "ns/hop", "call_soon chain, nothing watched"),
    ("chain-fd", "ns/hop", "call_soon chain, an idle fd watched"),
    ("timers", "ms total", "100k call_later, random delays < 10 ms"),
    ("await-pingpong", "ns/hop", "two tasks awaiting futures in turn"),
    ("await-sleep0", "ns/hop", "one task doing sleep(0)"),
    ("await-pingpong-100", "ns/hop", "50 pairs of tasks awaiting futures in turn (per await)"),
    ("await-sleep0-100", "ns/hop", "100 tasks doing sleep(0) (per await)"),
    ("burst", "ns/op", "N call_soon up front, then drained"),
    ("create-task", "ns/op", "create_task of a coroutine that returns at once"),
]
ECHO_IMPLS = ["loopbook", "go-net", "uvloop-proto", "uvloop-sock", "uvloop-streams", "asyncio-proto", "asyncio-sock", "node"]
# The servers every echo row is divided by: Go's net, uvloop's Protocol server (the two
# peers) and uvloop running Loopbook's own design, a task per connection on sock_recv_into and
# sock_sendall.
ECHO_BASES = ["go-net", "uvloop-proto", "uvloop-sock"]


def rev_from_name(path):
    """The revision run.sh puts at the end of a results file name (<date>_<rev>.jsonl), if any."""
    stem = os.path.basename(path).rsplit(".", 1)[0]
    tail = stem.rsplit("_", 1)[-1] if "_" in stem else ""
    return tail if re.fullmatch(r"[0-9a-f]{7,40}(-dirty)?", tail) and not tail.isdigit() else "unrecorded"


def load(paths):
    recs = []
    for path in paths:
        rev = rev_from_name(path)
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line:
                    r = json.loads(line)
                    r["run"] = (path, r.get("round", 0))
                    r.setdefault("rev", rev)
                    recs.append(r)
    return recs


def value(r):
    """The number a micro row is compared on: ms for timers (the budget is a total), else ns/op."""
    return r["seconds"] * 1e3 if r["test"] == "timers" else r["ns_per_op"]


def fmt(x):
    if x is None:
        return ""
    if x >= 100:
        return f"{x:,.0f}"
    if x >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def spread(xs):
    return f"{fmt(min(xs))}..{fmt(max(xs))}"


def per_round(recs, key_a, key_b, metric):
    """Ratios metric(a)/metric(b) for every run (file, round) holding both; one per round."""
    by_run = collections.defaultdict(dict)
    for r in recs:
        k = key_of(r)
        if k in (key_a, key_b):
            by_run[r["run"]][k] = metric(r)
    out = []
    for run in sorted(by_run):
        d = by_run[run]
        if key_a in d and key_b in d and d[key_b]:
            out.append(d[key_a] / d[key_b])
    return out


def key_of(r):
    if r["test"] == "echo":
        return (r["impl"], "echo", r.get("conns"))
    return (r["impl"], r["test"])


def micro_section(recs):
    micro = [r for r in recs if r["test"] != "echo"]
    if not micro:
        return
    groups = collections.defaultdict(list)
    for r in micro:
        groups[key_of(r)].append(value(r))
    runs = max(len(v) for v in groups.values())
    print(f"### Micro-workloads: median (min..max) over up to {runs} runs, pinned to one CPU\n")
    print("| workload | unit | " + " | ".join(MICRO_IMPLS) + " |")
    print("|---|---|" + "---|" * len(MICRO_IMPLS))
    for test, unit, what in MICRO_TESTS:
        cells = []
        for impl in MICRO_IMPLS:
            xs = groups.get((impl, test))
            cells.append(f"**{fmt(statistics.median(xs))}** ({spread(xs)})" if xs else "–")
        if any(c != "–" for c in cells):
            print(f"| {test}: {what} | {unit} | " + " | ".join(cells) + " |")
    print()
    print("Node's loop always polls (it has descriptors of its own), so its chain already pays for a")
    print("poll per hop, as asyncio's does (its self-pipe). Timers are total milliseconds for 100k.\n")

    print("### Micro-workloads: how many times faster loopbook is (peer time / loopbook time, per round)\n")
    print("| workload | " + " | ".join(f"vs {p}" for p in MICRO_IMPLS[1:]) + " |")
    print("|---|" + "---|" * (len(MICRO_IMPLS) - 1))
    for test, _, _ in MICRO_TESTS:
        cells = []
        for peer in MICRO_IMPLS[1:]:
            peer_test = test
            if peer == "node" and test == "chain-fd":
                peer_test = "chain-nofd"  # Node's plain chain already polls every iteration
            rs = per_round(micro, (peer, peer_test), ("loopbook", test), value)
            cells.append(f"**{statistics.median(rs):.2f}×** ({min(rs):.2f}..{max(rs):.2f})" if rs else "–")
        if any(c != "–" for c in cells):
            print(f"| {test} | " + " | ".join(cells) + " |")
    print()


def echo_section(recs):
    echo = [r for r in recs if r["test"] == "echo"]
    for conns in sorted({r["conns"] for r in echo}, reverse=True):
        rows = [r for r in echo if r["conns"] == conns]
        size = rows[0].get("size", 64)
        secs = statistics.median(r["seconds"] for r in rows)
        print(f"### Echo: {conns} connection(s) × {size} B ping-pong, {secs:g} s measured; server CPU 0, client CPU 1\n")
        bases = [b for b in ECHO_BASES if any(r["impl"] == b for r in rows)]
        print("| server | runs | median req/s | min..max req/s | " + " | ".join(f"÷ {b} (per round)" for b in bases)
              + " | p50 / p99 RTT µs (median) | server CPU µs/req: user + sys (median) |")
        print("|---|---|---|---|" + "---|" * len(bases) + "---|---|")
        impls = [i for i in ECHO_IMPLS if any(r["impl"] == i for r in rows)]
        impls += sorted({r["impl"] for r in rows} - set(impls))
        for impl in impls:
            mine = [r for r in rows if r["impl"] == impl]
            rps = [r["req_per_s"] for r in mine]
            ratios = []
            for base in bases:
                rs = per_round(rows, (impl, "echo", conns), (base, "echo", conns), lambda r: r["req_per_s"])
                ratios.append(f"{statistics.median(rs):.2f} ({min(rs):.2f}..{max(rs):.2f})" if rs else "–")
            p50 = statistics.median(r["p50_us"] for r in mine)
            p99 = statistics.median(r["p99_us"] for r in mine)
            cpu = "–"
            withcpu = [r for r in mine if "server_user" in r and r["req_per_s"] > 0]
            if withcpu:
                us = statistics.median(r["server_user"] / r["req_per_s"] * 1e6 for r in withcpu)
                sy = statistics.median(r["server_sys"] / r["req_per_s"] * 1e6 for r in withcpu)
                cpu = f"{us:.2f} + {sy:.2f} = {us + sy:.2f}"
            print(f"| {impl} | {len(mine)} | {fmt(statistics.median(rps))} | {spread(rps)} | " + " | ".join(ratios)
                  + f" | {p50:.0f} / {p99:.0f} | {cpu} |")
        print()
        if any("server_user" in r for r in rows):
            print("Server CPU per request is the server process's user and system CPU time over the client's")
            print("run (warm-up included) per second, divided by req/s: what one request costs the server,")
            print("which other work on the machine disturbs less than throughput. Time the kernel spends on")
            print("loopback traffic in softirq context on behalf of the server counts as its system time.\n")


def targets_section(recs):
    """The issue's goals, each checked on the median of per-round ratios (or the median value)."""
    rows = []

    def ratio_target(goal, a, b, metric, need, explain):
        rs = per_round(recs, a, b, metric)
        if not rs:
            rows.append((goal, "not measured", explain.format(need=need), "–"))
            return
        m = statistics.median(rs)
        status = "**met**" if m >= need else "**missed**"
        rows.append((goal, f"{m:.2f}× ({min(rs):.2f}..{max(rs):.2f})", explain.format(need=need), status))

    ns = lambda r: r["ns_per_op"]
    ms = lambda r: r["seconds"]
    rps = lambda r: r["req_per_s"]
    ratio_target("chain per hop, an fd watched: ≤ 1/1.5 of uvloop's", ("uvloop", "chain-fd"), ("loopbook", "chain-fd"),
                 ns, 1.5, "uvloop ÷ loopbook ns/hop, both with an idle fd watched; need ≥ {need}")
    ratio_target("chain per hop, nothing watched: ≤ 1/5 of uvloop's", ("uvloop", "chain-nofd"), ("loopbook", "chain-nofd"),
                 ns, 5, "uvloop ÷ loopbook ns/hop, plain chains; need ≥ {need}")
    ratio_target("100k timers total: ≤ 1/4 of uvloop's", ("uvloop", "timers"), ("loopbook", "timers"),
                 ms, 4, "uvloop ÷ loopbook total time; need ≥ {need}")
    for c in sorted({r["conns"] for r in recs if r["test"] == "echo"}, reverse=True):
        # The issue states the echo targets for 50 connections; other counts are shown beside them.
        extra = "" if c == 50 else "(additional) "
        ratio_target(f"{extra}echo ({c} conns) ≥ uvloop Protocol server", ("loopbook", "echo", c), ("uvloop-proto", "echo", c),
                     rps, 1.0, "loopbook ÷ uvloop-proto req/s; need ≥ {need}")
        ratio_target(f"{extra}echo ({c} conns) ≥ 0.95× Go net", ("loopbook", "echo", c), ("go-net", "echo", c),
                     rps, 0.95, "loopbook ÷ go-net req/s; need ≥ {need}")
        # Not one of the targets: the like-for-like comparison, uvloop running the same
        # coroutine design, for reading the Protocol target against (runs before it had none).
        if any(r["impl"] == "uvloop-sock" for r in recs):
            ratio_target(f"(additional) echo ({c} conns) ≥ uvloop running the same coroutine server", ("loopbook", "echo", c),
                         ("uvloop-sock", "echo", c), rps, 1.0,
                         "loopbook ÷ uvloop-sock req/s (a task per connection on sock_recv_into + sock_sendall); need ≥ {need}")
    # The budget is for a suspend and resume through the loop, bookkeeping included
    # (eventloops.md §9.3: "a compiled task suspend/resume ... including the loop bookkeeping"),
    # which is what await-sleep0 does. Ping-pong also creates and resolves a future every hop.
    s0 = [r["ns_per_op"] for r in recs if r["impl"] == "loopbook" and r["test"] == "await-sleep0"]
    if s0:
        m = statistics.median(s0)
        rows.append(("compiled await/resume ≤ 150 ns", f"{m:.0f} ns/hop ({spread(s0)})",
                     "await-sleep0 median: a task suspends, the loop runs an iteration, the task resumes",
                     "**met**" if m <= 150 else "**missed**"))
    aw = [r["ns_per_op"] for r in recs if r["impl"] == "loopbook" and r["test"] == "await-pingpong"]
    if aw:
        m = statistics.median(aw)
        rows.append(("(additional) await of a future made and resolved every hop", f"{m:.0f} ns/hop ({spread(aw)})",
                     "await-pingpong median: CreateFuture, SetResult, await and resume per hop", "(info)"))
    # Additional figures, beside the budgeted single-pair and single-task ones above, never
    # instead of them: with 100 tasks ready per iteration, the iteration's cost is shared.
    for test, what in (("await-pingpong-100", "await-pingpong with 50 pairs at once"),
                       ("await-sleep0-100", "await-sleep0 with 100 tasks at once")):
        ms = [r["ns_per_op"] for r in recs if r["impl"] == "loopbook" and r["test"] == test]
        if ms:
            m = statistics.median(ms)
            rows.append((f"(additional) per await, 100 tasks: {test}", f"{m:.0f} ns/hop ({spread(ms)})",
                         f"{what}; iteration overhead amortised, not the budgeted figure", "(info)"))
    if not rows:
        return
    print("### Targets from the issue\n")
    print("| target | measured (median of per-round ratios, min..max) | how it is checked | status |")
    print("|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    print()


def other_cpu_section(recs):
    """How much the rest of the machine ran during the measurements (run.sh's other_cpu, steal)."""
    rows = []
    for suite in ("micro", "echo"):
        rs = [r for r in recs if r.get("suite") == suite and "other_cpu" in r]
        if not rs:
            continue
        other = [r["other_cpu"] for r in rs]
        steal = [r.get("steal", 0) for r in rs]
        busy = sum(1 for x in other if x > 0.1)
        rows.append(f"| {suite} | {len(rs)} | {statistics.median(other):.2f} | {max(other):.2f} | {busy} | "
                    f"{statistics.median(steal):.2f} | {max(steal):.2f} |")
    if not rows:
        return
    print("### Other work on the machine during the runs\n")
    print("CPU-seconds per second used by processes other than the benchmark (and its echo server), and the")
    print("share of time the hypervisor stole; a quiet machine shows about 0 in both.\n")
    print("| suite | runs | other CPU median | other CPU max | runs with > 0.1 | steal median | steal max |")
    print("|---|---|---|---|---|---|---|")
    for row in rows:
        print(row)
    print()


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    recs = load(sys.argv[1:])
    revs = sorted({r.get("rev", "unrecorded") for r in recs})
    rounds = len({r["run"] for r in recs})
    print(f"Loop revision(s): {', '.join(revs)}; {rounds} round(s) from {len(sys.argv) - 1} file(s).\n")
    if len(revs) > 1:
        print("**Warning:** these results pool different loop revisions; summarise one revision at a time.\n")
    other_cpu_section(recs)
    targets_section(recs)
    micro_section(recs)
    echo_section(recs)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Summarise bench/kernel.sh results as Markdown tables.

Usage: summarise_kernel.py RESULTS.jsonl [MORE.jsonl ...]

Medians (min..max) are taken over the runs (one per round) of each side; ratios are taken within a
round (the same file and round number) and the median of the per-round ratios is reported, as in
bench/summarise.py.
"""

import collections
import json
import statistics
import sys

MB = 1024  # kB per MiB: the memory target is read as 25 MiB


def load(paths):
    recs = []
    for path in paths:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line:
                    r = json.loads(line)
                    r["run"] = (path, r.get("round", 0))
                    recs.append(r)
    return recs


def fmt(x):
    if x is None:
        return "–"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def key(r):
    """(impl, test) with the compiled Go reference told apart from the interpreted cells."""
    impl = r["impl"]
    if r.get("suite") == "micro" and impl == "loopbook":
        impl = "loopbook-compiled"
    return impl, r["test"]


class Data:
    def __init__(self, recs):
        self.by = collections.defaultdict(list)  # (impl, test) → records
        for r in recs:
            self.by[key(r)].append(r)

    def values(self, impl, test, field):
        return [r[field] for r in self.by.get((impl, test), []) if r.get(field) is not None]

    def med(self, impl, test, field):
        xs = self.values(impl, test, field)
        if not xs:
            return None, "–"
        return statistics.median(xs), f"{fmt(min(xs))}..{fmt(max(xs))}"

    def ratios(self, a, b, field_a, field_b=None):
        """Per-round a[field_a] / b[field_b]; a and b are (impl, test)."""
        field_b = field_b or field_a
        va = {r["run"]: r.get(field_a) for r in self.by.get(a, [])}
        vb = {r["run"]: r.get(field_b) for r in self.by.get(b, [])}
        return [va[k] / vb[k] for k in va if k in vb and va[k] and vb[k]]


def ratio_text(xs):
    if not xs:
        return None, "–"
    m = statistics.median(xs)
    return m, f"**{fmt(m)}×** ({fmt(min(xs))}..{fmt(max(xs))})"


def cell(d, impl, test, field):
    m, sp = d.med(impl, test, field)
    return "–" if m is None else f"**{fmt(m)}** ({sp})"


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    recs = load(sys.argv[1:])
    d = Data(recs)
    rounds = len({r["run"] for r in recs})
    revs = sorted({r.get("rev", "?") for r in recs})
    print(f"Revision(s): {', '.join(revs)}; {rounds} round(s).\n")

    # Noise.
    print("### Other work on the machine during the runs\n")
    print("CPU-seconds per second used by other processes (the benchmark, its kernels and children excluded),")
    print("and the share of time the hypervisor stole; a quiet machine shows about 0.\n")
    print("| suite | runs | other CPU median | other CPU max | runs with > 0.1 | steal max |")
    print("|---|---|---|---|---|---|")
    suites = collections.defaultdict(dict)
    for r in recs:  # one run may print several lines: count it once
        suites[r.get("suite", "?")][(r["run"], r["impl"], r.get("other_cpu"))] = r
    for s, runs in suites.items():
        o = [r.get("other_cpu", 0) for r in runs.values()]
        st = [r.get("steal", 0) for r in runs.values()]
        print(f"| {s} | {len(o)} | {fmt(statistics.median(o))} | {fmt(max(o))} | "
              f"{sum(1 for x in o if x > 0.1)} | {fmt(max(st))} |")
    print()

    # Targets.
    start = ratio_text(d.ratios(("ipykernel", "start"), ("loopbook", "start"), "p50_ms"))
    rt = ratio_text(d.ratios(("loopbook", "roundtrip"), ("ipykernel", "roundtrip"), "reply_p50_us"))
    rt99 = ratio_text(d.ratios(("loopbook", "roundtrip"), ("ipykernel", "roundtrip"), "reply_p99_us"))
    chain = ratio_text(d.ratios(("loopbook", "cell-chain"), ("asyncio", "chain-nofd"), "ns_per_op"))
    sleep0 = ratio_text(d.ratios(("loopbook", "cell-sleep0"), ("asyncio", "await-sleep0"), "ns_per_op"))
    rss, rss_sp = d.med("loopbook", "memory", "rss_kb")
    pss, pss_sp = d.med("loopbook", "memory", "pss_kb")

    def status(ok):
        return "–" if ok is None else ("**met**" if ok else "**missed**")

    print("### Targets from the issue\n")
    print("| target | measured (median of per-round ratios, min..max) | how it is checked | status |")
    print("|---|---|---|---|")
    print(f"| kernel start → first output ≥ 10× faster than ipykernel | {start[1]} | "
          f"ipykernel ÷ loopbook, each the median of its round's starts; need ≥ 10 | "
          f"{status(None if start[0] is None else start[0] >= 10)} |")
    print(f"| trivial cell round trip ≤ ½ of ipykernel's (p50) | {rt[1]} | "
          f"loopbook ÷ ipykernel, request → reply p50 on a warm kernel; need ≤ 0.5 | "
          f"{status(None if rt[0] is None else rt[0] <= 0.5)} |")
    print(f"| (the same, p99, reported only) | {rt99[1]} | loopbook ÷ ipykernel, request → reply p99 | – |")
    print(f"| interpreted CallSoon chain per hop < CPython asyncio's | {chain[1]} | "
          f"loopbook cell ÷ asyncio chain-nofd ns/hop; need < 1 | "
          f"{status(None if chain[0] is None else chain[0] < 1)} |")
    print(f"| interpreted await loop per hop < CPython asyncio's | {sleep0[1]} | "
          f"loopbook cell co.Sleep(0) ÷ asyncio sleep(0) ns/hop; need < 1 | "
          f"{status(None if sleep0[0] is None else sleep0[0] < 1)} |")
    mem = "–" if rss is None else f"RSS **{fmt(rss / MB)} MiB** ({rss_sp} kB), PSS **{fmt(pss / MB)} MiB** ({pss_sp} kB)"
    print(f"| idle kernel ≤ 25 MB | {mem} | VmRSS after start, one trivial cell, 2 s idle; need ≤ 25 MiB | "
          f"{status(None if rss is None else rss <= 25 * MB)} |")
    print()

    # Start.
    print("### Kernel start → first output (ms; per round the median of its starts, then median (min..max) over rounds)\n")
    print("| kernel | start → first stream output | start → ready (idle / kernel_info answered) | all starts pooled: median, max |")
    print("|---|---|---|---|")
    for impl in ("loopbook", "ipykernel"):
        rs = d.by.get((impl, "start"), [])
        if not rs:
            continue
        ready = [statistics.median(r["ready_ms"]) for r in rs]
        pooled = [x for r in rs for x in r["samples_ms"]]
        print(f"| {impl} | {cell(d, impl, 'start', 'p50_ms')} | **{fmt(statistics.median(ready))}** "
              f"({fmt(min(ready))}..{fmt(max(ready))}) | {fmt(statistics.median(pooled))}, {fmt(max(pooled))} |")
    print()

    # Round trip.
    print("### Trivial cell on a warm kernel (µs from sending the request; median (min..max) over rounds)\n")
    print("| kernel / client | → output p50 | → output p99 | → reply p50 | → reply p99 | → idle p50 | → idle p99 |")
    print("|---|---|---|---|---|---|---|")
    for impl in ("loopbook", "ipykernel", "ipykernel-jc"):
        if (impl, "roundtrip") not in d.by:
            continue
        cols = [cell(d, impl, "roundtrip", f) for f in
                ("output_p50_us", "output_p99_us", "reply_p50_us", "reply_p99_us", "idle_p50_us", "idle_p99_us")]
        print(f"| {impl} | " + " | ".join(cols) + " |")
    out = ratio_text(d.ratios(("loopbook", "roundtrip"), ("ipykernel", "roundtrip"), "output_p50_us"))
    print(f"\nloopbook ÷ ipykernel per round: → output p50 {out[1]}, → reply p50 {rt[1]}, → reply p99 {rt99[1]}.\n")

    # Loop workloads.
    print("### Loop workloads, ns per hop, pinned to one CPU (median (min..max) over rounds)\n")
    print("| workload | loopbook cell (interpreted) | loopbook compiled | asyncio | uvloop | ipykernel cell (asyncio) |")
    print("|---|---|---|---|---|---|")
    rows = [
        ("1M CallSoon chain", "cell-chain", "chain-nofd", "cell-chain"),
        ("await loop: co.Sleep(0) / asyncio.sleep(0)", "cell-sleep0", "await-sleep0", "cell-sleep0"),
        ("await loop: already-done future (no suspension)", "cell-await-done", None, None),
        ("await loop: fresh future resolved by CallSoon", "cell-await-soon", None, None),
    ]
    for name, cell_t, peer_t, ipy_t in rows:
        cols = [cell(d, "loopbook", cell_t, "ns_per_op")]
        for impl in ("loopbook-compiled", "asyncio", "uvloop"):
            cols.append(cell(d, impl, peer_t, "ns_per_op") if peer_t else "–")
        cols.append(cell(d, "ipykernel", ipy_t, "ns_per_op") if ipy_t else "–")
        print(f"| {name} | " + " | ".join(cols) + " |")
    print()
    print("| workload | loopbook cell ÷ asyncio | loopbook cell ÷ uvloop | loopbook cell ÷ ipykernel cell | loopbook cell ÷ compiled |")
    print("|---|---|---|---|---|")
    for name, cell_t, peer_t, ipy_t in rows[:2]:
        cols = [ratio_text(d.ratios(("loopbook", cell_t), (impl, peer_t), "ns_per_op"))[1]
                for impl in ("asyncio", "uvloop")]
        cols.append(ratio_text(d.ratios(("loopbook", cell_t), ("ipykernel", ipy_t), "ns_per_op"))[1])
        cols.append(ratio_text(d.ratios(("loopbook", cell_t), ("loopbook-compiled", peer_t), "ns_per_op"))[1])
        print(f"| {name} | " + " | ".join(cols) + " |")
    print()

    # Memory.
    print("### Idle kernel memory after start and one trivial cell (MiB; median (min..max) over rounds)\n")
    print("| kernel | VmRSS | Pss | VmHWM (peak RSS) |")
    print("|---|---|---|---|")
    for impl in ("loopbook", "ipykernel"):
        if (impl, "memory") not in d.by:
            continue
        cols = []
        for f in ("rss_kb", "pss_kb", "hwm_kb"):
            xs = [x / MB for x in d.values(impl, "memory", f)]
            cols.append(f"**{fmt(statistics.median(xs))}** ({fmt(min(xs))}..{fmt(max(xs))})")
        print(f"| {impl} | " + " | ".join(cols) + " |")


if __name__ == "__main__":
    main()

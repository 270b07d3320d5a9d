#!/usr/bin/env bash
# What the loop panel costs the kernel (issue 5 §5): loop throughput with the kernel's loop
# monitor on against off, and the kernel's and server's memory over runs of 1M callbacks, with
# a real server forwarding every frame to a connected websocket client. See
# bench/panelbench/cost/main.go for the workloads. LOOPBOOK_MONITOR=off turns the monitor off; it
# exists for this measurement only.
#
# Run it alone on the machine: flock /tmp/loopbook-bench.lock bench/panel-cost.sh
#
# Environment:
#   ROUNDS=5       rounds (each: monitor on and off, order alternating)
#   N=1000000      callbacks per workload
#   RATE=100000    callbacks per second of the paced workload
#   REPS=3         runs of chain and burst per session (their median counts)
#   OUT=path.md    the summary (default bench/results/panel-cost-<date>.md; raw lines beside it, .jsonl)
#   LOOPBOOK=path  a loopbook binary to measure (default: built from this tree)
#   DIRECT=1       no server: drive kernels through package kernel (the monitor's own cost)
#   REV=name       the revision to record (default: git describe --always --dirty)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
ROUNDS=${ROUNDS:-5} N=${N:-1000000} RATE=${RATE:-100000} REPS=${REPS:-3}
REV=${REV:-$(git -C "$root" describe --always --dirty 2>/dev/null || echo unknown)}
mkdir -p "$here/results"
mode=() name=panel-cost
if [[ -n "${DIRECT:-}" ]]; then
	mode=(-direct) name=panel-cost-direct
fi
OUT=${OUT:-$here/results/$name-$(date +%Y-%m-%d_%H%M%S).md}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "building panelbench/cost..." >&2
(cd "$root" && go build -o "$tmp/cost" ./bench/panelbench/cost)
if [ -z "${LOOPBOOK:-}" ]; then
	echo "building loopbook..." >&2
	(cd "$root" && go build -o "$tmp/loopbook" .)
	LOOPBOOK=$tmp/loopbook
fi
echo "measuring $LOOPBOOK" >&2
"$tmp/cost" -bin "$LOOPBOOK" "${mode[@]}" -rounds "$ROUNDS" -reps "$REPS" -n "$N" -rate "$RATE" -jsonl "${OUT%.md}.jsonl" -md "$tmp/summary.md" >/dev/null
{
	echo "# The loop panel's cost: monitor on vs off${DIRECT:+ (kernels driven directly, no server; the \"server\" columns are the benchmark itself)}"
	echo
	echo "Revision $REV; $(date -u +%Y-%m-%dT%H:%M:%SZ); $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')); $(go version | cut -d' ' -f3)."
	echo "Command: \`flock /tmp/loopbook-bench.lock bench/panel-cost.sh\` (ROUNDS=$ROUNDS REPS=$REPS N=$N RATE=$RATE${DIRECT:+ DIRECT=1})."
	echo
	cat "$tmp/summary.md"
} >"$OUT"
echo "wrote $OUT" >&2

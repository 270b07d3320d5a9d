#!/usr/bin/env bash
# Kernel benchmarks: loopbook's kernel (bench/kernelbench) against Jupyter's ipykernel
# (bench/peers/ipykernel_bench.py), and interpreted loop workloads against asyncio and uvloop
# (bench/peers/micro.py), interleaved, then a Markdown table of medians and per-round ratios
# (bench/summarise_kernel.py).
#
# Every round runs every workload for every side, alternating which side goes first, so drift
# of the host hits both alike and a ratio can be taken within a round. Kernel start, round trip
# and memory run unpinned (both kernels are multi-threaded, as in use); the loop workloads
# (interpreted cells, asyncio/uvloop chains, the compiled Go chain) run pinned to CPU 0, as
# bench/run.sh pins its micro-workloads (the kernel process inherits the pinning: GOMAXPROCS=1).
#
# Environment:
#   REPS=5          rounds (QUICK=1: 1 round unless REPS is set, smaller counts)
#   SUITES="start roundtrip memory cells"   the kernel suites to run (the loop peers always run)
#   PY=/usr/bin/python3   Debian's python, where python3-ipykernel, -jupyter-client, -uvloop import
#   OUT=path.jsonl  raw lines (default bench/results/kernel-<date>.jsonl; the table goes beside it, .md)
#   REV=name        the revision to record (default: git describe --always --dirty)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
PY=${PY:-/usr/bin/python3}

if [[ -n "${QUICK:-}" ]]; then
	REPS=${REPS:-1}
	N_START=3 N_RT=200 N_CHAIN=100000 N_AWAIT=20000
else
	REPS=${REPS:-5}
	N_START=10 N_RT=1000 N_CHAIN=1000000 N_AWAIT=100000
fi
REV=${REV:-$(git -C "$root" describe --always --dirty 2>/dev/null || echo unknown)}

mkdir -p "$here/results"
OUT=${OUT:-$here/results/kernel-$(date +%Y-%m-%d_%H%M%S).jsonl}
: >"$OUT"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "building loopbook, kernelbench, loopbench..." >&2
(cd "$root" && go build -o "$tmp/loopbook" . && go build -o "$tmp/kernelbench" ./bench/kernelbench &&
	go build -o "$tmp/loopbench" ./bench/loopbench)
KB=("$tmp/kernelbench" -kernel "$tmp/loopbook")
IPB=("$PY" "$here/peers/ipykernel_bench.py")
"$PY" -c 'import ipykernel, jupyter_client, uvloop' || {
	echo "need Debian's python3-ipykernel python3-jupyter-client python3-uvloop for $PY" >&2
	exit 1
}

pin0=()
if command -v taskset >/dev/null && [[ $(nproc) -ge 2 ]]; then
	pin0=(taskset -c 0)
else
	echo "warning: loop workloads run unpinned (no taskset or fewer than 2 CPUs)" >&2
fi

# busy: user+nice+system and steal clock ticks of the whole machine so far.
busy() {
	local _ user nice system idle iowait irq softirq steal
	read -r _ user nice system idle iowait irq softirq steal _ </proc/stat
	echo "$((user + nice + system)) $steal"
}

# record ROUND SUITE CMD...: run CMD, append each JSON line it prints, tagged with the round and
# with the CPU-seconds per second the rest of the machine used meanwhile ("other_cpu": the
# machine's busy time less the command's own and its children's, the kernel included) and the
# share of time the hypervisor stole.
record() {
	local round=$1 suite=$2
	shift 2
	local b0 s0 b1 s1 t0 t1 mine other steal line
	read -r b0 s0 < <(busy)
	t0=$EPOCHREALTIME
	local TIMEFORMAT='%U %S'
	if ! { time "$@" >"$tmp/out" 2>"$tmp/err"; } 2>"$tmp/time"; then
		echo "FAILED: $*" >&2
		tail -n 20 "$tmp/err" >&2
		return 0
	fi
	t1=$EPOCHREALTIME
	read -r b1 s1 < <(busy)
	mine=$(awk '{print $1 + $2}' "$tmp/time")
	read -r other steal < <(awk -v b="$((b1 - b0))" -v s="$((s1 - s0))" -v hz="$(getconf CLK_TCK)" \
		-v mine="$mine" -v t0="$t0" -v t1="$t1" 'BEGIN {
			wall = t1 - t0; if (wall <= 0) wall = 1e-9
			o = b / hz - mine; if (o < 0) o = 0
			printf "%.3f %.3f\n", o / wall, s / hz / wall }')
	while IFS= read -r line; do
		[[ "$line" == "{"*"}" ]] || continue
		line="${line%\}}, \"round\": $round, \"suite\": \"$suite\", \"rev\": \"$REV\", \"other_cpu\": $other, \"steal\": $steal}"
		echo "$line" >>"$OUT"
		echo "  $line" >&2
	done <"$tmp/out"
}

# side NAME SUITE: the command for one side of one suite, in cmd.
side() {
	case "$1:$2" in
	loopbook:start) cmd=("${KB[@]}" start "$N_START") ;;
	ipykernel:start) cmd=("${IPB[@]}" start "$N_START") ;;
	loopbook:roundtrip) cmd=("${KB[@]}" roundtrip "$N_RT") ;;
	ipykernel:roundtrip) cmd=("${IPB[@]}" roundtrip "$N_RT") ;;
	loopbook:memory) cmd=("${KB[@]}" memory) ;;
	ipykernel:memory) cmd=("${IPB[@]}" memory 2) ;;
	loopbook:cells) cmd=("${pin0[@]}" "${KB[@]}" cells "$N_CHAIN" "$N_AWAIT") ;;
	ipykernel:cells) cmd=("${pin0[@]}" "${IPB[@]}" cells "$N_CHAIN" "$N_AWAIT") ;;
	esac
}

cmd=()
for ((r = 1; r <= REPS; r++)); do
	if ((r % 2)); then order=(loopbook ipykernel); else order=(ipykernel loopbook); fi
	for suite in ${SUITES:-start roundtrip memory cells}; do
		echo "round $r/$REPS: $suite" >&2
		for s in "${order[@]}"; do
			side "$s" "$suite"
			record "$r" "$suite" "${cmd[@]}"
		done
	done
	# The loop's peers and the compiled Go reference, on the same workloads as the cells.
	echo "round $r/$REPS: micro" >&2
	for impl in asyncio uvloop; do
		record "$r" micro "${pin0[@]}" "$PY" "$here/peers/micro.py" "$impl" chain "$N_CHAIN" nofd
		record "$r" micro "${pin0[@]}" "$PY" "$here/peers/micro.py" "$impl" await "$N_AWAIT" sleep0
	done
	record "$r" micro "${pin0[@]}" "$tmp/loopbench" chain "$N_CHAIN" nofd
	record "$r" micro "${pin0[@]}" "$tmp/loopbench" await "$N_AWAIT" sleep0
done

echo "raw results: $OUT" >&2
"$PY" "$here/summarise_kernel.py" "$OUT" | tee "${OUT%.jsonl}.md"

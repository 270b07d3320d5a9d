#!/usr/bin/env bash
# Runs the loop benchmarks against asyncio, uvloop, Node and Go's net, interleaved, and prints
# Markdown tables of medians and per-round ratios (bench/summarise.py). See BENCHMARKS.md.
#
# Every round runs every workload for every implementation, rotating the order of the
# implementations from round to round, so slow drift of the host hits all of them alike and a
# ratio can be taken within a round. Micro-workloads run pinned to CPU 0; echo servers run on
# CPU 0 and the client on CPU 1 (when taskset exists and the machine has two CPUs).
#
# Environment:
#   REPS=5             rounds
#   QUICK=1            smoke check: 1 round, smaller counts, short echo windows
#   ONLY=micro|echo    run one half only
#   ECHO_CONNS="50 1"  connection counts for the echo runs
#   ECHO_IMPLS="loopbook go-net ..."  echo servers to run (default: all of echo_server's)
#   ECHO_WARM=1s ECHO_DUR=5s   echo warm-up and measured window per run
#   PY=/usr/bin/python3 (Debian's, where python3-uvloop imports)   NODE=node
#   OUT=path.jsonl     where to write the raw lines (default bench/results/<date>_<rev>.jsonl)
#   REV=name           the revision to record (default: git describe --always --dirty)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
PY=${PY:-/usr/bin/python3}
NODE=${NODE:-node}
ONLY=${ONLY:-}

if [[ -n "${QUICK:-}" ]]; then
	REPS=${REPS:-1}
	N_CHAIN=100000 N_BURST=100000 N_AWAIT=50000 N_TASKS=20000
	ECHO_CONNS=${ECHO_CONNS:-50} ECHO_WARM=${ECHO_WARM:-300ms} ECHO_DUR=${ECHO_DUR:-1s}
else
	REPS=${REPS:-5}
	N_CHAIN=1000000 N_BURST=1000000 N_AWAIT=200000 N_TASKS=200000
	ECHO_CONNS=${ECHO_CONNS:-50 1} ECHO_WARM=${ECHO_WARM:-1s} ECHO_DUR=${ECHO_DUR:-5s}
fi
# The budget is stated for 100k timers, so the count stays the same in quick mode.
N_TIMERS=100000

# The loop revision measured goes into every line and the file name; "-dirty" means uncommitted
# changes were built too. REV overrides it (e.g. when running from an exported tree without .git).
REV=${REV:-$(git -C "$root" describe --always --dirty 2>/dev/null || echo unknown)}

mkdir -p "$here/results"
OUT=${OUT:-$here/results/$(date +%Y-%m-%d_%H%M%S)_$REV.jsonl}
: >"$OUT"

tmp=$(mktemp -d)
server_pid=
cleanup() {
	if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT

echo "building loopbench..." >&2
(cd "$root" && go build -o "$tmp/loopbench" ./bench/loopbench)
LB=$tmp/loopbench

# Pinning: one CPU for micro-workloads (it also gives Go GOMAXPROCS=1), separate CPUs for the echo
# server and client so the client does not steal the server's CPU.
pin0=() pin1=()
if command -v taskset >/dev/null && [[ $(nproc) -ge 2 ]]; then
	pin0=(taskset -c 0) pin1=(taskset -c 1)
else
	echo "warning: running unpinned (no taskset or fewer than 2 CPUs)" >&2
fi

# cpu_ticks: "busy steal" clock ticks of the whole machine so far (user+nice+system; steal is time
# the hypervisor gave our vCPUs to someone else). Interrupt and softirq time are left out: the
# echo benchmark's own loopback traffic lands there.
cpu_ticks() {
	local _ user nice system idle iowait irq softirq steal
	read -r _ user nice system idle iowait irq softirq steal _ </proc/stat
	echo "$((user + nice + system)) $steal"
}

# proc_ticks PID: user and system clock ticks of a running process.
proc_ticks() {
	local f
	read -r -a f <"/proc/$1/stat" 2>/dev/null || { echo "0 0"; return; }
	echo "${f[13]} ${f[14]}"
}

# record ROUND SUITE CMD...: run a workload and append its JSON line, tagged with the round and
# with how much CPU the rest of the machine used meanwhile. Other work on these two CPUs (a build,
# someone's tests) skews a run; "other_cpu" is the CPU-seconds per second used by processes other
# than the benchmark (and its echo server, if one runs), "steal" the share the hypervisor took.
# With an echo server running, "server_user" and "server_sys" are the server's own user and
# system CPU-seconds per second of the run: divided by req/s they give its CPU time per request,
# which other work on the machine disturbs far less than it disturbs req/s.
record() {
	local round=$1 suite=$2
	shift 2
	local line b0 s0 b1 s1 p0=0 p1=0 t0 t1 mine su0=0 ss0=0 su1=0 ss1=0
	read -r b0 s0 < <(cpu_ticks)
	if [[ -n "$server_pid" ]]; then
		read -r su0 ss0 < <(proc_ticks "$server_pid")
		p0=$((su0 + ss0))
	fi
	t0=$EPOCHREALTIME
	local TIMEFORMAT='%U %S'
	if ! { time "$@" >"$tmp/out" 2>"$tmp/err"; } 2>"$tmp/time"; then
		echo "FAILED: $*" >&2
		cat "$tmp/err" >&2
		return 0
	fi
	t1=$EPOCHREALTIME
	if [[ -n "$server_pid" ]]; then
		read -r su1 ss1 < <(proc_ticks "$server_pid")
		p1=$((su1 + ss1))
	fi
	read -r b1 s1 < <(cpu_ticks)
	line=$(tail -n 1 "$tmp/out")
	if [[ "$line" != "{"*"}" ]]; then
		echo "no JSON from: $*" >&2
		cat "$tmp/err" >&2
		return 0
	fi
	local hz
	hz=$(getconf CLK_TCK)
	mine=$(awk '{print $1 + $2}' "$tmp/time")
	local other steal
	read -r other steal < <(awk -v b="$((b1 - b0))" -v s="$((s1 - s0))" -v p="$((p1 - p0))" \
		-v hz="$hz" -v mine="$mine" -v t0="$t0" -v t1="$t1" 'BEGIN {
			wall = t1 - t0; if (wall <= 0) wall = 1e-9
			o = (b - p) / hz - mine; if (o < 0) o = 0
			printf "%.3f %.3f\n", o / wall, s / hz / wall }')
	local extra=""
	if [[ -n "$server_pid" ]]; then
		extra=$(awk -v u="$((su1 - su0))" -v s="$((ss1 - ss0))" -v hz="$hz" -v t0="$t0" -v t1="$t1" 'BEGIN {
			wall = t1 - t0; if (wall <= 0) wall = 1e-9
			printf ", \"server_user\": %.4f, \"server_sys\": %.4f", u / hz / wall, s / hz / wall }')
	fi
	line="${line%\}}, \"round\": $round, \"suite\": \"$suite\", \"rev\": \"$REV\", \"other_cpu\": $other, \"steal\": $steal$extra}"
	echo "$line" >>"$OUT"
	echo "  $line" >&2
}

# rotate K ITEMS...: print the items rotated left by K, one per line.
rotate() {
	local k=$1
	shift
	local items=("$@") n=$#
	for ((i = 0; i < n; i++)); do echo "${items[(i + k) % n]}"; done
}

# micro_cmd IMPL TEST sets cmd to the command running TEST on IMPL, or fails when IMPL has no
# such workload (Node has no tasks, only Go has create-task).
micro_cmd() {
	local impl=$1 test=$2
	local -a args
	case "$impl:$test" in
	*:chain-nofd | *:chain-fd) args=(chain "$N_CHAIN" "${test#chain-}") ;;
	*:burst) args=(burst "$N_BURST") ;;
	*:timers) args=(timers "$N_TIMERS") ;;
	*:await-pingpong | *:await-sleep0 | *:await-pingpong-100 | *:await-sleep0-100) args=(await "$N_AWAIT" "${test#await-}") ;;
	loopbook:create-task) args=(tasks "$N_TASKS") ;;
	*) return 1 ;;
	esac
	case "$impl" in
	loopbook) cmd=("${pin0[@]}" "$LB" "${args[@]}") ;;
	asyncio | uvloop) cmd=("${pin0[@]}" "$PY" "$here/peers/micro.py" "$impl" "${args[@]}") ;;
	node)
		# Node's loop always polls (chain-nofd already pays for chain-fd), and it has no tasks.
		case "$test" in
		chain-nofd) args=(chain "$N_CHAIN") ;;
		burst | timers) ;;
		*) return 1 ;;
		esac
		cmd=("${pin0[@]}" "$NODE" "$here/peers/micro.js" "${args[@]}")
		;;
	*) return 1 ;;
	esac
}

micro_impls=(loopbook uvloop asyncio node)
micro_tests=(chain-nofd chain-fd timers await-pingpong await-sleep0 await-pingpong-100 await-sleep0-100 burst create-task)

# -proto: the Protocol API; -sock: Loopbook's own design (a task per connection awaiting
# sock_recv_into and sock_sendall); -streams: start_server's reader and writer (bench/peers/echo.py).
read -r -a echo_impls <<<"${ECHO_IMPLS:-loopbook go-net uvloop-proto uvloop-sock uvloop-streams asyncio-proto asyncio-sock node}"
port=47100
# echo_server IMPL PORT runs in a background subshell; exec makes its pid the server's, to kill.
echo_server() {
	local impl=$1 p=$2
	case "$impl" in
	loopbook) exec "${pin0[@]}" "$LB" serve loop "127.0.0.1:$p" ;;
	go-net) exec "${pin0[@]}" "$LB" serve net "127.0.0.1:$p" ;;
	uvloop-* | asyncio-*) exec "${pin0[@]}" "$PY" "$here/peers/echo.py" "${impl%%-*}" "$p" "${impl#*-}" ;;
	node) exec "${pin0[@]}" "$NODE" "$here/peers/echo.js" "$p" ;;
	esac
}

cmd=()
for ((r = 1; r <= REPS; r++)); do
	if [[ "$ONLY" != echo ]]; then
		echo "round $r/$REPS: micro" >&2
		for test in "${micro_tests[@]}"; do
			for impl in $(rotate $((r - 1)) "${micro_impls[@]}"); do
				micro_cmd "$impl" "$test" || continue
				record "$r" micro "${cmd[@]}"
			done
		done
	fi
	if [[ "$ONLY" != micro ]]; then
		echo "round $r/$REPS: echo" >&2
		for conns in $ECHO_CONNS; do
			for impl in $(rotate $((r - 1)) "${echo_impls[@]}"); do
				port=$((port + 1))
				echo_server "$impl" "$port" 2>>"$tmp/servers.log" &
				server_pid=$!
				record "$r" echo "${pin1[@]}" "$LB" client -addr "127.0.0.1:$port" -c "$conns" \
					-warmup "$ECHO_WARM" -dur "$ECHO_DUR" -label "$impl"
				kill "$server_pid" 2>/dev/null || true
				wait "$server_pid" 2>/dev/null || true
				server_pid=
			done
		done
	fi
done

echo "raw results: $OUT" >&2
"$PY" "$here/summarise.py" "$OUT" | tee "${OUT%.jsonl}.md"

#!/usr/bin/env bash
# The loop panel's browser budget (issue 5 §5): page frames per second while a cell runs 100k
# callbacks/s, and the browser's JavaScript heap (and the server's and kernel's memory) after a
# run of 1M callbacks, panel open against panel collapsed. See bench/panelui/main.go (bench/panel-cost.sh measures the kernel side).
#
# Run it alone on the machine: flock /tmp/loopbook-bench.lock bench/panel.sh
#
# Environment:
#   REPS=3         runs per configuration
#   RATE=100000    callbacks per second
#   TOTAL=1000000  callbacks per run
#   OUT=path.md    the summary (default bench/results/panel-ui-<date>.md; raw lines beside it, .jsonl)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
REPS=${REPS:-3} RATE=${RATE:-100000} TOTAL=${TOTAL:-1000000}
mkdir -p "$here/results"
OUT=${OUT:-$here/results/panel-ui-$(date +%Y-%m-%d_%H%M%S).md}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "building loopbook and panelui..." >&2
(cd "$root" && go build -o "$tmp/loopbook" . && go build -o "$tmp/panelui" ./bench/panelui)
"$tmp/panelui" -kernel "$tmp/loopbook" -reps "$REPS" -rate "$RATE" -total "$TOTAL" -md "$OUT" >"${OUT%.md}.jsonl"
echo "wrote $OUT" >&2

#!/usr/bin/env bash
# UI benchmark: Shift-Enter → Out[n] in the DOM for a trivial cell, in headless Chromium,
# Loopbook's notebook UI and (when Debian's jupyter-notebook is installed) Jupyter Notebook's
# side by side, driven and timed the same way by bench/uibench. Not a test: it prints and
# stores figures, it asserts nothing.
#
# On a shared machine run it under the benchmarks' lock, so that benchmarks do not overlap:
#
#	flock /tmp/loopbook-bench.lock bench/ui.sh
#
# Environment:
#   N=200 runs per side, WARMUP=20, ROUNDS=4 (sides alternate going first in each round)
#   JUPYTER=jupyter-notebook (empty: Loopbook only)   CHROMIUM=chromium
#   LOOPBOOK=path   a loopbook binary to measure (default: built from this tree)
#   OUT=path.jsonl  raw samples (default bench/results/ui-<date>.jsonl; the table goes beside it, .md)
#   REV=name        the revision to record (default: git describe --always --dirty)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
export REV=${REV:-$(git -C "$root" describe --always --dirty 2>/dev/null || echo unknown)}
mkdir -p "$here/results"
OUT=${OUT:-$here/results/ui-$(date +%Y-%m-%d_%H%M%S).jsonl}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "building uibench${LOOPBOOK:+ (measuring $LOOPBOOK)}${LOOPBOOK:- and loopbook}..." >&2
(cd "$root" && go build -o "$tmp/uibench" ./bench/uibench)
if [ -z "${LOOPBOOK:-}" ]; then
	(cd "$root" && go build -o "$tmp/loopbook" .)
	LOOPBOOK=$tmp/loopbook
fi
"$tmp/uibench" -loopbook "$LOOPBOOK" -jupyter "${JUPYTER-jupyter-notebook}" -chromium "${CHROMIUM:-chromium}" \
	-n "${N:-200}" -warmup "${WARMUP:-20}" -rounds "${ROUNDS:-4}" -out "$OUT"
{
	echo
	echo "Revision: $REV. Command: \`bench/ui.sh\` (N=${N:-200} WARMUP=${WARMUP:-20} ROUNDS=${ROUNDS:-4}); raw samples: \`$(basename "$OUT")\`."
} >>"${OUT%.jsonl}.md"
echo "wrote ${OUT%.jsonl}.md" >&2

#!/bin/sh
# Rebuilds static/vendor/vendor.js, the one third-party bundle of the browser UI (CodeMirror 6
# with Go support, lezer highlighting, markdown-it), from the versions pinned in
# package-lock.json, and static/vendor/LICENSES.txt, the licenses of every package in it.
# The output is committed, so running Loopbook needs no Node; run this (or `go generate ./web`)
# after changing src/vendor.js or package.json, and commit the result.
set -eu
cd "$(dirname "$0")"
# CLEAN=1 (as .ci/run does) always installs afresh from the lockfile.
if [ -n "${CLEAN:-}" ] || [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
	npm ci --no-audit --no-fund
fi
meta=$(mktemp)
trap 'rm -f "$meta"' EXIT
./node_modules/.bin/esbuild src/vendor.js \
	--bundle --minify --format=esm --target=es2020 \
	--legal-comments=none --metafile="$meta" \
	--outfile=static/vendor/vendor.js
node scripts/licenses.js "$meta" >static/vendor/LICENSES.txt
ls -l static/vendor/

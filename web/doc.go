// Package web is Loopbook's browser UI, embedded in the binary: plain JavaScript modules in
// static/js (one job each; wire.js mirrors server/wire.go), a stylesheet with light and dark
// themes, and one third-party bundle, static/vendor/vendor.js (CodeMirror 6 with Go support and
// markdown-it), built by esbuild from the versions pinned in package-lock.json.
//
// The bundle is committed, so building or running Loopbook needs no Node. After changing
// src/vendor.js or the npm dependencies, rebuild it with Node 20 and npm and commit the result:
//
//	go generate ./web
//
// The build is byte-reproducible (same lockfile, same esbuild: the same bytes, wherever it runs),
// and .ci/run checks it: it rebuilds the bundle from a fresh npm ci (CLEAN=1 go generate ./web)
// and fails if static/vendor differs from what is committed.
//
// The licenses of the bundled packages are in static/vendor/LICENSES.txt (regenerated with the
// bundle) and listed in THIRD_PARTY.md.
package web

//go:generate sh build.sh

// Loop micro-workloads for Node, mirroring bench/loopbench (Go) and micro.py.
//
// Usage: node micro.js TEST N
//   chain N    each setImmediate callback schedules the next (one loop iteration per hop)
//   burst N    N setImmediate up front, then drain
//   timers N   N setTimeout with random delays in [0, 10 ms) from an LCG seeded with 42
//              (Node clamps delays below 1 ms to 1 ms)
//
// Prints one JSON line: {"impl":"node","test","n","seconds","ns_per_op"[,"sched_s"]}. Node's loop
// always has descriptors registered (its signal and async handles), so every iteration polls:
// its chain is reported as chain-nofd but already pays what chain-fd measures elsewhere.
'use strict';

const now = () => process.hrtime.bigint();
const secs = (t0) => Number(now() - t0) / 1e9;

function report(test, n, seconds, sched) {
  const rec = { impl: 'node', test, n, seconds, ns_per_op: (seconds / n) * 1e9 };
  if (sched !== undefined) rec.sched_s = sched;
  process.stdout.write(JSON.stringify(rec) + '\n');
}

function chain(n) {
  let left = n;
  const t0 = now();
  const hop = () => {
    left--;
    if (left <= 0) {
      report('chain-nofd', n, secs(t0));
      return;
    }
    setImmediate(hop);
  };
  setImmediate(hop);
}

function burst(n) {
  let left = n;
  const t0 = now();
  const cb = () => {
    left--;
    if (left === 0) report('burst', n, secs(t0), sched);
  };
  for (let i = 0; i < n; i++) setImmediate(cb);
  const sched = secs(t0);
}

function timers(n) {
  // A 32-bit LCG (Numerical Recipes constants): Math.random cannot be seeded.
  let state = 42;
  const rand = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
  let left = n;
  const t0 = now();
  const fire = () => {
    left--;
    if (left === 0) report('timers', n, secs(t0), sched);
  };
  for (let i = 0; i < n; i++) setTimeout(fire, rand() * 10);
  const sched = secs(t0);
}

const [test, nArg] = process.argv.slice(2);
const n = Number(nArg);
if (!Number.isInteger(n) || n <= 0) {
  console.error('usage: node micro.js chain|burst|timers N');
  process.exit(2);
}
const tests = { chain, burst, timers };
if (!tests[test]) {
  console.error(`unknown test ${test}`);
  process.exit(2);
}
tests[test](n);

// The loop panel's data: a LoopModel folds kernel frames (kernel/monitor.go Frame, one every
// 50 ms while the loop does anything) into what the panel shows — the latest state, bounded
// rings of recent iterations, callbacks and marks for the timeline, health history — and a
// Replay holds a recorded list of frames and rebuilds the model at any position, forward or
// backward, without running anything. Nothing here touches the DOM.

export const RUNS_KEPT = 20000; // callbacks kept for the timeline
export const ITERS_KEPT = 4000;
export const MARKS_KEPT = 4000;
export const HEALTH_KEPT = 120; // sparkline points (frames with health)
export const RECENT_KEPT = 30; // "recently run" list

// What changed in a model since the panel last drew it (bit flags).
export const CH = Object.freeze({
  state: 1, runs: 2, iters: 4, health: 8, current: 16, flags: 32, marks: 64, all: 127,
});

// Ring is a fixed-capacity FIFO: pushing past the capacity drops the oldest.
export class Ring {
  constructor(cap) {
    this.cap = cap;
    this.a = new Array(cap);
    this.head = 0; // index of the oldest
    this.len = 0;
    this.total = 0; // pushes ever
  }
  push(x) {
    if (this.len < this.cap) {
      this.a[(this.head + this.len) % this.cap] = x;
      this.len++;
    } else {
      this.a[this.head] = x;
      this.head = (this.head + 1) % this.cap;
    }
    this.total++;
  }
  at(i) { return this.a[(this.head + i) % this.cap]; }
  last() { return this.len ? this.at(this.len - 1) : undefined; }
  clear() { this.a = new Array(this.cap); this.head = 0; this.len = 0; this.total = 0; }
  // lowerBound: the first index whose key(x) >= v (entries are in key order).
  lowerBound(v, key) {
    let lo = 0, hi = this.len;
    while (lo < hi) {
      const m = (lo + hi) >> 1;
      if (key(this.at(m)) < v) lo = m + 1; else hi = m;
    }
    return lo;
  }
}

const emptyState = () => ({ ready: [], timers: [], watchers: [], tasks: [], more: {} });

// frameTime is the latest trace time (ms) a frame speaks of, or 0.
export function frameTime(f) {
  let t = 0;
  if (f.iters && f.iters.length) t = Math.max(t, f.iters[f.iters.length - 1].end);
  if (f.runs && f.runs.length) t = Math.max(t, f.runs[f.runs.length - 1].end || 0);
  if (f.current) t = Math.max(t, f.current.start + (f.current.for || 0));
  return t;
}

// LoopModel is one loop's picture (the shared loop, id 0, or a loop a cell created).
export class LoopModel {
  constructor(id = 0, name = "") {
    this.id = id;
    this.name = name || (id ? `loop ${id}` : "shared loop");
    this.closed = false;
    this.runs = new Ring(RUNS_KEPT);
    this.iters = new Ring(ITERS_KEPT);
    this.marks = new Ring(MARKS_KEPT);
    this.recent = new Ring(RECENT_KEPT);
    this.health = { busy: new Ring(HEALTH_KEPT), lag: new Ring(HEALTH_KEPT), ips: new Ring(HEALTH_KEPT), cps: new Ring(HEALTH_KEPT) };
    this.reset();
  }

  reset() {
    this.seq = 0;
    this.frames = 0; // frames applied
    this.time = 0; // loop time, s (of the last state)
    this.timeOffset = 0; // loop time − trace time, s, when the last state came
    this.traceNow = 0; // latest trace time seen, ms
    this.iter = 0;
    this.paused = false;
    this.virtual = false;
    this.state = emptyState();
    this.current = null;
    this.lastIter = null;
    this.ran = 0; // callbacks that ran (counted, including those the kernel left out)
    this.dropped = 0;
    this.lost = 0;
    this.stepIds = new Set(); // ids of task step handles (a task's id + 1 in package loop)
    this.runs.clear();
    this.iters.clear();
    this.marks.clear();
    this.recent.clear();
    for (const r of Object.values(this.health)) r.clear();
    this.lastHealth = null;
    this.warn = null; // the blocked-loop warning (set by the panel)
    this.pageOffset = Infinity; // page clock − trace clock, at the quickest delivery (set by the panel)
    this.changed = CH.all;
  }

  // apply folds one frame in and returns what changed (CH flags).
  apply(f) {
    let ch = 0;
    if (f.seq != null && this.seq && f.seq <= this.seq) {
      // A new kernel (restart) counts from 1 again: start over.
      this.reset();
      ch = CH.all;
    }
    if (f.seq != null) this.seq = f.seq;
    this.frames++;
    if (f.loop_name) this.name = f.loop_name;
    if (f.closed && !this.closed) {
      // Its last frame: the loop selector and the controls must say so, even when nothing else changed.
      this.closed = true;
      ch |= CH.flags;
    }
    const t = frameTime(f);
    if (t > this.traceNow) this.traceNow = t;
    if ((this.iter !== f.iter && !f.closed) || this.paused !== !!f.paused || this.virtual !== !!f.virtual) ch |= CH.flags;
    if (!(f.closed && !f.iter)) this.iter = f.iter ?? this.iter; // a collected loop's last frame has no count
    this.paused = !!f.paused;
    this.virtual = !!f.virtual;
    if (f.state) {
      this.state = {
        ready: f.state.ready || [], timers: f.state.timers || [], watchers: f.state.watchers || [],
        tasks: f.state.tasks || [], more: f.state.more || {},
      };
      for (const tk of this.state.tasks) this.stepIds.add(tk.id + 1);
      if (this.stepIds.size > 5000) this.stepIds = new Set(this.state.tasks.map((tk) => tk.id + 1));
      this.time = f.time ?? this.time;
      this.timeOffset = this.time - this.traceNow / 1000;
      ch |= CH.state;
    } else if (f.time != null && f.time !== this.time) {
      this.time = f.time;
    }
    if (f.iters && f.iters.length) {
      for (const it of f.iters) this.iters.push(it);
      this.lastIter = f.iters[f.iters.length - 1];
      ch |= CH.iters;
    }
    if (f.runs && f.runs.length) {
      for (const r of f.runs) {
        this.runs.push(r);
        this.recent.push(r);
      }
      ch |= CH.runs;
    }
    const ran = (f.runs ? f.runs.length : 0) + (f.dropped || 0);
    this.ran += ran;
    this.dropped += f.dropped || 0;
    this.lost += f.lost || 0;
    if (f.marks && f.marks.length) {
      for (const m of f.marks) {
        // A mark without a time: place it where the callback it made ready ran.
        let mt = m.t;
        if (!mt && f.runs) mt = f.runs.find((r) => r.id === m.id)?.start || 0;
        if (!mt && f.iters && f.iters.length) mt = f.iters[0].start;
        this.marks.push({ kind: m.kind, t: mt, id: m.id, fd: m.fd, dir: m.dir });
      }
      ch |= CH.marks;
    }
    const cur = f.current || null;
    if (!sameCurrent(cur, this.current)) ch |= CH.current;
    this.current = cur;
    if (f.health) {
      const h = f.health;
      this.health.busy.push(h.busy * 100);
      this.health.lag.push(h.lag);
      this.health.ips.push(h.iter_per_s);
      this.health.cps.push(h.calls_per_s);
      this.lastHealth = h;
      ch |= CH.health;
    }
    this.changed |= ch;
    return ch;
  }

  // now is the loop time (s) to draw timers against: the last state's time, moved on by the
  // trace time seen since (real time only; virtual time jumps).
  now() {
    if (this.virtual) return this.time;
    return Math.max(this.time, this.traceNow / 1000 + this.timeOffset);
  }

  isStep(run) {
    return this.stepIds.has(run.id);
  }
}

function sameCurrent(a, b) {
  if (!a || !b) return a === b;
  return a.id === b.id && a.start === b.start && a.for === b.for;
}

// Replay is a recording (frames in order, as the server keeps them in the notebook's metadata)
// that can rebuild any loop's model at any frame index. Going backward costs as much as going
// forward: the model at k is rebuilt from a bounded window of frames before k plus the last
// state at or before k.
export const REPLAY_WINDOW = 240; // frames folded in to rebuild the timeline (12 s at 50 ms)

export class Replay {
  constructor(frames) {
    this.frames = frames.filter((f) => f && typeof f === "object");
    this.byLoop = new Map(); // loop id → {idx: [global index], stateAt: [local index of the last frame with state], name}
    this.times = new Float64Array(this.frames.length); // trace ms at each frame (carried forward)
    let last = 0;
    const lastSeq = new Map();
    this.frames.forEach((f, i) => {
      const id = f.loop || 0;
      let L = this.byLoop.get(id);
      if (!L) {
        L = { idx: [], stateAt: [], ran: [], name: f.loop_name || "" };
        this.byLoop.set(id, L);
      }
      if (f.loop_name) L.name = f.loop_name;
      const prev = lastSeq.get(id);
      const restart = prev != null && f.seq != null && f.seq <= prev;
      if (restart) last = 0; // a restart: trace time starts over
      if (f.seq != null) lastSeq.set(id, f.seq);
      const t = frameTime(f);
      if (t) last = t;
      this.times[i] = last;
      const li = L.idx.length;
      L.idx.push(i);
      L.stateAt.push(f.state ? li : li > 0 ? L.stateAt[li - 1] : -1);
      const ran = (f.runs ? f.runs.length : 0) + (f.dropped || 0);
      L.ran.push((li > 0 && !restart ? L.ran[li - 1] : 0) + ran); // callbacks run so far (since a restart)
    });
  }

  get length() { return this.frames.length; }

  loops() {
    return [...this.byLoop.entries()].map(([id, L]) => ({ id, name: L.name }));
  }

  // modelAt rebuilds loop id's model as it was once frame k (global index) had arrived.
  modelAt(k, id = 0) {
    const L = this.byLoop.get(id);
    const m = new LoopModel(id, L ? L.name : "");
    if (!L || k < 0) return m;
    // The last frame of this loop at or before k.
    let lo = 0, hi = L.idx.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (L.idx[mid] <= k) lo = mid + 1; else hi = mid;
    }
    const p = lo - 1;
    if (p < 0) return m;
    const from = Math.max(0, p - REPLAY_WINDOW + 1);
    const s = L.stateAt[p];
    // Fold the last state in first (its frame may be older than the window), then the window.
    if (s >= 0 && s < from) {
      const sf = this.frames[L.idx[s]];
      m.apply({ seq: sf.seq, time: sf.time, iter: sf.iter, paused: sf.paused, virtual: sf.virtual, state: sf.state, loop_name: sf.loop_name });
      m.seq = 0; // the window's frames may have lower or equal seqs: do not take them for a restart
    }
    for (let i = from; i <= p; i++) m.apply(this.frames[L.idx[i]]);
    m.ran = L.ran[p];
    m.changed = CH.all;
    return m;
  }

  // indexAt is the last frame index whose trace time is <= t (ms), from start.
  indexAt(t, start = 0) {
    let i = start;
    while (i + 1 < this.frames.length && this.times[i + 1] <= t && this.times[i + 1] >= this.times[i]) i++;
    return i;
  }
}

// parseSite turns "In[4]:3" or "In[4]:3:7" into {count: 4, line: 3, col: 7}.
export function parseSite(site) {
  const m = /^In\[(\d+)\](?::(\d+))?(?::(\d+))?/.exec(site || "");
  if (!m) return null;
  return { count: +m[1], line: m[2] ? +m[2] : 0, col: m[3] ? +m[3] : 0 };
}

// siteText renders a site for people: "In[4] line 3".
export function siteText(site) {
  const s = parseSite(site);
  if (!s) return site || "";
  return s.line ? `In[${s.count}] line ${s.line}` : `In[${s.count}]`;
}

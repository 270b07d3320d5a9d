// The timeline of recent iterations, drawn on a canvas (the DOM stays the same size however
// much the loop does): iterations as a strip, callbacks as bars coloured by their owner cell,
// polls as idle gaps, timer and fd marks, and arrows where the loop switched from one task to
// another. It follows the newest iteration; drag to scrub back through what is kept, wheel to
// zoom, hover to read what ran, click a bar to show the line that created it.
import { h } from "./dom.js";
import { siteText } from "./panel-model.js";

const H = 108; // CSS px
const Y = { iter: 0, iterH: 11, arrows: 13, runs: 28, runsH: 38, marks: 70, marksH: 12, axis: 86 };
const SPANS = [20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 30000, 60000]; // ms

export class Timeline {
  // opts: colorOf(owner) → CSS colour; pick(run); schedule() asks for a draw at the next frame.
  constructor(opts) {
    this.opts = opts;
    this.model = null;
    this.span = 2000; // ms shown
    this.follow = true;
    this.end = 0; // window end (trace ms) when not following
    this.cursor = null; // trace ms under the pointer
    this.highlight = null; // Set of owners to stand out, or null
    this.dirty = true;
    this.colors = null;
    this.canvas = h("canvas", { class: "tl-canvas", height: H, "aria-label": "timeline of recent iterations", tabindex: "0", role: "img" });
    this.readout = h("div", { class: "tl-readout", "aria-live": "off" }, "hover the timeline to see what ran; drag to scrub back");
    this.followBtn = h("button", { type: "button", class: "link tl-follow", hidden: true, onclick: () => this.setFollow(true) }, "⇥ follow");
    this.zoomOut = h("button", { type: "button", class: "tl-zoom", title: "zoom out", onclick: () => this.zoom(1) }, "−");
    this.zoomIn = h("button", { type: "button", class: "tl-zoom", title: "zoom in", onclick: () => this.zoom(-1) }, "+");
    this.spanLabel = h("span", { class: "tl-span" });
    this.legend = h("div", { class: "tl-legend" });
    this.el = h("div", { class: "timeline" },
      h("div", { class: "tl-bar" }, this.spanLabel, this.zoomIn, this.zoomOut, h("span", { class: "spacer" }), this.followBtn),
      this.canvas, this.readout, this.legend);
    this.width = 0;
    new ResizeObserver(() => this.resize()).observe(this.canvas);
    matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => { this.colors = null; this.changed(); });
    this.bindPointer();
    this.renderSpan();
  }

  changed() {
    this.dirty = true;
    this.opts.schedule();
  }

  setModel(model) {
    if (this.model !== model) {
      this.model = model;
      this.changed();
    }
  }

  setHighlight(owners) {
    this.highlight = owners || null; // {has(owner)}
    this.changed();
  }

  setFollow(on) {
    this.follow = on;
    this.followBtn.hidden = on;
    if (!on && this.model) this.end = this.windowEnd();
    this.changed();
  }

  zoom(d) {
    let i = SPANS.indexOf(this.span);
    if (i < 0) i = SPANS.findIndex((s) => s >= this.span);
    i = Math.max(0, Math.min(SPANS.length - 1, i + d));
    if (!this.follow && this.cursor != null) {
      // Keep the time under the cursor where it is.
      const frac = (this.end - this.cursor) / this.span;
      this.end = this.cursor + frac * SPANS[i];
    }
    this.span = SPANS[i];
    this.renderSpan();
    this.changed();
  }

  renderSpan() {
    this.spanLabel.textContent = this.span >= 1000 ? `last ${this.span / 1000} s` : `${this.span} ms`;
    if (!this.follow) this.spanLabel.textContent = `${this.span >= 1000 ? this.span / 1000 + " s" : this.span + " ms"} window`;
  }

  resize() {
    const w = Math.max(50, Math.floor(this.canvas.clientWidth));
    const dpr = devicePixelRatio || 1;
    if (w === this.width && this.dpr === dpr) return;
    this.width = w;
    this.dpr = dpr;
    this.canvas.width = Math.round(w * dpr);
    this.canvas.height = Math.round(H * dpr);
    this.changed();
  }

  windowEnd() {
    if (!this.model) return 0;
    return this.follow ? this.model.traceNow : this.end;
  }

  xToT(x) {
    const t1 = this.windowEnd();
    return t1 - this.span + (x / this.width) * this.span;
  }

  bindPointer() {
    const c = this.canvas;
    let drag = null;
    c.addEventListener("pointerdown", (e) => {
      if (!this.model) return;
      drag = { x: e.offsetX, end: this.windowEnd(), moved: false };
      c.setPointerCapture(e.pointerId);
    });
    c.addEventListener("pointermove", (e) => {
      if (drag) {
        const dx = e.offsetX - drag.x;
        if (Math.abs(dx) > 3) drag.moved = true;
        if (drag.moved) {
          if (this.follow) {
            this.follow = false;
            this.followBtn.hidden = false;
            this.renderSpan();
          }
          this.end = Math.min(this.model.traceNow, drag.end - (dx / this.width) * this.span);
        }
      }
      this.cursor = this.xToT(e.offsetX);
      this.showReadout();
      this.changed();
    });
    c.addEventListener("pointerup", (e) => {
      if (drag && !drag.moved) {
        const r = this.runAt(this.xToT(e.offsetX), 3 * this.span / this.width);
        if (r) this.opts.pick(r);
      }
      drag = null;
    });
    c.addEventListener("pointerleave", () => {
      if (drag) return;
      this.cursor = null;
      this.changed();
    });
    c.addEventListener("wheel", (e) => {
      e.preventDefault();
      this.cursor = this.xToT(e.offsetX);
      this.zoom(e.deltaY > 0 ? 1 : -1);
    }, { passive: false });
    c.addEventListener("keydown", (e) => {
      if (!this.model) return;
      if (e.key === "ArrowLeft" || e.key === "ArrowRight") {
        e.preventDefault();
        if (this.follow) this.setFollow(false);
        this.end = Math.min(this.model.traceNow, this.end + (e.key === "ArrowLeft" ? -1 : 1) * this.span / 4);
        this.changed();
      } else if (e.key === "End") {
        this.setFollow(true);
      }
    });
  }

  // runAt finds the callback at trace time t (or within tol ms of it).
  runAt(t, tol = 0) {
    const m = this.model;
    if (!m || !m.runs.len) return null;
    const runs = m.runs;
    let i = runs.lowerBound(t, (r) => r.start);
    let best = null, bestD = Infinity;
    for (let j = Math.max(0, i - 2); j < Math.min(runs.len, i + 2); j++) {
      const r = runs.at(j);
      const end = r.end || r.start;
      const d = t < r.start ? r.start - t : t > end ? t - end : 0;
      if (d < bestD) { best = r; bestD = d; }
    }
    return bestD <= tol ? best : null;
  }

  iterAt(t) {
    const m = this.model;
    if (!m || !m.iters.len) return null;
    const i = m.iters.lowerBound(t, (it) => it.end);
    const it = i < m.iters.len ? m.iters.at(i) : null;
    return it && it.start <= t ? it : null;
  }

  showReadout() {
    if (this.cursor == null || !this.model) return;
    const t = this.cursor;
    const r = this.runAt(t, 2 * this.span / Math.max(1, this.width));
    const it = this.iterAt(t);
    const parts = [`t = ${(t / 1000).toFixed(3)} s`];
    if (it) parts.push(`iteration ${it.n}`);
    if (r) {
      const d = (r.end || r.start) - r.start;
      parts.push(`${r.name || "callback"} · ${r.site ? siteText(r.site) : ownerText(r.owner)} · ran ${fmtMs(d)}`);
    } else if (it && it.polled && t >= it.start && t <= it.start + it.poll) {
      parts.push(`polling for I/O (timeout ${it.poll_timeout < 0 ? "∞" : fmtMs(it.poll_timeout)})`);
    } else if (it) {
      parts.push("idle");
    }
    this.readout.textContent = parts.join(" · ");
  }

  readColors() {
    const cs = getComputedStyle(this.el);
    const v = (n, d) => cs.getPropertyValue(n).trim() || d;
    this.colors = {
      fg: v("--fg", "#222"), muted: v("--muted", "#888"), border: v("--border", "#ccc"), bg2: v("--bg2", "#f6f7f9"),
      warn: v("--warn", "#c27c0e"), accent: v("--accent", "#2f6fdf"), danger: v("--danger", "#c8372d"),
    };
  }

  // draw paints the canvas if anything changed; the panel calls it once per animation frame.
  draw() {
    if (!this.dirty || !this.width) return;
    this.dirty = false;
    if (!this.colors) this.readColors();
    const C = this.colors;
    const ctx = this.canvas.getContext("2d");
    const dpr = this.dpr || 1;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, this.width, H);
    const m = this.model;
    ctx.font = "10px system-ui, sans-serif";
    ctx.textBaseline = "middle";
    if (!m || (!m.runs.len && !m.iters.len)) {
      ctx.fillStyle = C.muted;
      ctx.fillText("no iterations yet", 8, Y.runs + Y.runsH / 2);
      return;
    }
    const t1 = this.windowEnd();
    const t0 = t1 - this.span;
    const k = this.width / this.span;
    const X = (t) => (t - t0) * k;

    // Iterations strip, and polls as idle gaps in the callback lane.
    const iters = m.iters;
    let i = iters.lowerBound(t0, (it) => it.end);
    let lastX = -10;
    for (; i < iters.len; i++) {
      const it = iters.at(i);
      if (it.start > t1) break;
      const x0 = X(it.start), x1 = Math.max(x0 + 1, X(it.end));
      if (x1 - lastX >= 1) {
        ctx.fillStyle = it.n % 2 ? C.border : C.bg2;
        ctx.fillRect(x0, Y.iter, x1 - x0, Y.iterH);
        if (x1 - x0 > 40) {
          ctx.fillStyle = C.muted;
          ctx.fillText(`#${it.n}`, x0 + 3, Y.iter + Y.iterH / 2);
        }
        lastX = x1;
      }
      if (it.polled && it.poll > 0) {
        const p0 = X(it.start), p1 = X(it.start + it.poll);
        if (p1 - p0 >= 2) {
          ctx.fillStyle = C.bg2;
          ctx.fillRect(p0, Y.runs, p1 - p0, Y.runsH);
          if (p1 - p0 > 36) {
            ctx.fillStyle = C.muted;
            ctx.fillText("poll", p0 + 4, Y.runs + Y.runsH / 2);
          }
        }
      }
    }

    // Callbacks: bars merged per pixel when they share a colour.
    const runs = m.runs;
    let j = runs.lowerBound(t0 - 1000, (r) => r.start);
    let pend = null;
    const flush = () => {
      if (!pend) return;
      ctx.fillStyle = pend.c;
      ctx.globalAlpha = pend.dim ? 0.25 : 1;
      ctx.fillRect(pend.x0, Y.runs + 2, pend.x1 - pend.x0, Y.runsH - 4);
      ctx.globalAlpha = 1;
      pend = null;
    };
    const steps = [];
    const hl = this.highlight;
    for (; j < runs.len; j++) {
      const r = runs.at(j);
      const end = r.end || r.start;
      if (end < t0) continue;
      if (r.start > t1) break;
      const x0 = Math.floor(X(r.start));
      const x1 = Math.max(x0 + 1, Math.ceil(X(end)));
      const c = this.opts.colorOf(r.owner);
      const dim = hl ? !hl.has(r.owner) : false;
      if (pend && pend.c === c && pend.dim === dim && x0 <= pend.x1) {
        pend.x1 = Math.max(pend.x1, x1);
      } else {
        flush();
        pend = { x0, x1, c, dim };
      }
      if (m.isStep(r)) steps.push(r);
      if (x1 - x0 > 46 && r.name) {
        flush();
        ctx.fillStyle = "#fff";
        ctx.save();
        ctx.beginPath();
        ctx.rect(x0, Y.runs, x1 - x0, Y.runsH);
        ctx.clip();
        ctx.fillText(r.name, x0 + 3, Y.runs + Y.runsH / 2);
        ctx.restore();
      }
    }
    flush();

    // Task switches: an arrow from one task's step to the next step of another task.
    if (steps.length > 1 && steps.length < 400) {
      ctx.strokeStyle = C.fg;
      ctx.fillStyle = C.fg;
      ctx.lineWidth = 1;
      for (let s = 1; s < steps.length; s++) {
        const a = steps[s - 1], b = steps[s];
        if (a.id === b.id) continue;
        const xa = X(a.end || a.start), xb = X(b.start);
        if (xb - xa < 4) continue;
        const top = Y.arrows;
        ctx.beginPath();
        ctx.moveTo(xa, Y.runs);
        ctx.bezierCurveTo(xa, top, xb, top, xb, Y.runs - 1);
        ctx.stroke();
        ctx.beginPath();
        ctx.moveTo(xb, Y.runs);
        ctx.lineTo(xb - 3, Y.runs - 5);
        ctx.lineTo(xb + 3, Y.runs - 5);
        ctx.fill();
      }
    }

    // The callback running now (it may be blocking the loop).
    const cur = m.current;
    if (cur && cur.start < t1) {
      const x0 = X(cur.start), x1 = X(Math.min(t1, cur.start + (cur.for || 0)));
      ctx.fillStyle = this.opts.colorOf(cur.owner);
      ctx.fillRect(x0, Y.runs + 2, Math.max(1, x1 - x0), Y.runsH - 4);
      ctx.strokeStyle = C.danger;
      ctx.lineWidth = 2;
      ctx.strokeRect(x0, Y.runs + 1, Math.max(1, x1 - x0), Y.runsH - 2);
    }

    // Marks: timers (diamonds) and fds (triangles).
    const marks = m.marks;
    let q = marks.lowerBound(t0, (mk) => mk.t);
    let lastMX = -10;
    for (; q < marks.len; q++) {
      const mk = marks.at(q);
      if (mk.t > t1) break;
      const x = X(mk.t);
      if (x - lastMX < 2) continue;
      lastMX = x;
      const yc = Y.marks + Y.marksH / 2;
      ctx.beginPath();
      if (mk.kind === "timer") {
        ctx.fillStyle = C.warn;
        ctx.moveTo(x, yc - 5); ctx.lineTo(x + 4, yc); ctx.lineTo(x, yc + 5); ctx.lineTo(x - 4, yc);
      } else {
        ctx.fillStyle = C.accent;
        ctx.moveTo(x, yc - 5); ctx.lineTo(x + 5, yc + 4); ctx.lineTo(x - 5, yc + 4);
      }
      ctx.fill();
    }

    // Axis.
    ctx.strokeStyle = C.border;
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(0, Y.axis + 0.5);
    ctx.lineTo(this.width, Y.axis + 0.5);
    ctx.stroke();
    const step = niceStep(this.span / Math.max(2, this.width / 90));
    ctx.fillStyle = C.muted;
    for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) {
      const x = X(t);
      ctx.fillRect(x, Y.axis, 1, 4);
      ctx.fillText(fmtT(t, step), x + 2, Y.axis + 12);
    }

    // The scrub cursor.
    if (this.cursor != null) {
      const x = X(this.cursor);
      ctx.fillStyle = C.fg;
      ctx.fillRect(Math.round(x), 0, 1, Y.axis);
    }
  }

  // legendFor lists the owners seen in the window, with their colours.
  renderLegend(owners, label) {
    const key = [...owners].join(",");
    if (key === this.legendKey) return;
    this.legendKey = key;
    this.legend.replaceChildren(...[...owners].sort((a, b) => a - b).map((o) =>
      h("span", { class: "tl-key" }, h("i", { style: `background:${this.opts.colorOf(o)}` }), label(o))));
  }
}

function niceStep(raw) {
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

function fmtT(t, step) {
  if (step >= 1000) return `${(t / 1000).toFixed(0)} s`;
  if (step >= 100) return `${(t / 1000).toFixed(1)} s`;
  if (step >= 10) return `${(t / 1000).toFixed(2)} s`;
  return `${t.toFixed(0)} ms`;
}

export function fmtMs(ms) {
  if (ms == null || !isFinite(ms)) return "";
  if (ms < 1) return `${Math.max(1, Math.round(ms * 1000))} µs`;
  if (ms < 1000) return `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`;
  if (ms < 120000) return `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
  if (ms < 7200000) return `${(ms / 60000).toFixed(ms < 600000 ? 1 : 0)} min`;
  return `${(ms / 3600000).toFixed(1)} h`;
}

export function ownerText(owner) {
  return owner > 0 ? `In[${owner}]` : "kernel";
}

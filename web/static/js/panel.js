// The live loop panel beside the notebook: the iteration in asyncio's steps, the ready queue,
// timers on a time axis, watched fds, tasks and their await graph, health sparklines, a live
// warning while a callback blocks the loop, the timeline, the teaching controls (pause, step,
// slow motion, virtual time) and replay of a recorded run. Frames come from the kernel's
// monitor (kernel/monitor.go) through loop:frame; they are folded into models at once and drawn
// at most once per animation frame, touching only the parts that changed, with every list
// bounded, so a loop running 100k callbacks/s costs the page a few DOM updates per frame.
import { h, plural } from "./dom.js";
import { ToServer } from "./wire.js";
import { LoopModel, Replay, CH, parseSite, siteText } from "./panel-model.js";
import { Timeline, fmtMs, ownerText } from "./timeline.js";

export const WARN_MS = 100; // a callback running this long blocks the loop (asyncio's slow_callback_duration)
const SHOWN = 50; // entries drawn per list
const LIVE_BUFFER = 2 << 20; // approximate bytes of live frames kept for on-demand replay
const MAX_LOOPS = 8; // private loops remembered
const PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#b07aa1", "#edc948", "#ff9da7", "#9c755f"];
const KERNEL_COLOR = "#9aa0a6";
const SLOW = [0, 10, 50, 100, 250, 500, 1000]; // ms per callback
const STEPS = [
  ["poll", "Poll for I/O"],
  ["fds", "Handle ready fds"],
  ["timers", "Move due timers"],
  ["run", "Run ready callbacks"],
];

export class LoopPanel {
  // nb: the notebook (send, jump, runs: count → cell id, byId: cell id → view).
  constructor(nb) {
    this.nb = nb;
    this.models = new Map([[0, new LoopModel(0)]]); // live models by loop id
    this.selected = 0;
    this.mode = "live";
    this.autoReplay = false; // replay was entered because the notebook came with a recording
    this.liveActivity = false; // a cell has run since the page loaded
    this.saved = null; // Replay of the notebook's recording
    this.liveFrames = []; // recent live frames, for on-demand replay
    this.liveBytes = 0;
    this.replay = null; // {rec: Replay, src, k, model, playing, speed, head}
    this.pending = {}; // optimistic control state: {paused: {v, at}, virtual: {v, at}}
    this.slow = new Map(); // loop id → ms per callback
    this.hoverCellId = null; // the cell the pointer is on: what its runs own stands out
    this.cellColors = new Map(); // cell id → palette index
    this.raf = 0;
    this.ui = CH.all; // panel-level changes (mode, selection, controls)
    this.lastBlock = null; // {text, until}
    this.collapsed = localStorage.getItem("loopbook.panel.collapsed") === "1";

    this.timeline = new Timeline({
      colorOf: (o) => this.colorOf(o),
      pick: (r) => this.pick(r.site, r.owner),
      schedule: () => this.schedule(),
    });
    this.build();
    this.ticker = setInterval(() => this.tick(), 100);
  }

  // --- building ---

  build() {
    const btn = (action, label, title) => h("button", { type: "button", class: "lp-btn", dataset: { action }, title, onclick: () => this.control(action) }, label);
    this.loopSelect = h("select", { class: "lp-loop", hidden: true, title: "which event loop to show", onchange: () => this.select(+this.loopSelect.value) });
    this.replayBtn = h("button", { type: "button", class: "lp-btn lp-replay-btn", title: "replay the recorded loop frames without running anything", onclick: () => this.startReplay() }, "Replay");
    this.collapseBtn = h("button", { type: "button", class: "lp-collapse", title: "hide the loop panel", "aria-expanded": "true", onclick: () => this.setCollapsed(!this.collapsed) }, "⟩");
    this.badge = h("span", { class: "lp-badge" });
    this.head = h("header", { class: "lp-head" },
      this.collapseBtn,
      h("h2", { class: "lp-title", onclick: () => this.collapsed && this.setCollapsed(false) }, "Event loop"),
      this.loopSelect, this.badge, h("span", { class: "spacer" }), this.replayBtn);

    this.pauseBtn = btn("pause", "Pause", "pause the loop at the next iteration boundary");
    this.stepIterBtn = btn("step_iteration", "Step iteration", "run one whole iteration, then pause again");
    this.stepCbBtn = btn("step_callback", "Step callback", "run one callback, then pause again");
    this.slowSel = h("select", { class: "lp-slow", title: "slow motion: wait before every callback", onchange: () => this.control("slow_motion", +this.slowSel.value) },
      SLOW.map((v) => h("option", { value: v }, v ? `${v} ms / callback` : "full speed")));
    this.virtualBox = h("input", { type: "checkbox", class: "lp-virtual", onchange: () => this.control("virtual_time", this.virtualBox.checked ? 1 : 0) });
    this.controls = h("div", { class: "lp-controls" },
      this.pauseBtn, this.stepIterBtn, this.stepCbBtn,
      h("label", { class: "lp-field" }, "slow", this.slowSel),
      h("label", { class: "lp-switch", title: "virtual time: when nothing is ready, time jumps to the next timer" }, this.virtualBox, h("span", null, "virtual time")));

    // Replay bar.
    this.scrub = h("input", { type: "range", class: "lp-scrub", min: 0, max: 0, value: 0, "aria-label": "replay position", oninput: () => this.seek(+this.scrub.value) });
    this.playBtn = h("button", { type: "button", class: "lp-btn lp-play", onclick: () => this.togglePlay() }, "Play");
    this.replayPos = h("span", { class: "lp-replay-pos" });
    this.replaySrc = h("select", { class: "lp-replay-src", onchange: () => this.startReplay(this.replaySrc.value) });
    this.speedSel = h("select", { class: "lp-speed", title: "playback speed", onchange: () => { if (this.replay) this.replay.speed = +this.speedSel.value; } },
      [0.25, 1, 4, 16].map((s) => h("option", { value: s, selected: s === 1 }, `${s}×`)));
    const rbtn = (cls, label, title, fn) => h("button", { type: "button", class: `lp-btn ${cls}`, title, onclick: fn }, label);
    this.replayBar = h("div", { class: "lp-replaybar", hidden: true },
      h("div", { class: "lp-replay-note" }, h("strong", null, "Replay"), " of recorded loop frames — nothing runs.", this.replaySrc,
        rbtn("lp-golive", "Go live", "back to the live loop", () => this.goLive())),
      h("div", { class: "lp-replay-controls" },
        rbtn("lp-first", "|◀", "first frame", () => this.seek(0)),
        rbtn("lp-prev", "◀", "previous frame", () => this.seek(this.replay.k - 1)),
        this.playBtn,
        rbtn("lp-next", "▶", "next frame", () => this.seek(this.replay.k + 1)),
        rbtn("lp-last", "▶|", "last frame", () => this.seek(this.replay.rec.length - 1)),
        this.speedSel),
      h("div", { class: "lp-replay-scrub" }, this.scrub, this.replayPos));

    this.warning = h("div", { class: "lp-warning", role: "alert", hidden: true });
    this.blockNote = h("div", { class: "lp-blocknote", hidden: true });
    this.iterLabel = h("span", { class: "lp-iter" });
    this.ranLabel = h("span", { class: "lp-ran" });
    this.stepEls = new Map(STEPS.map(([k, label], i) => [k, h("li", { class: "lp-step", dataset: { step: k } },
      h("span", { class: "lp-step-n" }, String(i + 1)), h("span", { class: "lp-step-label" }, label), h("span", { class: "lp-step-v" }))]));
    this.stepNote = h("div", { class: "lp-step-note" });
    this.stepper = h("section", { class: "lp-stepper", "aria-label": "the iteration" },
      h("div", { class: "lp-stepper-head" }, this.iterLabel, h("span", { class: "spacer" }), this.ranLabel),
      h("ol", { class: "lp-steps" }, [...this.stepEls.values()]), this.stepNote);

    this.readyList = h("ol", { class: "lp-list lp-ready" });
    this.timerAxis = h("div", { class: "lp-axis", "aria-hidden": "true" });
    this.timerList = h("ol", { class: "lp-list lp-timers" });
    this.fdTable = h("tbody");
    this.taskList = h("ul", { class: "lp-list lp-tasks" });
    this.graph = svg("svg", { class: "lp-graph", width: "100%", height: 0 });
    this.spark = {
      busy: sparkline("busy", "% of time outside the poll", (v) => `${Math.round(v)}%`),
      lag: sparkline("lag", "the longest iteration's busy time", (v) => fmtMs(v)),
      ips: sparkline("iterations/s", "iterations per second", (v) => fmtRate(v)),
      cps: sparkline("callbacks/s", "callbacks per second", (v) => fmtRate(v)),
    };
    this.recentList = h("ol", { class: "lp-list lp-recent" });
    const section = (cls, title, ...body) => {
      const count = h("span", { class: "lp-count" });
      const s = h("section", { class: `lp-sec ${cls}` }, h("h3", null, title, count), ...body);
      s.count = count;
      return s;
    };
    this.secReady = section("lp-sec-ready", "Ready queue", this.readyList);
    this.secTimers = section("lp-sec-timers", "Timers", this.timerAxis, this.timerList);
    this.secFds = section("lp-sec-fds", "Watched fds", h("table", { class: "lp-fds" },
      h("thead", null, h("tr", null, h("th", null, "fd"), h("th", null, "r/w"), h("th", null, "what"), h("th", null, "fired"))), this.fdTable));
    this.secTasks = section("lp-sec-tasks", "Tasks", this.taskList, this.graph);
    this.secHealth = section("lp-sec-health", "Health", h("div", { class: "lp-sparks" }, Object.values(this.spark).map((s) => s.el)));
    this.secTimeline = section("lp-sec-timeline", "Timeline", this.timeline.el);
    this.secRecent = section("lp-sec-recent", "Recently run", this.recentList);

    this.body = h("div", { class: "lp-body" },
      this.stepper, this.warning, this.blockNote, this.secTimeline, this.secReady, this.secTimers, this.secTasks, this.secFds, this.secHealth, this.secRecent);
    this.el = h("aside", { class: "loop-panel", "aria-label": "event loop panel", dataset: { mode: "live", loop: "0" } },
      this.head, this.controls, this.replayBar, this.body);
    this.el.addEventListener("mouseover", (e) => {
      const it = e.target.closest?.("[data-owner]");
      this.nb.highlightOwner?.(it ? +it.dataset.owner : null);
    });
    this.el.addEventListener("mouseleave", () => this.nb.highlightOwner?.(null));
    this.el.addEventListener("click", (e) => {
      const it = e.target.closest?.("[data-site]");
      if (it && this.el.contains(it)) this.pick(it.dataset.site, +it.dataset.owner);
    });
    this.setCollapsed(this.collapsed);
  }

  setCollapsed(on) {
    this.collapsed = on;
    this.el.classList.toggle("collapsed", on);
    document.body.classList.toggle("panel-collapsed", on);
    this.collapseBtn.textContent = on ? "⟨" : "⟩";
    this.collapseBtn.title = on ? "show the loop panel" : "hide the loop panel";
    this.collapseBtn.setAttribute("aria-expanded", on ? "false" : "true");
    localStorage.setItem("loopbook.panel.collapsed", on ? "1" : "0");
    if (!on) {
      this.view().changed = CH.all;
      this.ui = CH.all;
      this.timeline.changed();
    }
    this.schedule();
  }

  // --- input: frames, recordings, notebook events ---

  // frame takes one live loop:frame.
  frame(f) {
    const recv = performance.now();
    const id = f.loop || 0;
    let m = this.models.get(id);
    if (!m) {
      m = new LoopModel(id, f.loop_name);
      this.models.set(id, m);
      this.trimLoops();
      this.ui |= CH.flags;
    }
    m.apply(f);
    this.watch(m, f, recv);
    for (const k of ["paused", "virtual"]) {
      const p = this.pending[k];
      if (p && p.loop === id && (!!f[k] === p.v || recv - p.at > 600)) delete this.pending[k];
    }
    if (!this.liveActivity && ((f.current && f.current.owner > 0) || (f.runs && f.runs.some((r) => r.owner > 0)))) {
      this.liveActivity = true;
      if (this.mode === "replay" && this.autoReplay) this.goLive();
    }
    this.keep(f);
    if (this.mode === "live" && id === this.selected) this.schedule();
    else if (id !== this.selected) this.ui |= CH.flags, this.schedule();
  }

  // watch raises and clears the blocked-loop warning of a live model.
  watch(m, f, recv) {
    const cur = f.current;
    if (cur) {
      // The monitor read the clock when it built the frame: trace start + for. The smallest
      // page-receipt − trace seen is the clocks' offset plus the quickest delivery.
      m.pageOffset = Math.min(m.pageOffset ?? Infinity, recv - (cur.start + (cur.for || 0)));
    }
    const w = m.warn;
    if (cur && cur.for >= WARN_MS) {
      if (!w || w.id !== cur.id || w.start !== cur.start) {
        m.warn = { id: cur.id, start: cur.start, seq: f.seq, forMs: cur.for, recv, shown: 0, site: cur.site, name: cur.name, owner: cur.owner };
      }
      m.warn.last = { for: cur.for, recv };
    } else if (w && (!cur || cur.id !== w.id || cur.start !== w.start)) {
      const total = w.last ? w.last.for : w.forMs;
      if (m.id === this.selected) this.lastBlock = { text: `${culprit(w)} blocked the loop for at least ${fmtMs(total)}`, until: performance.now() + 4000 };
      m.warn = null;
    }
  }

  // keep remembers a live frame for on-demand replay, within LIVE_BUFFER.
  keep(f) {
    const size = 120 + (f.runs ? f.runs.length * 70 : 0) + (f.iters ? f.iters.length * 130 : 0) + (f.marks ? f.marks.length * 40 : 0) +
      (f.state ? 60 + 90 * (f.state.ready.length + f.state.timers.length + f.state.watchers.length + 2 * f.state.tasks.length) : 0);
    f._size = size;
    this.liveFrames.push(f);
    this.liveBytes += size;
    let drop = 0;
    while (this.liveBytes > LIVE_BUFFER && drop < this.liveFrames.length - 1) this.liveBytes -= this.liveFrames[drop++]._size;
    if (drop > 0) this.liveFrames.splice(0, drop);
  }

  trimLoops() {
    if (this.models.size <= MAX_LOOPS + 1) return;
    for (const [id, m] of this.models) {
      if (id !== 0 && id !== this.selected && m.closed) {
        this.models.delete(id);
        if (this.models.size <= MAX_LOOPS + 1) return;
      }
    }
    for (const id of this.models.keys()) {
      if (id !== 0 && id !== this.selected) {
        this.models.delete(id);
        if (this.models.size <= MAX_LOOPS + 1) return;
      }
    }
  }

  // recording takes the notebook's saved loop frames (sent on every attach).
  recording(rec) {
    const frames = (rec && rec.frames) || [];
    this.saved = frames.length ? new Replay(frames) : null;
    this.ui |= CH.flags;
    if (this.saved && !this.liveActivity && this.mode === "live" && !this.seenRecording) {
      this.startReplay("saved");
      this.autoReplay = true;
    }
    this.seenRecording = true;
    this.schedule();
  }

  cellStarted() {
    this.liveActivity = true;
    if (this.mode === "replay" && this.autoReplay) this.goLive();
  }

  // hoverCell highlights what a cell's runs own (null: nothing).
  hoverCell(cellId) {
    this.hoverCellId = cellId || null;
    this.timeline.setHighlight(cellId ? { has: (o) => this.owns(o) } : null);
    for (const el of this.body.querySelectorAll("[data-owner]")) el.classList.toggle("lp-hl", this.owns(+el.dataset.owner));
    this.el.classList.toggle("lp-hovering", !!cellId);
  }

  // owns: is owner a run of the hovered cell?
  owns(owner) {
    return !!this.hoverCellId && owner > 0 && this.nb.runs.get(owner) === this.hoverCellId;
  }

  // pick shows the cell line that created an item.
  pick(site, owner) {
    const s = parseSite(site);
    if (s && s.line) this.nb.jump(s.count, s.line);
    else if (s) this.nb.jump(s.count, 1);
    else if (owner > 0) this.nb.jump(owner, 1);
  }

  // --- controls ---

  control(action, value = 0) {
    const m = this.models.get(this.selected);
    if (action === "pause" && (this.pausedNow(m))) action = "resume";
    const data = { action, value };
    if (this.selected) data.loop = this.selected;
    if (!this.nb.send(ToServer.loopControl, data)) return;
    const at = performance.now();
    if (action === "pause" || action === "resume") this.pending.paused = { v: action === "pause", at, loop: this.selected };
    if (action === "virtual_time") this.pending.virtual = { v: !!value, at, loop: this.selected };
    if (action === "slow_motion") this.slow.set(this.selected, value);
    this.ui |= CH.flags;
    this.schedule();
  }

  pausedNow(m) {
    if (this.mode === "replay") return !!(m && m.paused);
    const p = this.pending.paused;
    return p && p.loop === this.selected ? p.v : !!(m && m.paused);
  }

  virtualNow(m) {
    if (this.mode === "replay") return !!(m && m.virtual);
    const p = this.pending.virtual;
    return p && p.loop === this.selected ? p.v : !!(m && m.virtual);
  }

  select(id) {
    this.selected = id;
    this.lastBlock = null;
    if (this.mode === "replay") this.seek(this.replay.k, true);
    this.view().changed = CH.all;
    this.ui = CH.all;
    this.timeline.setModel(this.view());
    this.schedule();
  }

  // --- replay ---

  startReplay(src) {
    const live = this.liveFrames.length ? new Replay(this.liveFrames) : null;
    if (!src) src = live ? "live" : "saved";
    const rec = src === "live" ? live : this.saved;
    if (!rec || !rec.length) return;
    this.autoReplay = false;
    this.mode = "replay";
    this.replay = { rec, src, k: -1, model: null, playing: false, speed: +this.speedSel.value || 1, head: 0 };
    this.scrub.max = String(rec.length - 1);
    const loops = new Set(rec.loops().map((l) => l.id));
    if (!loops.has(this.selected)) this.selected = 0;
    this.replaySrc.replaceChildren(
      ...(this.saved ? [h("option", { value: "saved", selected: src === "saved" }, "saved with the notebook")] : []),
      ...(live ? [h("option", { value: "live", selected: src === "live" }, "this session")] : []));
    this.seek(0, true);
    this.ui = CH.all;
    this.schedule();
  }

  goLive() {
    if (this.replay) this.replay.playing = false;
    this.replay = null;
    this.mode = "live";
    this.autoReplay = false;
    this.view().changed = CH.all;
    this.timeline.setModel(this.view());
    this.ui = CH.all;
    this.schedule();
  }

  seek(k, force) {
    const r = this.replay;
    if (!r) return;
    k = Math.max(0, Math.min(r.rec.length - 1, k | 0));
    if (k === r.k && !force) return;
    r.k = k;
    r.head = r.rec.times[k];
    r.model = r.rec.modelAt(k, this.selected);
    const cur = r.model.current;
    r.model.warn = cur && cur.for >= WARN_MS ? { id: cur.id, start: cur.start, seq: r.model.seq, forMs: cur.for, shown: 0, site: cur.site, name: cur.name, owner: cur.owner, last: { for: cur.for } } : null;
    this.timeline.setModel(r.model);
    this.timeline.changed();
    this.ui |= CH.flags;
    this.schedule();
  }

  togglePlay() {
    const r = this.replay;
    if (!r) return;
    r.playing = !r.playing;
    if (r.playing && r.k >= r.rec.length - 1) this.seek(0);
    r.wall = performance.now();
    r.head = r.rec.times[r.k];
    this.ui |= CH.flags;
    this.schedule();
  }

  // --- drawing ---

  view() {
    if (this.mode === "replay" && this.replay && this.replay.model) return this.replay.model;
    return this.models.get(this.selected) || this.models.get(0);
  }

  schedule() {
    if (!this.raf) this.raf = requestAnimationFrame(() => this.render());
  }

  // tick keeps moving things moving between frames: the timer axis, the blocking time, playback.
  tick() {
    if (this.collapsed) return;
    const m = this.view();
    if (m.warn || this.models.get(0).warn || this.lastBlock || (m.state.timers.length && !m.paused) || (this.replay && this.replay.playing)) {
      this.ui |= CH.current;
      this.schedule();
    }
  }

  render() {
    this.raf = 0;
    if (this.replay && this.replay.playing) this.advancePlayback();
    if (this.collapsed) {
      this.renderHead();
      return;
    }
    const m = this.view();
    if (this.timeline.model !== m) this.timeline.setModel(m);
    const ch = m.changed | this.ui;
    m.changed = 0;
    this.ui = 0;
    if (ch & CH.flags) {
      this.renderHead();
      this.renderControls(m);
    }
    if (ch & (CH.flags | CH.iters | CH.current | CH.state | CH.runs)) this.renderStepper(m);
    this.renderWarning(m);
    if (ch & CH.state) {
      this.renderReady(m);
      this.renderTasks(m);
      this.renderFds(m);
    }
    if (ch & (CH.state | CH.current | CH.flags)) this.renderTimers(m);
    if (ch & CH.health) this.renderHealth(m);
    if (ch & CH.runs) this.renderRecent(m);
    if (ch & (CH.runs | CH.iters | CH.marks | CH.current | CH.flags)) {
      this.timeline.dirty = true;
      if (ch & CH.runs) this.renderLegend(m);
    }
    this.timeline.draw();
    const d = this.el.dataset;
    if (d.seq !== String(m.seq)) d.seq = String(m.seq);
    if (d.iter !== String(m.iter)) d.iter = String(m.iter);
    if (d.ran !== String(m.ran)) d.ran = String(m.ran);
  }

  renderHead() {
    this.el.dataset.mode = this.mode;
    this.el.dataset.loop = String(this.selected);
    const ids = [...this.models.keys()];
    if (this.replay) for (const l of this.replay.rec.loops()) if (!ids.includes(l.id)) ids.push(l.id);
    this.loopSelect.hidden = ids.length < 2;
    if (ids.length >= 2) {
      const key = ids.map((id) => `${id}:${this.loopName(id)}`).join("|") + "#" + this.selected;
      if (key !== this.loopKey) {
        this.loopKey = key;
        this.loopSelect.replaceChildren(...ids.sort((a, b) => a - b).map((id) => h("option", { value: id, selected: id === this.selected }, this.loopName(id))));
      }
    }
    this.replayBtn.hidden = this.mode === "replay" || (!this.saved && !this.liveFrames.length);
    this.controls.hidden = this.mode === "replay";
    this.replayBar.hidden = this.mode !== "replay";
    this.badge.textContent = this.mode === "replay" ? "replay" : "";
    if (this.replay) {
      const r = this.replay;
      this.scrub.value = String(r.k);
      this.replayPos.textContent = `frame ${r.k + 1} / ${r.rec.length} · ${(r.rec.times[r.k] / 1000).toFixed(3)} s`;
      this.playBtn.textContent = r.playing ? "Pause" : "Play";
      this.el.dataset.replayPos = String(r.k);
      this.el.dataset.replayLen = String(r.rec.length);
    }
  }

  loopName(id) {
    const m = this.models.get(id);
    let name = m ? m.name : "";
    if (!name && this.replay) name = this.replay.rec.loops().find((l) => l.id === id)?.name || "";
    if (!name) name = id ? `loop ${id}` : "shared loop";
    return (m && m.closed ? `${name} (closed)` : name);
  }

  renderControls(m) {
    const paused = this.pausedNow(m);
    const virtual = this.virtualNow(m);
    const closed = m.closed;
    this.el.dataset.paused = String(paused);
    this.el.dataset.virtual = String(virtual);
    this.pauseBtn.textContent = paused ? "Resume" : "Pause";
    this.pauseBtn.dataset.state = paused ? "paused" : "running";
    this.pauseBtn.title = paused ? "let the loop run on" : "pause the loop at the next iteration boundary";
    this.pauseBtn.disabled = closed;
    this.stepIterBtn.disabled = !paused || closed;
    this.stepCbBtn.disabled = !paused || closed;
    this.virtualBox.checked = virtual;
    this.virtualBox.disabled = closed;
    this.slowSel.value = String(this.slow.get(this.selected) || 0);
    this.controls.classList.toggle("paused", paused);
  }

  renderStepper(m) {
    const it = m.lastIter;
    setText(this.iterLabel, `iteration ${m.iter.toLocaleString("en")}`);
    setText(this.ranLabel, `${plural(m.ran, "callback")} run`);
    let active = "poll";
    let note = "";
    const st = m.state;
    if (m.current) {
      active = "run";
      note = `running ${m.current.name || "a callback"} (${ownerText(m.current.owner)}${m.current.site ? ", " + siteText(m.current.site) : ""})`;
    } else if (this.pausedNow(m)) {
      active = "";
      note = "paused at an iteration boundary: step or resume";
    } else {
      let timeout = "∞";
      if (st.ready.length) timeout = "0";
      else if (st.timers.length) timeout = fmtMs(Math.max(0, (Math.min(...st.timers.map((t) => t.when)) - m.now()) * 1000));
      note = st.ready.length ? "the ready queue is not empty: poll without waiting" : `waiting in the poll (timeout ${timeout})`;
      if (m.closed) note = "the loop is closed";
    }
    const v = {
      poll: it ? `timeout ${it.poll_timeout < 0 ? "∞" : fmtMs(it.poll_timeout)}${it.polled ? `, waited ${fmtMs(it.poll)}` : ""}` : "",
      fds: it ? String(it.fds) : "",
      timers: it ? String(it.timers) : "",
      run: it ? `${it.ran} of ${it.ready}` : "",
    };
    for (const [k, el] of this.stepEls) {
      el.classList.toggle("active", k === active);
      setText(el.lastChild, v[k]);
    }
    setText(this.stepNote, note);
  }

  renderWarning(m) {
    let w = m.warn;
    let prefix = "";
    const shared = this.models.get(0);
    if (!w && this.mode === "live" && m !== shared && shared.warn) {
      // Another loop is shown, but the shared loop is blocked: that matters most.
      w = shared.warn;
      prefix = "shared loop: ";
    }
    if (w) {
      const live = this.mode === "live" && w.last && w.last.recv != null;
      const ms = live ? w.last.for + (performance.now() - w.last.recv) : w.last ? w.last.for : w.forMs;
      const text = `⚠ ${prefix}${culprit(w)} has been running for ${(ms / 1000).toFixed(1)} s — the loop is blocked`;
      if (this.warning.textContent !== text) this.warning.textContent = text;
      if (this.warning.hidden) this.warning.hidden = false;
      if (!w.shown) {
        w.shown = performance.now();
        const d = this.warning.dataset;
        d.seq = String(w.seq);
        d.callback = String(w.id);
        d.start = String(w.start); // trace ms: when the callback began
        d.forMs = String(w.forMs); // how long it had run when the monitor reported it (loop clock)
        if (w.recv != null) {
          d.pageMs = String(w.shown - w.recv); // receipt of that frame → warning in the DOM (page clock)
          d.offset = String((prefix ? shared : m).pageOffset); // page clock − trace clock, plus the quickest delivery
          d.shownAt = String(w.shown);
        }
      }
    } else if (!this.warning.hidden) {
      this.warning.hidden = true;
    }
    const lb = this.lastBlock;
    if (lb && (performance.now() > lb.until || w || this.mode !== "live")) this.lastBlock = null;
    const show = !!this.lastBlock;
    if (this.blockNote.hidden === show) this.blockNote.hidden = !show;
    if (show && this.blockNote.textContent !== this.lastBlock.text) this.blockNote.textContent = this.lastBlock.text;
  }

  renderReady(m) {
    const items = m.state.ready;
    const more = (m.state.more.ready || 0) + Math.max(0, items.length - SHOWN);
    setText(this.secReady.count, ` ${items.length + (m.state.more.ready || 0)}`);
    syncList(this.readyList, items.slice(0, SHOWN), (it, i) => `${it.id}/${i}`, (it) => this.itemEl(it), (el, it) => this.patchItem(el, it), more);
  }

  renderTimers(m) {
    const now = m.now();
    const timers = [...m.state.timers].sort((a, b) => a.when - b.when || a.id - b.id);
    const more = (m.state.more.timers || 0) + Math.max(0, timers.length - SHOWN);
    setText(this.secTimers.count, ` ${timers.length + (m.state.more.timers || 0)}`);
    const shown = timers.slice(0, SHOWN);
    syncList(this.timerList, shown, (it) => String(it.id), (it) => {
      const el = this.itemEl(it);
      el.append(h("span", { class: "lp-due" }));
      return el;
    }, (el, it) => {
      this.patchItem(el, it);
      const d = (it.when - now) * 1000;
      setText(el.lastChild, d > 0 ? `in ${fmtMs(d)}` : "due");
      el.dataset.when = String(it.when);
    }, more, true);
    // The axis: now at the left, the latest shown due time (at least 1 s ahead) at the right.
    const horizon = Math.max(1, niceCeil(shown.length ? shown[shown.length - 1].when - now : 1));
    this.timerAxis.hidden = shown.length === 0;
    if (this.axisHorizon !== horizon) {
      this.axisHorizon = horizon;
      this.timerAxis.dataset.horizon = `+${horizon} s`;
    }
    const ids = new Set(shown.map((t) => String(t.id)));
    for (const el of [...this.timerAxis.children]) if (!ids.has(el.dataset.id)) el.remove();
    const have = new Map([...this.timerAxis.children].map((el) => [el.dataset.id, el]));
    for (const t of shown) {
      let el = have.get(String(t.id));
      if (!el) {
        el = h("span", { class: "lp-tick", dataset: { id: t.id, owner: t.owner, site: t.site || "" }, title: `${t.name} · ${whereText(t.owner, t.site)}` }, h("i", { style: `background:${this.colorOf(t.owner)}` }), h("span", null, t.name));
        if (this.owns(t.owner)) el.classList.add("lp-hl");
        this.timerAxis.append(el);
      }
      const x = `${(Math.max(0, Math.min(1, (t.when - now) / horizon)) * 100).toFixed(1)}%`;
      if (el.style.left !== x) el.style.left = x;
      el.classList.toggle("lp-tick-r", (t.when - now) / horizon > 0.8);
    }
  }

  renderFds(m) {
    const ws = m.state.watchers;
    this.secFds.count.textContent = ` ${ws.length}`;
    this.secFds.classList.toggle("empty", ws.length === 0);
    const rows = [];
    for (const w of ws.slice(0, SHOWN)) {
      for (const [dir, it, fires] of [["read", w.reader, w.reads], ["write", w.writer, w.writes]]) {
        if (!it) continue;
        rows.push({ key: `${w.fd}/${dir}`, fd: w.fd, dir, it, fires });
      }
    }
    syncList(this.fdTable, rows, (r) => r.key, (r) => h("tr", { class: "lp-item", dataset: { owner: r.it.owner, site: r.it.site || "" } },
      h("td", { class: "lp-fd" }), h("td"), h("td"), h("td")), (el, r) => {
      const [a, b, c, d] = el.children;
      a.textContent = String(r.fd);
      b.textContent = r.dir;
      c.textContent = `${r.it.name} · ${whereText(r.it.owner, r.it.site)}`;
      d.textContent = String(r.fires);
      el.dataset.owner = String(r.it.owner);
    });
  }

  renderTasks(m) {
    const tasks = m.state.tasks;
    this.secTasks.count.textContent = ` ${tasks.length + (m.state.more.tasks || 0)}`;
    syncList(this.taskList, tasks.slice(0, SHOWN), (t) => String(t.id), (t) => {
      const el = this.itemEl(t);
      el.append(h("span", { class: "lp-task-state" }), h("div", { class: "lp-awaits" }));
      return el;
    }, (el, t) => {
      this.patchItem(el, t);
      const st = el.querySelector(".lp-task-state");
      st.textContent = t.state;
      st.dataset.state = t.state;
      const aw = el.querySelector(".lp-awaits");
      const parts = [];
      if (t.awaiting) parts.push(`awaits ${t.awaiting.name || t.awaiting.kind} (${t.awaiting.kind})`);
      if (t.await_site) parts.push(`suspended at ${siteText(t.await_site)}`);
      parts.push(`${plural(t.steps, "step")}`);
      aw.textContent = parts.join(" · ");
    }, m.state.more.tasks || 0);
    this.renderGraph(tasks.slice(0, 30));
  }

  // renderGraph draws the await graph: tasks in a column, an arrow from each task to what it
  // awaits — another task in the column, or a future in a second column.
  renderGraph(tasks) {
    const byId = new Map(tasks.map((t, i) => [t.id, i]));
    const futs = [];
    const futIdx = new Map();
    const edges = [];
    for (const [i, t] of tasks.entries()) {
      const a = t.awaiting;
      if (!a) continue;
      // A task awaits a task's own future: the future's id is the task's.
      if (byId.has(a.id)) edges.push({ from: i, to: byId.get(a.id), task: true });
      else {
        if (!futIdx.has(a.id)) { futIdx.set(a.id, futs.length); futs.push(a); }
        edges.push({ from: i, to: futIdx.get(a.id), task: false });
      }
    }
    const key = tasks.map((t) => `${t.id}:${t.state}:${t.awaiting ? t.awaiting.id : ""}`).join(",");
    if (key === this.graphKey) return;
    this.graphKey = key;
    const g = this.graph;
    while (g.firstChild) g.firstChild.remove();
    if (!edges.length) {
      g.setAttribute("height", "0");
      return;
    }
    const rowH = 20, W = 300, colA = 70, colB = 200;
    const n = Math.max(tasks.length, futs.length);
    g.setAttribute("height", String(n * rowH + 8));
    g.setAttribute("viewBox", `0 0 ${W} ${n * rowH + 8}`);
    const defs = svg("defs");
    const marker = svg("marker", { id: "lp-arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 6, markerHeight: 6, orient: "auto-start-reverse" });
    marker.append(svg("path", { d: "M0,0 L10,5 L0,10 z", class: "lp-arrowhead" }));
    defs.append(marker);
    g.append(defs);
    const y = (i) => 4 + i * rowH + rowH / 2;
    for (const [i, t] of tasks.entries()) {
      const node = svg("g", { class: "lp-node", "data-owner": t.owner, "data-site": t.site || "" });
      node.append(svg("circle", { cx: colA, cy: y(i), r: 5, fill: this.colorOf(t.owner) }),
        svgText(colA - 9, y(i), t.name, "end"));
      g.append(node);
    }
    for (const [i, f] of futs.entries()) {
      const node = svg("g", { class: "lp-node lp-fut", "data-owner": f.owner, "data-site": f.site || "" });
      node.append(svg("rect", { x: colB - 4, y: y(i) - 4, width: 8, height: 8, fill: this.colorOf(f.owner) }),
        svgText(colB + 9, y(i), f.name || f.kind, "start"));
      g.append(node);
    }
    for (const e of edges) {
      const y0 = y(e.from), y1 = y(e.to);
      const d = e.task
        ? `M${colA + 6},${y0} C${colA + 40},${y0} ${colA + 40},${y1} ${colA + 7},${y1}`
        : `M${colA + 6},${y0} C${colA + 60},${y0} ${colB - 60},${y1} ${colB - 6},${y1}`;
      g.append(svg("path", { d, class: "lp-edge", "marker-end": "url(#lp-arrow)" }));
    }
  }

  renderHealth(m) {
    for (const k of Object.keys(this.spark)) this.spark[k].set(m.health[k]);
  }

  // renderRecent shows the last callbacks, newest first, in a fixed set of rows patched in
  // place (at 100k callbacks/s every row changes every frame: no elements are made).
  renderRecent(m) {
    const list = this.recentList;
    const n = m.recent.len;
    while (list.children.length < n) {
      const el = this.itemEl({ id: 0, owner: 0, name: "" });
      el.append(h("span", { class: "lp-dur" }));
      list.append(el);
    }
    while (list.children.length > n) list.lastChild.remove();
    for (let i = 0; i < n; i++) {
      const r = m.recent.at(n - 1 - i);
      const el = list.children[i];
      if (el._run === r) continue;
      el._run = r;
      this.patchItem(el, r);
      el.dataset.id = String(r.id);
      setText(el.lastChild, fmtMs((r.end || r.start) - r.start));
    }
    const notes = [];
    if (m.dropped) notes.push(`${plural(m.dropped, "callback")} counted, not listed`);
    if (m.lost) notes.push(`${plural(m.lost, "event chunk")} lost by the monitor`);
    setText(this.secRecent.count, notes.length ? ` (${notes.join("; ")})` : "");
  }

  renderLegend(m) {
    const owners = new Set();
    const runs = m.runs;
    for (let i = Math.max(0, runs.len - 2000); i < runs.len; i++) owners.add(runs.at(i).owner);
    this.timeline.renderLegend(owners, (o) => ownerText(o));
  }

  // itemEl makes the element of a handle, timer or task: colour of its owner, name, owner and
  // the line that created it (click: show the line).
  itemEl(it) {
    const el = h("li", { class: "lp-item", dataset: { id: it.id, owner: it.owner, site: it.site || "" }, title: "show the line that created it" },
      h("i", { class: "lp-dot" }), h("span", { class: "lp-name" }), h("span", { class: "lp-kind" }), h("span", { class: "lp-where" }));
    this.patchItem(el, it);
    return el;
  }

  patchItem(el, it) {
    const [dot, name, kind, where] = el.children;
    const color = this.colorOf(it.owner);
    if (dot.style.background !== color) dot.style.background = color;
    const nm = it.name || it.kind || "callback";
    if (name.textContent !== nm) name.textContent = nm;
    const kd = it.kind && it.kind !== nm ? it.kind : "";
    if (kind.textContent !== kd) kind.textContent = kd;
    const wh = whereText(it.owner, it.site);
    if (where.textContent !== wh) where.textContent = wh;
    el.dataset.name = nm;
    el.dataset.owner = String(it.owner);
    el.dataset.site = it.site || "";
    el.classList.toggle("lp-hl", this.owns(it.owner));
  }

  // colorOf is the colour of an owner: one per cell (in order of first appearance), grey for
  // the kernel's own work.
  colorOf(owner) {
    if (!(owner > 0)) return KERNEL_COLOR;
    const cell = this.nb.runs.get(owner) ?? `#${owner}`;
    let i = this.cellColors.get(cell);
    if (i == null) {
      i = this.cellColors.size % PALETTE.length;
      this.cellColors.set(cell, i);
    }
    return PALETTE[i];
  }

  advancePlayback() {
    const r = this.replay;
    const now = performance.now();
    r.head += (now - (r.wall || now)) * r.speed;
    r.wall = now;
    const k = r.rec.indexAt(r.head, r.k);
    if (k !== r.k) this.seek(k);
    if (r.k >= r.rec.length - 1) {
      r.playing = false;
      this.ui |= CH.flags;
    } else if (r.rec.times[r.k + 1] < r.rec.times[r.k]) {
      this.seek(r.k + 1); // a restart inside the recording: go on from there
      r.head = r.rec.times[r.k];
    }
    this.schedule();
  }
}

// syncList makes list's children show items, reusing elements by key: build(item) makes one,
// patch(el, item) updates it. more > 0 adds a "+N more" line. With leave, removed elements
// stay a moment with class "leaving" (timers firing).
function syncList(list, items, keyOf, build, patch, more = 0, leave = false) {
  const old = new Map();
  for (const el of [...list.children]) {
    if (el.classList.contains("leaving")) continue;
    if (el.classList.contains("lp-more")) { el.remove(); continue; }
    old.set(el.dataset.key, el);
  }
  let prev = null;
  items.forEach((it, i) => {
    const key = keyOf(it, i);
    let el = old.get(key);
    if (el) old.delete(key);
    else {
      el = build(it);
      el.dataset.key = key;
    }
    if (patch) patch(el, it);
    const want = prev ? prev.nextSibling : list.firstChild;
    if (want !== el) list.insertBefore(el, want);
    prev = el;
    while (prev.nextSibling && prev.nextSibling.classList.contains("leaving")) prev = prev.nextSibling;
  });
  const animate = leave && old.size <= 3;
  for (const el of old.values()) {
    if (animate) {
      el.classList.add("leaving");
      setTimeout(() => el.remove(), 600);
    } else {
      el.remove();
    }
  }
  if (more > 0) {
    const text = `+${more.toLocaleString("en")} more`;
    list.append(list.tagName === "TBODY" ? h("tr", { class: "lp-more" }, h("td", { colspan: 4 }, text)) : h("li", { class: "lp-more" }, text));
  }
}

// whereText says who owns an item and where it was made: "In[4] line 3", or "kernel".
function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
}

function whereText(owner, site) {
  const s = parseSite(site);
  if (s && s.count === owner) return siteText(site);
  return `${ownerText(owner)}${site ? " · " + siteText(site) : ""}`;
}

function culprit(w) {
  const s = parseSite(w.site);
  if (s && s.line) return `In[${s.count}] line ${s.line}${w.name && !/^In\[\d+\]$/.test(w.name) ? ` (${w.name})` : ""}`;
  return `${w.name || "a callback"}${w.owner > 0 ? ` (In[${w.owner}])` : ""}`;
}

function niceCeil(s) {
  for (const v of [1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600, 86400]) if (s <= v) return v;
  return Math.ceil(s);
}

function fmtRate(v) {
  if (v >= 1e6) return `${(v / 1e6).toFixed(1)}M/s`;
  if (v >= 1e3) return `${(v / 1e3).toFixed(1)}k/s`;
  return `${Math.round(v)}/s`;
}

const SVGNS = "http://www.w3.org/2000/svg";
function svg(tag, attrs) {
  const el = document.createElementNS(SVGNS, tag);
  if (attrs) for (const [k, v] of Object.entries(attrs)) if (v != null) el.setAttribute(k, String(v));
  return el;
}
function svgText(x, y, text, anchor) {
  const t = svg("text", { x, y, "text-anchor": anchor, "dominant-baseline": "middle", class: "lp-gtext" });
  t.textContent = text.length > 22 ? text.slice(0, 21) + "…" : text;
  return t;
}

// sparkline is a small line chart of the last values of a ring, with the latest value.
function sparkline(label, title, fmt) {
  const line = svg("polyline", { class: "lp-spark-line", fill: "none" });
  const area = svg("polygon", { class: "lp-spark-area" });
  const s = svg("svg", { class: "lp-spark", viewBox: "0 0 120 24", preserveAspectRatio: "none" });
  s.append(area, line);
  const value = h("span", { class: "lp-spark-v" });
  const el = h("div", { class: "lp-spark-row", title }, h("span", { class: "lp-spark-l" }, label), s, value);
  return {
    el,
    set(ring) {
      const n = ring.len;
      if (!n) {
        line.setAttribute("points", "");
        area.setAttribute("points", "");
        value.textContent = "";
        return;
      }
      let max = 1e-9;
      for (let i = 0; i < n; i++) max = Math.max(max, ring.at(i));
      if (label === "busy") max = 100;
      const pts = [];
      for (let i = 0; i < n; i++) pts.push(`${((120 * (ring.cap - n + i)) / (ring.cap - 1)).toFixed(1)},${(23 - (22 * ring.at(i)) / max).toFixed(1)}`);
      line.setAttribute("points", pts.join(" "));
      area.setAttribute("points", `${pts[0].split(",")[0]},24 ${pts.join(" ")} 120,24`);
      value.textContent = fmt(ring.at(n - 1));
    },
  };
}

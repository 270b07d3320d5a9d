// The header's indicators: the kernel's state (with the cause when it died), the connection,
// and whether the file on disk is up to date.
import { h, clear } from "./dom.js";

const kernelLabels = {
  none: "no kernel",
  starting: "starting",
  idle: "idle",
  busy: "busy",
  interrupting: "interrupting",
  restarting: "restarting",
  dead: "dead",
};

export class KernelIndicator {
  constructor(onRestart) {
    this.onRestart = onRestart;
    this.el = h("span", { class: "kernel-status", role: "status", "aria-live": "polite" });
    this.set({ state: "none" });
  }

  set({ state, cause }) {
    this.state = state;
    this.el.dataset.state = state;
    this.el.title = cause ? `kernel ${state}: ${cause}` : `kernel ${kernelLabels[state] || state}`;
    clear(this.el);
    this.el.append(h("span", { class: "dot" }), h("span", { class: "label" }, `Kernel: ${kernelLabels[state] || state}`));
    if (cause) this.el.append(h("span", { class: "cause" }, cause));
    if (state === "dead") {
      this.el.append(h("button", { type: "button", class: "link", onclick: () => this.onRestart() }, "restart"));
    }
  }
}

export class ConnectionIndicator {
  constructor(onRetry) {
    this.el = h("span", { class: "conn-status", hidden: true });
    this.onRetry = onRetry;
    this.timer = null;
  }

  set(state, delay) {
    document.body.dataset.connection = state;
    clearInterval(this.timer);
    clear(this.el);
    this.el.dataset.state = state;
    if (state === "open") {
      this.el.hidden = true;
      return;
    }
    this.el.hidden = false;
    if (state === "connecting") {
      this.el.append("connecting…");
      return;
    }
    const until = performance.now() + (delay || 0);
    const text = h("span");
    const tick = () => {
      text.textContent = `disconnected: retrying in ${Math.max(0, Math.ceil((until - performance.now()) / 1000))} s`;
    };
    tick();
    this.timer = setInterval(tick, 500);
    this.el.append(text, " ", h("button", { type: "button", class: "link", onclick: () => this.onRetry() }, "retry now"));
  }
}

export class SaveIndicator {
  constructor() {
    this.el = h("span", { class: "save-status" });
  }

  set(state, at) {
    this.el.dataset.state = state;
    this.el.textContent = { saved: "saved", unsaved: "saving…", offline: "unsaved (offline)" }[state] || state;
    this.el.title = at ? `saved at ${new Date(at).toLocaleTimeString()}` : "";
  }
}

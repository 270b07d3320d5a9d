// Toasts: short messages in a corner of the page (notices about the whole notebook, errors of
// requests). They go away by themselves, or on click.
import { h } from "./dom.js";

let box = null;

export function toast(text, kind = "info", ms = kind === "error" ? 10_000 : 6000) {
  if (!box) {
    box = h("div", { class: "toasts", role: "status", "aria-live": "polite" });
    document.body.append(box);
  }
  const t = h("div", { class: `toast toast-${kind}`, onclick: () => t.remove() }, text);
  box.append(t);
  setTimeout(() => t.remove(), ms);
  return t;
}

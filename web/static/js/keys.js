// Jupyter's keyboard model. In command mode (no editor focused) single keys act on the selected
// cell (A, B, M, Y, Z, C, X, V, arrows/J/K, Enter) and some need pressing twice (D D, I I, 0 0).
// Shift/Ctrl/Alt-Enter run in both modes (the editor has its own bindings for edit mode); the
// palette key and Ctrl-S work everywhere.
import { commandKeys, doubleKeys } from "./commands.js";

const DOUBLE_MS = 800;

export function installKeys(nb) {
  let lastKey = "";
  let lastAt = 0;
  document.addEventListener("keydown", (e) => {
    const mod = e.ctrlKey || e.metaKey;
    const key = e.key;
    if (mod && e.shiftKey && (key === "P" || key === "p")) {
      e.preventDefault();
      nb.exec("palette");
      return;
    }
    if (mod && !e.shiftKey && !e.altKey && (key === "s" || key === "S")) {
      e.preventDefault();
      nb.exec("save");
      return;
    }
    if (nb.modal || e.defaultPrevented) return;
    if (nb.mode === "edit" || isTextInput(e.target)) return;
    // Enter on a focused link or button (an In[n]:line link, "show more") is theirs.
    if (key === "Enter" && !e.shiftKey && !mod && !e.altKey && e.target.closest?.("a, button, summary")) return;

    if (key === "Enter" && (e.shiftKey || mod || e.altKey)) {
      e.preventDefault();
      nb.exec(e.shiftKey ? "run-advance" : mod ? "run" : "run-insert");
      return;
    }
    if (mod && e.shiftKey && (key === "ArrowUp" || key === "ArrowDown")) {
      e.preventDefault();
      nb.exec(key === "ArrowUp" ? "move-up" : "move-down");
      return;
    }
    if (mod || e.altKey) return;

    const k = key.length === 1 ? (e.shiftKey && /[a-z]/i.test(key) ? "Shift-" + key.toUpperCase() : key.toLowerCase()) : key;
    const dbl = doubleKeys[k];
    if (dbl) {
      e.preventDefault();
      const now = performance.now();
      if (lastKey === k && now - lastAt < DOUBLE_MS) {
        lastKey = "";
        nb.exec(dbl);
      } else {
        lastKey = k;
        lastAt = now;
      }
      return;
    }
    lastKey = "";
    const id = commandKeys[k];
    if (id) {
      e.preventDefault();
      nb.exec(id);
    }
  });
}

function isTextInput(el) {
  if (!el || !el.tagName) return false;
  const t = el.tagName;
  return t === "INPUT" || t === "TEXTAREA" || t === "SELECT" || el.isContentEditable;
}

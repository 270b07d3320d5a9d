// The command palette (Ctrl/Cmd-Shift-P): type to filter the notebook's commands, arrows to
// choose, Enter to run, Esc to close.
import { h, clear } from "./dom.js";
import { commands } from "./commands.js";

export function openPalette(nb) {
  if (nb.modal) return;
  const input = h("input", { type: "text", class: "palette-input", placeholder: "Type a command", "aria-label": "command" });
  const list = h("ul", { class: "palette-list", role: "listbox" });
  const box = h("div", { class: "palette", role: "dialog", "aria-label": "command palette" }, input, list);
  const backdrop = h("div", { class: "backdrop" }, box);
  let shown = [];
  let active = 0;
  const close = (run) => {
    backdrop.remove();
    nb.modal = null;
    if (run) nb.exec(run.id);
    else nb.restoreFocus();
  };
  const render = () => {
    const words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    shown = commands.filter((c) => c.id !== "palette" && words.every((w) => c.label.toLowerCase().includes(w) || c.id.includes(w)));
    active = Math.min(active, Math.max(0, shown.length - 1));
    clear(list);
    shown.forEach((c, i) => {
      list.append(h("li", {
        class: i === active ? "active" : "", role: "option", dataset: { command: c.id },
        onmousedown: (e) => {
          e.preventDefault();
          close(c);
        },
      }, h("span", null, c.label), c.keys ? h("kbd", null, c.keys.join(" / ")) : null));
    });
    list.children[active]?.scrollIntoView({ block: "nearest" });
  };
  input.addEventListener("input", () => {
    active = 0;
    render();
  });
  input.addEventListener("keydown", (e) => {
    if (e.key === "ArrowDown") active = Math.min(shown.length - 1, active + 1);
    else if (e.key === "ArrowUp") active = Math.max(0, active - 1);
    else if (e.key === "Enter") return close(shown[active]);
    else if (e.key === "Escape") return close(null);
    else return;
    e.preventDefault();
    render();
  });
  backdrop.addEventListener("mousedown", (e) => {
    if (e.target === backdrop) close(null);
  });
  nb.modal = backdrop;
  document.body.append(backdrop);
  render();
  input.focus();
}

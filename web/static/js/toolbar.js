// The notebook's toolbar: buttons for the common commands (labels hidden on narrow screens),
// the cell type, and the palette for everything else.
import { h } from "./dom.js";
import { byId } from "./commands.js";
import { icon } from "./icons.js";

// [command, icon, label]; an empty label shows the icon only (the title names the command), a
// null icon the label only.
const buttons = [
  ["insert-below", "insert", ""],
  ["cut", "cut", ""],
  ["copy", "copy", ""],
  ["paste", "paste", ""],
  ["move-up", "up", ""],
  ["move-down", "down", ""],
  ["delete", "delete", ""],
  null,
  ["run-advance", "run", "Run"],
  ["run-all", "runAll", "Run all"],
  ["interrupt", "stop", "Interrupt"],
  ["restart", "restart", "Restart"],
  ["restart-run-all", "restartRun", "Restart & run all"],
  ["clear-all-outputs", "clear", "Clear"],
  ["format", "format", "Format"],
  null,
  ["share", null, "Share"],
];

export function buildToolbar(nb) {
  const bar = h("nav", { class: "toolbar", "aria-label": "notebook toolbar" });
  for (const b of buttons) {
    if (!b) {
      bar.append(h("span", { class: "sep" }));
      continue;
    }
    const [id, ic, text] = b;
    const cmd = byId.get(id);
    const keys = cmd.keys ? ` (${cmd.keys.join(" / ")})` : "";
    bar.append(h("button", {
      type: "button", class: "tb", title: cmd.label + keys, "aria-label": cmd.label, dataset: { command: id },
      // Keep the editor's focus (and edit mode) when a button is clicked.
      onmousedown: (e) => e.preventDefault(),
      onclick: () => nb.exec(id),
    }, ic ? icon(ic) : null, text ? h("span", { class: "text" }, text) : null));
  }
  const type = h("select", {
    class: "cell-type", "aria-label": "cell type", title: "cell type (Y: code, M: Markdown)",
    onchange: () => {
      nb.setType(type.value);
      nb.restoreFocus();
    },
  }, h("option", { value: "code" }, "Code"), h("option", { value: "markdown" }, "Markdown"), h("option", { value: "raw" }, "Raw"));
  bar.append(type, h("button", {
    type: "button", class: "tb", title: "All commands (Ctrl-Shift-P)", dataset: { command: "palette" },
    onmousedown: (e) => e.preventDefault(), onclick: () => nb.exec("palette"),
  }, icon("commands"), h("span", { class: "text" }, "Commands")));
  return { el: bar, setType: (t) => { type.value = t || "code"; type.disabled = !t; } };
}

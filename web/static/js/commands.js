// The notebook's commands: one list shared by the keyboard, the toolbar and the command
// palette. keys are shown to the user (command-mode keys as Jupyter has them).

export const commands = [
  { id: "run-advance", label: "Run cell and select below", keys: ["Shift-Enter"], run: (nb) => nb.runSelected("advance") },
  { id: "run", label: "Run cell", keys: ["Ctrl-Enter"], run: (nb) => nb.runSelected("stay") },
  { id: "run-insert", label: "Run cell and insert below", keys: ["Alt-Enter"], run: (nb) => nb.runSelected("insert") },
  { id: "run-all", label: "Run all cells", run: (nb) => nb.runRange("all") },
  { id: "run-above", label: "Run all cells above", run: (nb) => nb.runRange("above") },
  { id: "run-below", label: "Run selected cell and all below", run: (nb) => nb.runRange("below") },
  { id: "interrupt", label: "Interrupt the kernel", keys: ["I I"], run: (nb) => nb.interrupt() },
  { id: "restart", label: "Restart the kernel", keys: ["0 0"], run: (nb) => nb.restart(false) },
  { id: "restart-run-all", label: "Restart the kernel and run all cells", run: (nb) => nb.restart(true) },
  { id: "restart-clear", label: "Restart the kernel and clear all outputs", run: (nb) => nb.restart(false, true) },
  { id: "clear-outputs", label: "Clear the cell's outputs", run: (nb) => nb.clearOutputs(false) },
  { id: "clear-all-outputs", label: "Clear all outputs", run: (nb) => nb.clearOutputs(true) },
  { id: "cancel-owned", label: "Cancel what the cell owns on the loop", run: (nb) => nb.cancelOwned() },
  { id: "insert-above", label: "Insert cell above", keys: ["A"], run: (nb) => nb.insert(0) },
  { id: "insert-below", label: "Insert cell below", keys: ["B"], run: (nb) => nb.insert(1) },
  { id: "move-up", label: "Move cell up", keys: ["Ctrl-Shift-↑"], run: (nb) => nb.move(-1) },
  { id: "move-down", label: "Move cell down", keys: ["Ctrl-Shift-↓"], run: (nb) => nb.move(1) },
  { id: "delete", label: "Delete cell", keys: ["D D"], run: (nb) => nb.deleteSelected() },
  { id: "undo-delete", label: "Undo cell deletion", keys: ["Z"], run: (nb) => nb.undoDelete() },
  { id: "to-code", label: "Change cell to code", keys: ["Y"], run: (nb) => nb.setType("code") },
  { id: "to-markdown", label: "Change cell to Markdown", keys: ["M"], run: (nb) => nb.setType("markdown") },
  { id: "copy", label: "Copy cell", keys: ["C"], run: (nb) => nb.copy(false) },
  { id: "cut", label: "Cut cell", keys: ["X"], run: (nb) => nb.copy(true) },
  { id: "paste", label: "Paste cell below", keys: ["V"], run: (nb) => nb.paste(1) },
  { id: "paste-above", label: "Paste cell above", keys: ["Shift-V"], run: (nb) => nb.paste(0) },
  { id: "format", label: "Format cell (gofmt)", keys: ["Shift-Alt-F"], run: (nb) => nb.format() },
  { id: "edit-mode", label: "Edit the selected cell", keys: ["Enter"], run: (nb) => nb.enterEdit() },
  { id: "command-mode", label: "Leave the editor (command mode)", keys: ["Esc"], run: (nb) => nb.commandMode() },
  { id: "select-up", label: "Select cell above", keys: ["↑", "K"], run: (nb) => nb.selectBy(-1) },
  { id: "select-down", label: "Select cell below", keys: ["↓", "J"], run: (nb) => nb.selectBy(1) },
  { id: "palette", label: "Show the command palette", keys: ["Ctrl-Shift-P"], run: (nb) => nb.palette() },
  { id: "save", label: "Save now", keys: ["Ctrl-S"], run: (nb) => nb.flushAll() },
  { id: "share", label: "Share a link to a snapshot of this notebook", run: (nb) => nb.shareLink() },
  { id: "home", label: "Go to the notebook list", run: () => { location.href = "/"; } },
];

export const byId = new Map(commands.map((c) => [c.id, c]));

// Command-mode keys: a key (as KeyboardEvent.key, with "Shift-" for shifted letters) → command
// id; "D D" style entries need the key twice.
export const commandKeys = {
  Enter: "edit-mode",
  a: "insert-above",
  b: "insert-below",
  m: "to-markdown",
  y: "to-code",
  z: "undo-delete",
  c: "copy",
  x: "cut",
  v: "paste",
  "Shift-V": "paste-above",
  ArrowUp: "select-up",
  k: "select-up",
  ArrowDown: "select-down",
  j: "select-down",
};

export const doubleKeys = { d: "delete", i: "interrupt", 0: "restart" };

// The notebook page. Notebook mirrors the server's state of one notebook (the server is the
// authority: every connect starts with nb:state, which replaces what the page shows), turns
// server messages into changes of the cell views, and turns the user's commands into client
// messages. Selection and edit/command mode are the page's own.
//
// A share (/s/{id}) is the same page without a socket: the server's snapshot, read-only, with
// its outputs and its loop recording to replay; editing or running it offers an editable copy.
import { Connection, dispatch, ToServer } from "./wire.js";
import {
  socketURL, notebookURL, downloadURL, outputURL, openShipped, formatSource,
  shareNotebook, shareView, copyShare, shareDownloadURL, shareOutputURL,
} from "./api.js";
import { confirmAction } from "./dialog.js";
import { CellView } from "./cellview.js";
import { OutputArea } from "./outputs.js";
import { byId } from "./commands.js";
import { installKeys } from "./keys.js";
import { openPalette } from "./palette.js";
import { buildToolbar } from "./toolbar.js";
import { KernelIndicator, ConnectionIndicator, SaveIndicator } from "./status.js";
import { toast } from "./toast.js";
import { focusAt, jumpTo } from "./editor.js";
import { h, clear } from "./dom.js";
import { LoopPanel } from "./panel.js";

const EDIT_DELAY = 300; // ms of quiet typing before an edit is sent

export function startNotebook(root, path) {
  const nb = new Notebook(root, path);
  nb.start();
  return nb;
}

// startShare shows the shared snapshot id, read-only.
export async function startShare(root, id) {
  let view;
  try {
    view = await shareView(id);
  } catch (e) {
    clear(root);
    root.append(h("main", { class: "start" }, h("h2", null, "This share cannot be shown"), h("p", null, e.message),
      h("p", null, h("a", { href: "/" }, "All notebooks"))));
    return null;
  }
  const nb = new Notebook(root, view.name, { share: id });
  nb.startShare(view);
  return nb;
}

class Notebook {
  constructor(root, path, opts = {}) {
    this.path = path;
    this.share = opts.share || null; // the id of the shared snapshot shown, read-only
    this.savedWaiters = []; // resolved on the next nb:saved
    this.views = []; // CellView, in notebook order
    this.byId = new Map();
    this.sel = null; // id of the selected cell
    this.mode = "command"; // or "edit"
    this.readOnly = false;
    this.modal = null; // the open palette, if any
    this.clipboard = null; // {type, source}
    this.deleted = []; // undo stack: {index, type, source}
    this.editTimers = new Map(); // cell id → debounce timer
    this.unsent = new Set(); // cells whose edits the server has not seen
    this.pendingSelect = null; // {id, edit}: select this cell when it is inserted
    this.runs = new Map(); // execution count → cell id, for In[n]:line links
    this.loaded = false;

    this.kernel = new KernelIndicator(() => this.restart(false));
    this.conn = new ConnectionIndicator(() => this.socket.retryNow());
    this.saveState = new SaveIndicator();
    this.toolbar = buildToolbar(this);
    this.banner = h("div", { class: "banner", hidden: true });
    this.cellsEl = h("main", { class: "cells", tabindex: "-1", "aria-label": "cells" });
    this.panel = new LoopPanel(this); // the loop panel (panel.js), beside the cells
    this.background = new OutputArea({ jump: (n, l, c) => this.jump(n, l, c), fileName: (k) => `background-${k}.txt` });
    this.backgroundEl = h("section", { class: "background", hidden: true },
      h("div", { class: "background-head" },
        h("h2", null, "Background output"),
        h("span", { class: "hint" }, "output of loop work that no cell owns any more"),
        h("button", { type: "button", class: "link", onclick: () => { this.background.clear(); this.backgroundEl.hidden = true; } }, "clear")),
      this.background.el);

    const name = path.replace(/\.ipynb$/, "");
    document.title = this.share ? `${name} (shared) · Loopbook` : `${name} · Loopbook`;
    if (this.share) {
      this.saveState.el.hidden = true;
      document.body.classList.add("share-page");
    }
    clear(root);
    root.append(
      h("header", { class: "topbar" },
        h("a", { class: "logo", href: "/", title: "all notebooks" }, "Loopbook"),
        h("span", { class: "nb-name", title: path }, name),
        this.saveState.el,
        h("span", { class: "spacer" }),
        this.conn.el,
        this.kernel.el,
        h("a", { class: "link download", href: this.share ? shareDownloadURL(this.share) : downloadURL(path), download: path.split("/").pop(), title: "download the .ipynb file" }, "Download")),
      this.toolbar.el,
      this.banner,
      h("div", { class: "nb-body" }, this.cellsEl, this.panel.el),
      this.backgroundEl);
    document.body.classList.add("notebook-page");
  }

  start() {
    this.socket = new Connection(socketURL(this.path), {
      onMessage: (env) => dispatch(env, this),
      onStatus: (state, delay) => {
        this.conn.set(state, delay);
        if (state !== "open" && this.unsent.size) this.saveState.set("offline");
      },
    });
    this.socket.start();
    this.listen();
  }

  // startShare shows a share's view ({state, recording}); there is no kernel and no socket.
  startShare(view) {
    this.socket = { open: false, send: () => null, retryNow() {} };
    this.listen();
    this.nbState(view.state);
    this.loopRecording(view.recording);
  }

  listen() {
    installKeys(this);
    setInterval(() => this.views.forEach((v) => v.tick()), 200);
    addEventListener("beforeunload", () => this.flushAll());
    this.cellsEl.addEventListener("mousedown", (e) => {
      if (e.target === this.cellsEl) this.commandMode();
    });
    // Hovering a cell highlights what it owns in the loop panel.
    this.cellsEl.addEventListener("mouseover", (e) => {
      const id = e.target.closest?.(".cell")?.dataset.id || null;
      if (id !== this.hovered) this.panel.hoverCell((this.hovered = id));
    });
    this.cellsEl.addEventListener("mouseleave", () => this.panel.hoverCell((this.hovered = null)));
  }

  // --- server messages (one method per type; see wire.js dispatch) ---

  nbState(st) {
    const recreate = this.readOnly !== !!st.readonly;
    this.readOnly = !!st.readonly;
    const old = this.byId;
    this.views = [];
    this.byId = new Map();
    for (const c of st.cells) {
      let v = old.get(c.id);
      old.delete(c.id);
      if (v && !recreate && v.type === c.type) {
        if (!this.unsent.has(c.id) && !this.editTimers.has(c.id)) v.setSource(c.source);
        v.count = c.count;
        if (c.state !== v.state || c.state !== "running") v.setState(c.state);
        v.sinceServer(c);
        v.elapsed = c.elapsed;
        v.outputs.set(c.outputs);
        v.setOwned(c.owned);
        v.renderStatus();
        v.renderPrompt();
      } else {
        if (v) v.destroy();
        v = new CellView(c, this);
      }
      if (c.count != null) this.runs.set(c.count, c.id);
      this.views.push(v);
      this.byId.set(c.id, v);
      this.cellsEl.append(v.el); // appending in order also reorders
    }
    for (const v of old.values()) v.destroy();
    // Edits made while the connection was down go out now.
    for (const id of [...this.unsent]) {
      if (this.byId.has(id)) this.flush(this.byId.get(id));
      else this.unsent.delete(id);
    }
    this.kernelStatus(st.kernel || { state: "none" });
    this.saveState.set(st.saved ? "saved" : "unsaved");
    this.showReadOnly();
    if (!this.byId.has(this.sel)) this.sel = this.views[0]?.id ?? null;
    this.renderSelection(!this.loaded);
    this.loaded = true;
    document.body.dataset.loaded = "true";
  }

  nbSaved(d) {
    for (const resolve of this.savedWaiters.splice(0)) resolve();
    if (this.unsent.size === 0 && this.editTimers.size === 0) this.saveState.set("saved", d.at);
  }

  cellUpdated(c) {
    const v = this.byId.get(c.id);
    if (!v) return;
    if (v.type !== c.type) {
      const nv = new CellView(c, this);
      v.el.replaceWith(nv.el);
      v.destroy();
      this.views[this.views.indexOf(v)] = nv;
      this.byId.set(c.id, nv);
      this.renderSelection();
      if (this.sel === c.id && this.mode === "edit") this.enterEdit();
      return;
    }
    if (!this.editTimers.has(c.id) && !this.unsent.has(c.id)) v.setSource(c.source);
    v.count = c.count;
    v.elapsed = c.elapsed;
    if (c.state !== v.state) v.setState(c.state);
    v.outputs.set(c.outputs);
    v.setOwned(c.owned);
    v.renderPrompt();
    v.renderStatus();
  }

  cellInserted({ index, cell }) {
    const v = new CellView(cell, this);
    const before = this.views[index];
    this.views.splice(index, 0, v);
    this.byId.set(cell.id, v);
    this.cellsEl.insertBefore(v.el, before ? before.el : null);
    const ps = this.pendingSelect;
    if (ps && ps.id === cell.id) {
      this.pendingSelect = null;
      this.select(v);
      if (ps.edit) this.enterEdit();
    } else {
      this.renderSelection();
    }
  }

  cellDeleted({ cell }) {
    const v = this.byId.get(cell);
    if (!v) return;
    const i = this.views.indexOf(v);
    this.views.splice(i, 1);
    this.byId.delete(cell);
    clearTimeout(this.editTimers.get(cell));
    this.editTimers.delete(cell);
    this.unsent.delete(cell);
    const wasEditing = this.sel === cell && this.mode === "edit";
    v.destroy();
    if (this.sel === cell) {
      this.sel = this.views[Math.min(i, this.views.length - 1)]?.id ?? null;
      if (wasEditing) this.mode = "command";
      this.renderSelection(true);
      this.cellsEl.focus({ preventScroll: true });
    }
  }

  cellMoved({ cell, index }) {
    const v = this.byId.get(cell);
    if (!v) return;
    this.views.splice(this.views.indexOf(v), 1);
    this.views.splice(index, 0, v);
    const next = this.views[index + 1];
    const focused = v.el.contains(document.activeElement);
    this.cellsEl.insertBefore(v.el, next ? next.el : null);
    if (focused) v.editor.focus();
    if (this.sel === cell) v.el.scrollIntoView({ block: "nearest" });
  }

  cellQueued({ cell }) {
    this.byId.get(cell)?.setState("queued");
  }

  cellStarted({ cell, count }) {
    const v = this.byId.get(cell);
    if (!v) return;
    this.runs.set(count, cell);
    this.panel.cellStarted();
    v.outputs.clear();
    v.clearNotices();
    v.setState("running", count);
  }

  cellOutput({ cell, output }) {
    this.byId.get(cell)?.outputs.append(output);
  }

  cellDisplay({ display_id, output }) {
    for (const v of this.views) v.outputs.replaceDisplay(display_id, output);
    this.background.replaceDisplay(display_id, output);
  }

  cellDone({ cell, status, elapsed }) {
    this.byId.get(cell)?.done(status, elapsed);
  }

  cellOwned({ cell, owned }) {
    this.byId.get(cell)?.setOwned(owned);
  }

  cellCleared({ cells }) {
    const ids = cells && cells.length ? cells : this.views.map((v) => v.id);
    for (const id of ids) this.byId.get(id)?.outputs.clear();
  }

  background(output) {
    this.backgroundEl.hidden = false;
    this.background.append(output);
  }

  kernelStatus(ks) {
    this.kernel.set(ks);
    document.body.dataset.kernel = ks.state;
  }

  notice({ cell, text }) {
    const v = cell && this.byId.get(cell);
    if (v) v.notice(text);
    else toast(text);
  }

  error({ message }) {
    toast(message, "error");
  }

  // The loop panel (panel.js) folds frames in and draws at most once per animation frame.
  loopFrame(frame) {
    this.panel.frame(frame);
  }

  loopRecording(rec) {
    this.panel.recording(rec);
  }

  // highlightOwner marks the cell whose run count owns what the pointer is on in the panel.
  highlightOwner(count) {
    const v = count > 0 ? this.byId.get(this.runs.get(count)) : null;
    if (this.ownerHl && this.ownerHl !== v) this.ownerHl.el.classList.remove("lp-owner");
    this.ownerHl = v;
    if (v) v.el.classList.add("lp-owner");
  }

  // --- editing ---

  edited(v, text) {
    if (v.type === "markdown" && !v.editingMarkdown) v.renderMarkdown();
    this.saveState.set(this.socket.open ? "unsaved" : "offline");
    clearTimeout(this.editTimers.get(v.id));
    this.editTimers.set(v.id, setTimeout(() => this.flush(v), EDIT_DELAY));
  }

  // flush sends a cell's pending edit now.
  flush(v) {
    if (!v) return;
    const pending = this.editTimers.has(v.id) || this.unsent.has(v.id);
    clearTimeout(this.editTimers.get(v.id));
    this.editTimers.delete(v.id);
    if (!pending) return;
    if (this.socket.send(ToServer.cellEdit, { cell: v.id, source: v.source })) this.unsent.delete(v.id);
    else this.unsent.add(v.id);
  }

  flushAll() {
    for (const id of [...this.editTimers.keys(), ...this.unsent]) this.flush(this.byId.get(id));
  }

  editorFocused(v) {
    if (this.sel !== v.id) this.select(v);
    this.mode = "edit";
    this.renderMode();
  }

  editorBlurred(v) {
    this.flush(v);
    if (this.modal) return;
    this.mode = "command";
    this.renderMode();
  }

  // --- selection and modes ---

  get selected() {
    return this.byId.get(this.sel) || null;
  }

  get selectedIndex() {
    const v = this.selected;
    return v ? this.views.indexOf(v) : -1;
  }

  select(v, scroll = true) {
    this.sel = v ? v.id : null;
    this.renderSelection(scroll);
  }

  renderSelection(scroll = true) {
    for (const v of this.views) v.el.classList.toggle("selected", v.id === this.sel);
    const v = this.selected;
    this.toolbar.setType(v ? v.type : null);
    if (v && scroll) v.el.scrollIntoView({ block: "nearest" });
    this.renderMode();
  }

  renderMode() {
    document.body.dataset.mode = this.mode;
  }

  clicked(v, e) {
    if (this.sel !== v.id) this.select(v, false);
    if (!v.editorHost.contains(e.target) && this.mode === "edit" && !e.target.closest?.(".cm-editor")) {
      // A click on the prompt or the outputs leaves the editor, as in Jupyter.
      if (!e.target.closest?.("a, button, summary, iframe")) this.commandMode();
    }
  }

  enterEdit() {
    const v = this.selected;
    if (!v) return;
    if (this.readOnly) return this.readOnlyAction();
    if (v.type === "markdown") v.showEditor(true);
    this.mode = "edit";
    v.editor.focus();
    this.renderMode();
  }

  editCell(v) {
    this.select(v, false);
    this.enterEdit();
  }

  commandMode() {
    const v = this.selected;
    if (v) this.flush(v);
    this.mode = "command";
    if (document.activeElement && document.activeElement !== document.body) document.activeElement.blur();
    this.cellsEl.focus({ preventScroll: true });
    this.renderMode();
    return true;
  }

  restoreFocus() {
    if (this.mode === "edit" && this.selected) this.selected.editor.focus();
    else this.cellsEl.focus({ preventScroll: true });
  }

  selectBy(d) {
    const i = this.selectedIndex;
    const j = Math.max(0, Math.min(this.views.length - 1, i + d));
    if (this.views[j]) this.select(this.views[j]);
  }

  // editNeighbour moves the cursor from v's first/last line into the cell above/below.
  editNeighbour(v, d) {
    const w = this.views[this.views.indexOf(v) + d];
    if (!w) return false;
    this.flush(v);
    this.select(w);
    if (w.type === "markdown") w.showEditor(true);
    focusAt(w.editor, d < 0 ? "end" : "start");
    return true;
  }

  exec(id) {
    const c = byId.get(id);
    if (!c) return false;
    c.run(this);
    return true;
  }

  palette() {
    openPalette(this);
  }

  // --- commands ---

  send(type, data) {
    if (this.share) {
      this.readOnlyAction();
      return false;
    }
    if (this.socket.send(type, data) == null) {
      toast("not connected to the server: try again when the connection is back", "error");
      return false;
    }
    return true;
  }

  runSelected(how) {
    const v = this.selected;
    if (!v) return;
    if (this.share) return this.readOnlyAction();
    this.flush(v);
    if (v.type === "markdown") v.showEditor(false);
    if (v.type === "code") this.send(ToServer.cellRun, { cells: [v.id] });
    const i = this.views.indexOf(v);
    if (how === "advance") {
      if (i === this.views.length - 1) {
        this.insertAt(i + 1, "code", "", true);
      } else {
        this.select(this.views[i + 1]);
        this.commandMode();
      }
    } else if (how === "insert") {
      this.insertAt(i + 1, "code", "", true);
    } else if (v.type === "markdown") {
      this.commandMode();
    }
  }

  runRange(which) {
    this.flushAll();
    const i = this.selectedIndex;
    let range = this.views;
    if (which === "above") range = this.views.slice(0, Math.max(0, i));
    if (which === "below") range = this.views.slice(Math.max(0, i));
    for (const v of range) if (v.type === "markdown") v.showEditor(false);
    const ids = range.filter((v) => v.type === "code" && v.source.trim() !== "").map((v) => v.id);
    if (ids.length) this.send(ToServer.cellRun, { cells: ids });
  }

  interrupt() {
    this.send(ToServer.kernelInterrupt);
  }

  restart(runAll, clearAll) {
    this.flushAll();
    if (clearAll) this.send(ToServer.cellClear, { cells: [] });
    this.send(ToServer.kernelRestart, { run_all: !!runAll });
  }

  clearOutputs(all) {
    if (all) this.send(ToServer.cellClear, { cells: [] });
    else if (this.selected) this.send(ToServer.cellClear, { cells: [this.sel] });
  }

  cancelOwned(v = this.selected) {
    if (v) this.send(ToServer.cellCancel, { cell: v.id });
  }

  insert(offset, type = "code", source = "") {
    const i = this.selectedIndex;
    this.insertAt(i < 0 ? 0 : i + offset, type, source, false);
  }

  insertAt(index, type, source, edit) {
    if (this.readOnly) return this.readOnlyAction();
    const id = newCellID();
    this.pendingSelect = { id, edit };
    this.send(ToServer.cellInsert, { index, type, source, id });
  }

  move(d) {
    const v = this.selected;
    const j = this.selectedIndex + d;
    if (!v || j < 0 || j >= this.views.length) return;
    this.send(ToServer.cellMove, { cell: v.id, index: j });
  }

  deleteSelected() {
    const v = this.selected;
    if (!v) return;
    if (this.readOnly) return this.readOnlyAction();
    this.flush(v);
    this.deleted.push({ index: this.views.indexOf(v), type: v.type, source: v.source });
    if (this.deleted.length > 50) this.deleted.shift();
    this.send(ToServer.cellDelete, { cell: v.id });
  }

  undoDelete() {
    const d = this.deleted.pop();
    if (!d) return;
    this.insertAt(Math.min(d.index, this.views.length), d.type, d.source, false);
  }

  setType(type) {
    const v = this.selected;
    if (!v || v.type === type) return;
    if (this.readOnly) return this.readOnlyAction();
    this.flush(v);
    this.send(ToServer.cellSetType, { cell: v.id, type });
  }

  copy(cut) {
    const v = this.selected;
    if (!v) return;
    this.clipboard = { type: v.type, source: v.source };
    if (cut) this.deleteSelected();
  }

  paste(offset) {
    if (!this.clipboard) return;
    this.insert(offset, this.clipboard.type, this.clipboard.source);
  }

  async format() {
    const v = this.selected;
    if (!v || v.type !== "code") return;
    if (this.readOnly) return this.readOnlyAction();
    try {
      const res = await formatSource(v.source);
      if (res.error) throw new Error(res.error);
      if (typeof res.source === "string" && res.source !== v.source) {
        v.setSource(res.source);
        this.flush(v);
      }
    } catch (e) {
      toast(`format: ${e.message}`, "error");
    }
  }

  // jump puts the cursor on line:col of the cell that ran as In[n].
  jump(n, line, col) {
    const v = this.byId.get(this.runs.get(n)) || this.views.find((w) => w.count === n);
    if (!v) {
      toast(`In[${n}] is no longer in the notebook`);
      return;
    }
    this.select(v);
    if (v.type === "markdown") v.showEditor(true);
    this.mode = "edit";
    jumpTo(v.editor, line, col);
    this.renderMode();
  }

  fileName(v, kind) {
    const base = this.path.split("/").pop().replace(/\.ipynb$/, "");
    return `${base}-In${v.count ?? ""}-${kind}.txt`;
  }

  // outputURL is where the server serves the text a cell printed.
  outputURL(v) {
    return this.share ? shareOutputURL(this.share, v.id) : outputURL(this.path, v.id);
  }

  showReadOnly() {
    clear(this.banner);
    this.banner.hidden = !this.readOnly;
    if (!this.readOnly) return;
    this.banner.append(
      this.share
        ? "A shared snapshot, read-only: editing or running it makes an editable copy in your notebooks. "
        : "This is a shipped notebook, read-only. ",
      h("button", { type: "button", class: "btn primary", dataset: { action: "copy" }, onclick: () => this.makeCopy() }, "Make an editable copy"));
  }

  // makeCopy opens the user's editable copy of the read-only notebook shown (made the first time).
  async makeCopy() {
    try {
      const { path } = this.share ? await copyShare(this.share) : await openShipped(this.path);
      location.href = notebookURL(path);
    } catch (e) {
      toast(e.message, "error");
    }
  }

  // readOnlyAction answers an edit or a run of a read-only notebook: a share offers its copy.
  async readOnlyAction() {
    if (!this.share || this.offering) return;
    this.offering = true;
    try {
      if (await confirmAction("This shared notebook is read-only. Make an editable copy in your notebooks to edit and run it?", "Make a copy")) {
        await this.makeCopy();
      }
    } finally {
      this.offering = false;
    }
  }

  // shareLink snapshots the notebook as it is now (pending edits first) and shows the link.
  async shareLink() {
    if (this.share) {
      showLink(location.href, await copyText(location.href), "Link to this shared snapshot");
      return;
    }
    try {
      await this.settle();
      const { url } = await shareNotebook(this.path);
      const link = new URL(url, location.href).href;
      showLink(link, await copyText(link), "Link to a snapshot of this notebook");
    } catch (e) {
      toast(`share: ${e.message}`, "error");
    }
  }

  // settle sends pending edits and waits until the server has saved them (or a few seconds).
  settle() {
    const pending = this.editTimers.size > 0 || this.unsent.size > 0;
    this.flushAll();
    if (!pending || !this.socket.open) return Promise.resolve();
    return new Promise((resolve) => {
      this.savedWaiters.push(resolve);
      setTimeout(resolve, 3000);
    });
  }
}

// copyText puts text on the clipboard when the browser allows it; false when it does not.
async function copyText(text) {
  try {
    if (!navigator.clipboard || !window.isSecureContext) return false;
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

// showLink shows a share link in a dialog, selected for copying.
function showLink(link, copied, title) {
  const input = h("input", { type: "text", class: "dialog-input share-link", value: link, readonly: true, "aria-label": "share link" });
  const dlg = h("dialog", { class: "dialog share-dialog" },
    h("form", { method: "dialog" },
      h("p", { class: "dialog-title" }, title),
      input,
      h("p", { class: "hint share-copied" }, copied ? "Copied to the clipboard." : "Copy the link to share it. It shows the notebook as it is now; later changes are not in it."),
      h("div", { class: "dialog-buttons" },
        h("a", { class: "btn", href: link, target: "_blank", rel: "noopener" }, "Open"),
        h("button", { type: "submit", class: "btn primary", value: "ok" }, "Close"))));
  dlg.addEventListener("close", () => dlg.remove());
  document.body.append(dlg);
  dlg.showModal();
  input.focus();
  input.select();
  toast(copied ? `share link copied: ${link}` : `share link: ${link}`);
}

function newCellID() {
  const b = crypto.getRandomValues(new Uint8Array(6));
  return "c" + Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

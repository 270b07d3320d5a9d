// CellView is one cell on the page: its In[n] prompt, its editor (CodeMirror) or rendered
// Markdown, its run status (queued, running, elapsed time, what it still owns on the loop)
// and its outputs. It only displays; what the user does goes to the notebook (nb).
import { h, clear, formatDuration, plural } from "./dom.js";
import { createEditor, setText } from "./editor.js";
import { renderMarkdown } from "./markdown.js";
import { OutputArea } from "./outputs.js";

export class CellView {
  constructor(cell, nb) {
    this.nb = nb;
    this.id = cell.id;
    this.type = cell.type;
    this.count = cell.count;
    this.state = cell.state || "idle";
    this.elapsed = cell.elapsed;
    this.status = null; // ok, error, aborted: how the last run in this page ended
    this.startedAt = 0;
    this.sinceServer(cell);
    this.editingMarkdown = false;

    this.prompt = h("div", { class: "prompt", "aria-label": "cell prompt" });
    this.editorHost = h("div", { class: "editor-host" });
    this.rendered = h("div", { class: "markdown rendered", title: "double-click to edit" });
    this.statusLine = h("div", { class: "cell-status" });
    this.notices = h("div", { class: "cell-notices" });
    this.outputs = new OutputArea({
      jump: (n, line, col) => nb.jump(n, line, col),
      fileName: (kind) => nb.fileName(this, kind),
      fullText: () => nb.outputURL(this),
    });
    this.el = h("div", { class: `cell cell-${cell.type}`, dataset: { id: cell.id, type: cell.type } },
      h("div", { class: "cell-side" }, this.prompt),
      h("div", { class: "cell-main" }, this.editorHost, this.rendered, this.statusLine, this.notices),
      this.outputs.el);

    this.editor = createEditor(this.editorHost, {
      doc: cell.source,
      language: cell.type === "code" ? "go" : "text",
      readOnly: nb.readOnly,
      placeholder: cell.type === "markdown" ? "Markdown" : cell.type === "code" ? "Go code" : "",
      label: cell.type === "code" ? "Go source" : cell.type + " source",
      onChange: (text) => nb.edited(this, text),
      onFocus: () => nb.editorFocused(this),
      onBlur: () => nb.editorBlurred(this),
      keys: {
        runAdvance: () => nb.exec("run-advance"),
        run: () => nb.exec("run"),
        runInsert: () => nb.exec("run-insert"),
        escape: () => nb.exec("command-mode"),
        format: () => nb.exec("format"),
        up: () => nb.editNeighbour(this, -1),
        down: () => nb.editNeighbour(this, 1),
      },
    });

    this.el.addEventListener("mousedown", (e) => nb.clicked(this, e));
    this.rendered.addEventListener("dblclick", () => nb.editCell(this));
    this.outputs.set(cell.outputs);
    this.setOwned(cell.owned);
    this.renderMarkdown();
    this.renderPrompt();
    this.renderStatus();
  }

  get source() {
    return this.editor.state.doc.toString();
  }

  setSource(text) {
    setText(this.editor, text);
    this.renderMarkdown();
  }

  // showEditor switches a Markdown cell between its editor and its rendering.
  showEditor(on) {
    if (this.type !== "markdown") return;
    this.editingMarkdown = on;
    this.renderMarkdown();
  }

  renderMarkdown() {
    if (this.type !== "markdown") {
      this.rendered.hidden = true;
      return;
    }
    const editing = this.editingMarkdown;
    this.el.classList.toggle("md-editing", editing);
    this.editorHost.hidden = !editing;
    this.rendered.hidden = editing;
    if (!editing) {
      const src = this.source;
      if (src.trim() === "") {
        clear(this.rendered);
        this.rendered.append(h("p", { class: "placeholder" }, "Empty Markdown cell: double-click to edit."));
      } else {
        this.rendered.innerHTML = renderMarkdown(src); // safe: raw HTML is disabled
      }
    }
  }

  // sinceServer takes the running time of a running cell from the server's state (after a
  // reload, the run started before this page).
  sinceServer(cell) {
    if (cell.state === "running" && cell.running_for != null) this.startedAt = performance.now() - cell.running_for * 1000;
  }

  setState(state, count) {
    this.state = state;
    if (count != null) this.count = count;
    if (state === "running") {
      this.startedAt = performance.now();
      this.status = null;
    }
    this.renderPrompt();
    this.renderStatus();
  }

  done(status, elapsed) {
    this.state = "idle";
    this.status = status;
    if (status !== "aborted") this.elapsed = elapsed;
    this.renderPrompt();
    this.renderStatus();
  }

  renderPrompt() {
    if (this.type !== "code") {
      this.prompt.textContent = "";
      return;
    }
    let mark = this.count != null ? String(this.count) : " ";
    if (this.state === "running") mark = "*";
    else if (this.state === "queued") mark = "…";
    this.prompt.textContent = `In [${mark}]:`;
    this.prompt.title = this.state === "queued" ? "queued: waiting for the kernel" : this.state === "running" ? "running" : "";
    this.el.classList.toggle("running", this.state === "running");
    this.el.classList.toggle("queued", this.state === "queued");
  }

  // renderStatus writes the line under the source: queued, running for N s, or how long the
  // last run took; plus what the cell still owns on the loop, with a cancel button.
  renderStatus() {
    if (this.type !== "code") {
      this.statusLine.hidden = true;
      return;
    }
    clear(this.statusLine);
    let text = "";
    let cls = "timing";
    if (this.state === "queued") {
      text = "queued";
      cls += " queued";
    } else if (this.state === "running") {
      text = this.startedAt ? `running ${formatDuration((performance.now() - this.startedAt) / 1000)}` : "running";
      cls += " running";
    } else if (this.status === "aborted") {
      text = "aborted";
      cls += " aborted";
    } else if (this.elapsed != null) {
      // After a reload the page knows the run's outcome only from its outputs.
      const failed = this.status ? this.status === "error" : this.outputs.items.some((it) => it.out.output_type === "error");
      text = (failed ? "✗ " : "✓ ") + formatDuration(this.elapsed);
      if (failed) cls += " failed";
    }
    if (text) this.statusLine.append(h("span", { class: cls, title: "time of the last run" }, text));
    if (this.owned) this.statusLine.append(this.ownedBadge());
    this.statusLine.hidden = this.statusLine.childNodes.length === 0;
  }

  // tick refreshes the running time.
  tick() {
    if (this.state === "running") this.renderStatus();
  }

  setOwned(owned) {
    const any = owned && (owned.tasks || owned.timers || owned.watchers || owned.ready);
    this.owned = any ? owned : null;
    this.el.classList.toggle("owns", !!this.owned);
    this.renderStatus();
  }

  ownedBadge() {
    const o = this.owned;
    const parts = [];
    if (o.tasks) parts.push(plural(o.tasks, "task"));
    if (o.timers) parts.push(plural(o.timers, "timer"));
    if (o.watchers) parts.push(plural(o.watchers, "watcher"));
    if (o.ready) parts.push(`${o.ready} ready`);
    return h("span", { class: "owned", title: "what this cell's last run still has on the event loop" },
      h("span", { class: "owned-dot" }), `on the loop: ${parts.join(", ")}`,
      h("button", {
        type: "button", class: "link cancel-owned", title: "cancel what this cell owns on the loop",
        onclick: (e) => {
          e.stopPropagation();
          this.nb.cancelOwned(this);
        },
      }, "cancel"));
  }

  notice(text) {
    const n = h("div", { class: "notice" }, h("span", null, text),
      h("button", { type: "button", class: "link", title: "dismiss", onclick: () => n.remove() }, "✕"));
    this.notices.append(n);
  }

  clearNotices() {
    clear(this.notices);
  }

  destroy() {
    this.editor.destroy();
    this.el.remove();
  }
}

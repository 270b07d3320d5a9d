// OutputArea shows a cell's outputs in nbformat's shapes: stream (stdout/stderr), display_data,
// execute_result (Out[n]) and error (with In[n]:line links). Stream text joins the last output
// when it is the same stream, exactly as the server stores it (session.appendOutput).
import { h, clear, formatBytes, downloadFrom } from "./dom.js";
import { StreamView } from "./stream.js";
import { jsonTree } from "./jsontree.js";
import { htmlFrame } from "./richframe.js";
import { renderMarkdown } from "./markdown.js";

// When the kernel cut a run's output (it keeps the head and the tail and drops the middle,
// see server/output.go), a line above the outputs says so, with the sizes, and offers the
// text that was kept.
//
// ctx: {jump(count, line, col), fileName(kind) → string, fullText() → URL of the cell's text
// on the server, or null}
export class OutputArea {
  constructor(ctx, cls = "outputs") {
    this.ctx = ctx;
    this.el = h("div", { class: cls });
    this.cut = h("div", { class: "output-cut", role: "note", hidden: true });
    this.items = []; // {out, el, stream?}
    this.el.append(this.cut);
  }

  get empty() {
    return this.items.length === 0;
  }

  set(outputs) {
    this.clear();
    for (const o of outputs || []) this.append(o, true);
  }

  clear() {
    this.items = [];
    clear(this.el);
    clear(this.cut);
    this.cut.hidden = true;
    this.el.append(this.cut);
  }

  // showCut says that the kernel dropped the middle of this run's output.
  showCut(out) {
    clear(this.cut);
    this.cut.hidden = false;
    const url = this.ctx.fullText ? this.ctx.fullText() : null;
    this.cut.append(
      h("span", { class: "cut-text" },
        `This run printed about ${formatBytes(out.bytes || 0)}. The kernel kept the beginning and the end and ` +
        `dropped about ${formatBytes(out.elided || 0)} in the middle as it was printed (a note marks the place below); ` +
        "the dropped part is not stored anywhere."),
      url ? h("button", {
        type: "button", class: "link",
        onclick: () => downloadFrom(this.ctx.fullText(), this.ctx.fileName("output")),
      }, "download the kept text") : null);
  }

  // append adds one output (now: render streams at once rather than in the next frame).
  append(out, now) {
    if (out.truncated) this.showCut(out);
    const last = this.items[this.items.length - 1];
    if (out.output_type === "stream" && last && last.out.output_type === "stream" && last.out.name === out.name) {
      last.stream.append(out.text || "", now);
      return;
    }
    const item = this.render(out);
    this.items.push(item);
    this.el.append(item.el);
  }

  // replaceDisplay puts out in place of every output shown under display id; false if none.
  replaceDisplay(id, out) {
    let found = false;
    for (let i = 0; i < this.items.length; i++) {
      const it = this.items[i];
      if (it.out.display_id !== id) continue;
      const next = this.render({ ...out, display_id: id });
      it.el.replaceWith(next.el);
      this.items[i] = next;
      found = true;
    }
    return found;
  }

  render(out) {
    const copy = { ...out };
    switch (out.output_type) {
      case "stream": {
        const fullText = this.ctx.fullText || (() => null);
        const stream = new StreamView(out.name || "stdout", out.text || "", {
          fileName: () => this.ctx.fileName(fullText() ? "output" : out.name || "stdout"),
          fullText,
        });
        return { out: copy, el: row("stream " + (out.name || ""), null, stream.el), stream };
      }
      case "error":
        return { out: copy, el: row("error", null, this.error(out)) };
      case "execute_result":
        return {
          out: copy,
          el: row("result", out.execution_count != null ? `Out[${out.execution_count}]:` : "Out:", this.rich(out)),
        };
      case "display_data":
        return { out: copy, el: row("display", null, this.rich(out)) };
      default:
        return { out: copy, el: row("unknown", null, h("pre", null, JSON.stringify(out))) };
    }
  }

  rich(out) {
    const data = out.data || {};
    const get = (mime) => {
      const v = data[mime];
      return Array.isArray(v) ? v.join("") : v;
    };
    const html = get("text/html");
    if (html != null) return htmlFrame(html);
    const svg = get("image/svg+xml");
    if (svg != null) {
      return h("img", { class: "out-image", alt: "SVG output", src: "data:image/svg+xml;charset=utf-8," + encodeURIComponent(svg) });
    }
    for (const mime of ["image/png", "image/jpeg", "image/gif"]) {
      const b64 = get(mime);
      if (b64 != null) return h("img", { class: "out-image", alt: mime + " output", src: `data:${mime};base64,${b64.replace(/\s+/g, "")}` });
    }
    const md = get("text/markdown");
    if (md != null) {
      const div = h("div", { class: "markdown" });
      div.innerHTML = renderMarkdown(md); // safe: raw HTML is disabled in Markdown
      return div;
    }
    const json = get("application/json");
    if (json != null) {
      try {
        return jsonTree(typeof json === "string" ? JSON.parse(json) : json);
      } catch {
        // not JSON after all: show it as text below
      }
    }
    const text = get("text/plain") ?? json ?? "";
    return new StreamView("result", String(text), { fileName: () => this.ctx.fileName("output") }).el;
  }

  error(out) {
    const lines = out.traceback && out.traceback.length ? out.traceback : [`${out.ename || "Error"}: ${out.evalue || ""}`];
    const pre = h("pre", { class: "traceback" });
    for (const line of lines) {
      linkLocations(pre, line, this.ctx.jump);
      pre.append("\n");
    }
    return pre;
  }
}

function row(kind, prompt, body) {
  return h("div", { class: `output output-${kind}` },
    h("div", { class: "out-prompt" }, prompt || ""),
    h("div", { class: "out-body" }, body));
}

// A position in a cell, as the kernel writes it: In[3]:4 or In[3]:4:16.
const LOC = /In\[(\d+)\]:(\d+)(?::(\d+))?/g;

// linkLocations appends text to el with every In[n]:line[:col] made a link that jumps there.
export function linkLocations(el, text, jump) {
  let pos = 0;
  for (const m of text.matchAll(LOC)) {
    if (m.index > pos) el.append(text.slice(pos, m.index));
    const [, n, line, col] = m;
    el.append(h("a", {
      href: "#", class: "loc", title: `go to line ${line} of In[${n}]`,
      onclick: (e) => {
        e.preventDefault();
        jump(Number(n), Number(line), col ? Number(col) : 0);
      },
    }, m[0]));
    pos = m.index + m[0].length;
  }
  if (pos < text.length) el.append(text.slice(pos));
}

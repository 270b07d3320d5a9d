// StreamView shows a text output that may be huge (200k lines of a runaway loop) without
// freezing the page: it keeps the whole text but renders only its tail — at most 2,000 lines
// and 200 KB at first, doubled by each "show more" — re-rendering at most once per frame while
// text streams in. The hidden head stays one click away as a download: of the cell's whole
// text as the server keeps it when the stream belongs to a cell, else of this text.
import { h, clear, formatBytes, plural, download, downloadFrom } from "./dom.js";

const LINES = 2000;
const BYTES = 200_000;
// Terminal control sequences (colours, cursor moves) are not rendered.
const CSI = /\x1b\[[0-9;?]*[ -/]*[@-~]/g;

export class StreamView {
  // name: stdout, stderr or result; fileName(): the name for "download full text";
  // fullText(): the server's URL of the cell's text, or null to download this text.
  constructor(name, text, { fileName, fullText } = {}) {
    this.name = name;
    this.text = "";
    this.lines = 0;
    this.limitLines = LINES;
    this.limitBytes = BYTES;
    this.fileName = fileName || (() => `${name}.txt`);
    this.fullText = fullText || (() => null);
    this.pending = false;
    this.bar = h("div", { class: "trunc", hidden: true });
    this.pre = h("pre", { class: `stream ${name}` });
    this.el = h("div", { class: "stream-view" }, this.bar, this.pre);
    this.append(text, true);
    requestAnimationFrame(() => { this.pre.scrollTop = this.pre.scrollHeight; });
  }

  // append adds text; now renders at once instead of in the next frame.
  append(text, now) {
    if (text) {
      this.text += text;
      for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) this.lines++;
    }
    if (now) this.render();
    else this.schedule();
  }

  schedule() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.render();
    });
  }

  // start is where the shown tail of the text begins.
  start() {
    const t = this.text;
    let pos = t.endsWith("\n") ? t.length - 1 : t.length;
    let start = 0;
    for (let n = 0; pos > 0; ) {
      const j = t.lastIndexOf("\n", pos - 1);
      if (j < 0) break;
      if (++n >= this.limitLines) {
        start = j + 1;
        break;
      }
      pos = j;
    }
    return Math.max(start, t.length - this.limitBytes);
  }

  render() {
    const t = this.text;
    const start = this.start();
    const shown = t.slice(start);
    const pre = this.pre;
    const follow = !this.rendered || pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 8;
    this.rendered = true;
    pre.textContent = shown.includes("\x1b") ? shown.replace(CSI, "") : shown;
    if (follow) pre.scrollTop = pre.scrollHeight;
    this.bar.hidden = start === 0;
    if (this.bar.hidden) return;
    clear(this.bar);
    if (start > 0) {
      let shownLines = 0;
      for (let i = shown.indexOf("\n"); i >= 0; i = shown.indexOf("\n", i + 1)) shownLines++;
      const hiddenLines = Math.max(0, this.lines - shownLines);
      const what = hiddenLines > 0 ? `${plural(hiddenLines, "earlier line")} (${formatBytes(start)})`
        : `${formatBytes(start)} earlier`;
      this.bar.append(
        h("span", { class: "trunc-text" }, `⋯ ${what} not shown`),
        h("button", { type: "button", class: "link", onclick: () => this.more() }, "show more"),
      );
    }
    this.bar.append(h("button", { type: "button", class: "link", onclick: () => this.download() }, "download full text"));
  }

  download() {
    const url = this.fullText();
    if (url) downloadFrom(url, this.fileName());
    else download(this.fileName(), this.text);
  }

  more() {
    this.limitLines *= 4;
    this.limitBytes *= 4;
    this.render();
  }
}

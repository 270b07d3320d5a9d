// HTML outputs live in a sandboxed iframe: sandbox="allow-scripts" without allow-same-origin
// gives the content an opaque origin, so it cannot reach the notebook's page, cookies or API.
// The content comes in through srcdoc, which inherits this page's CSP: the output's own
// scripts do not run. The one script that does is a verbatim copy of frame.js, which tells
// the page the content's height; the page's CSP allows it by its hash (web.FrameScriptHash).
import { h } from "./dom.js";

const MAX_HEIGHT = 1200;

// The text of frame.js, inlined byte for byte so that its hash matches.
const frameScript = fetch("/static/js/frame.js").then((r) => (r.ok ? r.text() : "")).catch(() => "");

export function htmlFrame(html) {
  const frame = h("iframe", { class: "html-frame", sandbox: "allow-scripts", title: "HTML output" });
  frameScript.then((script) => {
    frame.srcdoc = `<!doctype html><html><head><meta charset="utf-8">` +
      `<meta name="color-scheme" content="light dark">` +
      `<style>html,body{margin:0}body{padding:2px 0;font:14px/1.4 system-ui,sans-serif}</style>` +
      `<script>${script}</script></head><body>${html}</body></html>`;
  });
  return frame;
}

addEventListener("message", (e) => {
  const d = e.data;
  if (!d || d.loopbookFrame !== "height" || typeof d.height !== "number") return;
  for (const f of document.querySelectorAll("iframe.html-frame")) {
    if (f.contentWindow === e.source) {
      f.style.height = `${Math.min(MAX_HEIGHT, Math.max(16, d.height))}px`;
      break;
    }
  }
});

// Go syntax highlighting to HTML, for code outside the editor (Markdown code blocks). It uses
// the same lezer parser and token classes (tok-*) as the editor, so one stylesheet colours both.
import { goLanguage, highlightTree, classHighlighter } from "../vendor/vendor.js";

const escapes = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
export const escapeHTML = (s) => s.replace(/[&<>"']/g, (c) => escapes[c]);

// highlightGo returns code as HTML with <span class="tok-…"> around tokens.
export function highlightGo(code) {
  const tree = goLanguage.parser.parse(code);
  let html = "";
  let pos = 0;
  highlightTree(tree, classHighlighter, (from, to, classes) => {
    if (from > pos) html += escapeHTML(code.slice(pos, from));
    html += `<span class="${classes}">${escapeHTML(code.slice(from, to))}</span>`;
    pos = to;
  });
  if (pos < code.length) html += escapeHTML(code.slice(pos));
  return html;
}

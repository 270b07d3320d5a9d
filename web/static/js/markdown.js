// Markdown rendering: CommonMark (markdown-it) with raw HTML disabled, so a notebook's text can
// never inject markup or script; Go code blocks are highlighted; links open in a new tab.
import { MarkdownIt } from "../vendor/vendor.js";
import { highlightGo, escapeHTML } from "./highlight.js";

const md = new MarkdownIt({
  html: false,
  linkify: true,
  typographer: false,
  highlight(code, lang) {
    const l = (lang || "").toLowerCase();
    if (l === "go" || l === "golang") {
      return `<pre class="code"><code class="language-go">${highlightGo(code)}</code></pre>`;
    }
    return `<pre class="code"><code>${escapeHTML(code)}</code></pre>`;
  },
});

const defaultLink = md.renderer.rules.link_open ||
  ((tokens, i, options, env, self) => self.renderToken(tokens, i, options));
md.renderer.rules.link_open = (tokens, i, options, env, self) => {
  const href = tokens[i].attrGet("href") || "";
  if (!href.startsWith("#")) {
    tokens[i].attrSet("target", "_blank");
    tokens[i].attrSet("rel", "noopener noreferrer");
  }
  return defaultLink(tokens, i, options, env, self);
};

// renderMarkdown returns safe HTML for a Markdown source.
export function renderMarkdown(src) {
  return md.render(src);
}

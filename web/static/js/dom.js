// Small DOM helpers. Text always goes in as text (textContent), never as HTML.

// h builds an element: h("div", {class: "x", onclick: fn, title: "t"}, "text", child, …).
// Attributes named on* become event listeners; null, undefined and false attributes and
// children are skipped.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v == null || v === false) continue;
      if (k.startsWith("on") && typeof v === "function") {
        el.addEventListener(k.slice(2), v);
      } else if (k === "class") {
        el.className = v;
      } else if (k === "dataset") {
        Object.assign(el.dataset, v);
      } else if (v === true) {
        el.setAttribute(k, "");
      } else {
        el.setAttribute(k, String(v));
      }
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c == null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// clear removes every child of el.
export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
}

// formatDuration renders seconds for people: 850 µs, 12 ms, 1.35 s, 2 min 5 s.
export function formatDuration(s) {
  if (s == null || !isFinite(s)) return "";
  if (s < 0.001) return `${Math.max(1, Math.round(s * 1e6))} µs`;
  if (s < 1) return `${Math.round(s * 1000)} ms`;
  if (s < 60) return `${s.toFixed(s < 10 ? 2 : 1)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - m * 60)} s`;
}

// formatBytes renders a size: 512 B, 12.3 KB, 4.5 MB.
export function formatBytes(n) {
  if (n < 1000) return `${n} B`;
  if (n < 1e6) return `${(n / 1e3).toFixed(1)} KB`;
  return `${(n / 1e6).toFixed(1)} MB`;
}

// plural: plural(2, "timer") → "2 timers".
export function plural(n, word) {
  return `${n.toLocaleString("en")} ${word}${n === 1 ? "" : "s"}`;
}

// download offers text as a file.
export function download(name, text, type = "text/plain;charset=utf-8") {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h("a", { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

// downloadFrom offers the file at a same-origin URL (the server names it).
export function downloadFrom(url, name) {
  const a = h("a", { href: url, download: name || "", hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
}

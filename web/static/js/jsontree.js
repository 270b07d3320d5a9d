// A JSON value as a collapsible tree: objects and arrays are <details> elements whose children
// are built only when first opened, 200 at a time, so a huge value costs nothing until looked at.
import { h } from "./dom.js";

const PAGE = 200;

export function jsonTree(value) {
  return h("div", { class: "json-tree" }, node(null, value, 0));
}

function node(key, v, depth) {
  const label = key == null ? null : h("span", { class: "jt-key" }, key, ": ");
  if (v === null || typeof v !== "object") return h("div", { class: "jt-row" }, label, leaf(v));
  const isArray = Array.isArray(v);
  const keys = isArray ? null : Object.keys(v);
  const n = isArray ? v.length : keys.length;
  const summary = h("summary", null, label,
    h("span", { class: "jt-brace" }, isArray ? "[" : "{"),
    h("span", { class: "jt-count" }, isArray ? ` ${n} item${n === 1 ? "" : "s"} ` : ` ${n} key${n === 1 ? "" : "s"} `),
    h("span", { class: "jt-brace" }, isArray ? "]" : "}"));
  const body = h("div", { class: "jt-children" });
  const det = h("details", { class: "jt-node" }, summary, body);
  let built = 0;
  const build = () => {
    const end = Math.min(n, built + PAGE);
    for (let i = built; i < end; i++) {
      body.append(isArray ? node(String(i), v[i], depth + 1) : node(JSON.stringify(keys[i]), v[keys[i]], depth + 1));
    }
    built = end;
    if (built < n) {
      const more = h("button", { type: "button", class: "link" }, `show ${Math.min(PAGE, n - built)} more of ${n - built}`);
      more.addEventListener("click", () => {
        more.remove();
        build();
      });
      body.append(more);
    }
  };
  det.addEventListener("toggle", () => {
    if (det.open && built === 0 && n > 0) build();
  });
  if (depth < 1 && n <= 50) det.open = true;
  return det;
}

function leaf(v) {
  const type = v === null ? "null" : typeof v;
  return h("span", { class: `jt-${type}` }, type === "string" ? JSON.stringify(v) : String(v));
}

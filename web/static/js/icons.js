// Toolbar icons, drawn as inline SVG (24×24, current colour), so they look the same with any
// installed fonts.
const NS = "http://www.w3.org/2000/svg";

const paths = {
  insert: ["M12 5v14M5 12h14"],
  cut: ["M8.5 7.5 20 18M8.5 16.5 20 6", "circle:6,6,3", "circle:6,18,3"],
  copy: ["M9 9h11v11H9z", "M5 15H4V4h11v1"],
  paste: ["M9 3h6v4H9z", "M7 5H5v16h14V5h-2"],
  up: ["M12 19V5M6 11l6-6 6 6"],
  down: ["M12 5v14M6 13l6 6 6-6"],
  delete: ["M4 7h16M10 11v6M14 11v6M6 7l1 13h10l1-13M9 7V4h6v3"],
  run: ["fill:M7 5l12 7-12 7z"],
  runAll: ["fill:M3 5l8 7-8 7z", "fill:M12 5l8 7-8 7z"],
  stop: ["fill:M6 6h12v12H6z"],
  restart: ["M20 12a8 8 0 1 1-2.3-5.7", "M20 3v5h-5"],
  restartRun: ["M20 12a8 8 0 1 1-2.3-5.7", "M20 3v5h-5", "fill:M10 9l5 3-5 3z"],
  clear: ["M4 4h16v16H4z", "M9 9l6 6M15 9l-6 6"],
  format: ["M9 4C7 4 7 6 7 8s-1 4-3 4c2 0 3 2 3 4s0 4 2 4", "M15 4c2 0 2 2 2 4s1 4 3 4c-2 0-3 2-3 4s0 4-2 4"],
  commands: ["M4 6h16M4 12h16M4 18h10"],
};

export function icon(name) {
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", "16");
  svg.setAttribute("height", "16");
  svg.setAttribute("aria-hidden", "true");
  svg.classList.add("icon");
  for (const p of paths[name] || []) {
    let el;
    if (p.startsWith("circle:")) {
      const [cx, cy, r] = p.slice(7).split(",");
      el = document.createElementNS(NS, "circle");
      el.setAttribute("cx", cx);
      el.setAttribute("cy", cy);
      el.setAttribute("r", r);
      el.setAttribute("fill", "none");
    } else {
      el = document.createElementNS(NS, "path");
      const filled = p.startsWith("fill:");
      el.setAttribute("d", filled ? p.slice(5) : p);
      el.setAttribute("fill", filled ? "currentColor" : "none");
    }
    el.setAttribute("stroke", "currentColor");
    el.setAttribute("stroke-width", "2");
    el.setAttribute("stroke-linecap", "round");
    el.setAttribute("stroke-linejoin", "round");
    svg.append(el);
  }
  return svg;
}

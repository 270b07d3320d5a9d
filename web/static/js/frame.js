// Runs inside a sandboxed HTML output frame (opaque origin, no access to the notebook): it only
// tells the notebook how tall the content is, so the frame can fit it.
const post = () => {
  const height = Math.ceil(document.documentElement.getBoundingClientRect().height);
  parent.postMessage({ loopbookFrame: "height", height }, "*");
};
new ResizeObserver(post).observe(document.documentElement);
addEventListener("load", post);

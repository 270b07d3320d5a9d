// Entry point of the single-page app: / is the start page, /nb/{path} a notebook. The notebook
// code (and the editor bundle) loads only on notebook pages.
import { notebookPath } from "./api.js";

const root = document.getElementById("app");
const path = notebookPath(location.pathname);
if (path) {
  import("./notebook.js").then((m) => m.startNotebook(root, path));
} else {
  import("./start.js").then((m) => m.startPage(root));
}

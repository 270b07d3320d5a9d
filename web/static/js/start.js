// The start page: the shipped notebooks (opening one makes or reuses your editable copy) and
// your own, with create, upload, rename, duplicate, delete and download. A share's page
// (/s/{id}) is not a notebook path either: it is handed to notebook.js, read-only.
import { h, clear } from "./dom.js";
import * as api from "./api.js";
import { ask, confirmAction } from "./dialog.js";
import { toast } from "./toast.js";

export function startPage(root) {
  // A shared snapshot (/s/{id}) shows as a read-only notebook.
  const share = api.shareID(location.pathname);
  if (share) {
    import("./notebook.js").then((m) => m.startShare(root, share));
    return;
  }
  document.title = "Loopbook";
  document.body.classList.add("start-page");
  const shipped = h("ul", { class: "nb-list shipped" });
  const mine = h("ul", { class: "nb-list mine" });
  const file = h("input", { type: "file", accept: ".ipynb,application/x-ipynb+json", hidden: true });
  clear(root);
  root.append(
    h("header", { class: "topbar" }, h("a", { class: "logo", href: "/" }, "Loopbook"),
      h("span", { class: "tagline" }, "Go notebooks on one shared event loop")),
    h("main", { class: "start" },
      h("section", null,
        h("div", { class: "section-head" }, h("h2", null, "Your notebooks"),
          h("span", { class: "spacer" }),
          h("button", { type: "button", class: "btn primary", dataset: { action: "new" }, onclick: () => create() }, "New notebook"),
          h("button", { type: "button", class: "btn", dataset: { action: "upload" }, onclick: () => file.click() }, "Upload .ipynb"),
          file),
        mine),
      h("section", null,
        h("div", { class: "section-head" }, h("h2", null, "Shipped notebooks"),
          h("span", { class: "hint" }, "opening one gives you an editable copy")),
        shipped)));

  const act = (fn) => async (...args) => {
    try {
      await fn(...args);
    } catch (e) {
      toast(e.message, "error");
    }
  };

  const refresh = act(async () => {
    const list = await api.listNotebooks();
    clear(shipped);
    clear(mine);
    for (const nb of list.shipped || []) {
      shipped.append(h("li", { class: "nb" },
        h("a", {
          href: "#", class: "nb-open", dataset: { path: nb.path },
          onclick: act(async (e) => {
            e.preventDefault();
            const { path } = await api.openShipped(nb.path);
            location.href = api.notebookURL(path);
          }),
        }, nb.title || nb.path),
        h("span", { class: "nb-path" }, nb.path)));
    }
    if (!(list.shipped || []).length) shipped.append(h("li", { class: "empty" }, "No shipped notebooks."));
    for (const nb of list.mine || []) mine.append(row(nb));
    if (!(list.mine || []).length) mine.append(h("li", { class: "empty" }, "No notebooks yet: create one, upload one, or open a shipped one."));
  });

  const row = (nb) => h("li", { class: "nb", dataset: { path: nb.path } },
    h("a", { href: api.notebookURL(nb.path), class: "nb-open" }, nb.title || nb.path),
    h("span", { class: "nb-path" }, nb.title && nb.title !== nb.path ? nb.path : ""),
    h("span", { class: "nb-modified" }, nb.modified ? new Date(nb.modified).toLocaleString() : ""),
    h("span", { class: "nb-actions" },
      h("button", { type: "button", class: "link", onclick: act(async () => {
        const to = await ask(`Rename ${nb.path} to`, nb.path, "Rename");
        if (to && to !== nb.path) {
          await api.renameNotebook(nb.path, ensureExt(to));
          refresh();
        }
      }) }, "rename"),
      h("button", { type: "button", class: "link", onclick: act(async () => {
        await api.duplicateNotebook(nb.path);
        refresh();
      }) }, "duplicate"),
      h("a", { class: "link", href: api.downloadURL(nb.path), download: nb.path.split("/").pop() }, "download"),
      h("button", { type: "button", class: "link danger", onclick: act(async () => {
        if (await confirmAction(`Delete ${nb.path}? This cannot be undone.`, "Delete")) {
          await api.deleteNotebook(nb.path);
          refresh();
        }
      }) }, "delete")));

  const create = act(async () => {
    const name = await ask("Name of the new notebook", "Untitled.ipynb", "Create");
    if (!name) return;
    const { path } = await api.createNotebook(ensureExt(name));
    location.href = api.notebookURL(path);
  });

  file.addEventListener("change", act(async () => {
    const f = file.files[0];
    file.value = "";
    if (!f) return;
    const { path } = await api.uploadNotebook(f);
    toast(`uploaded ${path}`);
    refresh();
  }));

  refresh();
}

function ensureExt(name) {
  name = name.trim();
  return name.endsWith(".ipynb") ? name : name + ".ipynb";
}

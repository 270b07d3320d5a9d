// The server's JSON API and its URLs. Notebook paths are names inside the notebooks
// directory and may contain "/"; each segment is escaped on its own.

export function encodePath(path) {
  return path.split("/").map(encodeURIComponent).join("/");
}

// notebookPath is the notebook named by a /nb/… page location, or null.
export function notebookPath(pathname) {
  if (!pathname.startsWith("/nb/")) return null;
  return pathname.slice(4).split("/").map(decodeURIComponent).join("/");
}

// shareID is the share named by a /s/{id} page location, or null.
export function shareID(pathname) {
  const m = /^\/s\/([0-9a-f]+)$/.exec(pathname);
  return m ? m[1] : null;
}

export const notebookURL = (path) => "/nb/" + encodePath(path);
export const downloadURL = (path) => "/api/download/" + encodePath(path);
// outputURL is the text a cell printed, as the server keeps it (a download).
export const outputURL = (path, cell) => "/api/output/" + encodePath(path) + "?cell=" + encodeURIComponent(cell);
export function socketURL(path) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/ws/${encodePath(path)}`;
}

async function call(method, url, body) {
  const init = { method, headers: {} };
  if (body instanceof FormData) {
    init.body = body;
  } else if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(url, init);
  } catch (e) {
    throw new Error(`the server cannot be reached (${e.message})`);
  }
  let data = null;
  const text = await res.text();
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { error: text.trim() };
    }
  }
  if (!res.ok) throw new Error((data && data.error) || `${res.status} ${res.statusText}`);
  return data || {};
}

export const listNotebooks = () => call("GET", "/api/notebooks");
export const createNotebook = (name) => call("POST", "/api/notebooks", { name });
export const renameNotebook = (path, to) => call("POST", "/api/notebooks/rename", { path, to });
export const duplicateNotebook = (path) => call("POST", "/api/notebooks/duplicate", { path });
export const deleteNotebook = (path) => call("POST", "/api/notebooks/delete", { path });
export const openShipped = (path) => call("POST", "/api/open-shipped", { path });
// Shares: immutable snapshots with their own link.
export const shareNotebook = (path) => call("POST", "/api/share/" + encodePath(path));
export const shareView = (id) => call("GET", `/api/shares/${encodeURIComponent(id)}/view`);
export const copyShare = (id) => call("POST", `/api/shares/${encodeURIComponent(id)}/copy`);
export const shareDownloadURL = (id) => `/api/shares/${encodeURIComponent(id)}`;
export const shareOutputURL = (id, cell) => `/api/shares/${encodeURIComponent(id)}/output?cell=${encodeURIComponent(cell)}`;
export const formatSource = (source) => call("POST", "/api/format", { source });

export function uploadNotebook(file) {
  const form = new FormData();
  form.append("file", file, file.name);
  return call("POST", "/api/upload", form);
}

// The code editor: CodeMirror 6 with Go highlighting, indentation, bracket matching and
// closing, undo history and line numbers. Notebook keys (Shift/Ctrl/Alt-Enter, Esc, arrows at
// the first/last line) go to the notebook through opts.keys.
import {
  EditorState, EditorView, EditorSelection, Prec, keymap, drawSelection, highlightSpecialChars,
  highlightActiveLine,
  lineNumbers, placeholder, history, defaultKeymap, historyKeymap, indentWithTab,
  indentOnInput, bracketMatching, syntaxHighlighting, indentUnit, closeBrackets,
  closeBracketsKeymap, go, classHighlighter,
} from "../vendor/vendor.js";

const theme = EditorView.theme({
  "&": { backgroundColor: "var(--editor-bg)", color: "var(--fg)" },
  ".cm-content": { caretColor: "var(--fg)", fontFamily: "var(--mono)", padding: "4px 0" },
  ".cm-gutters": {
    backgroundColor: "var(--editor-bg)", color: "var(--muted)", border: "none",
    fontFamily: "var(--mono)",
  },
  ".cm-cursor, .cm-dropCursor": { borderLeftColor: "var(--fg)" },
  "&.cm-focused .cm-selectionBackground, .cm-selectionBackground, ::selection": {
    backgroundColor: "var(--selection) !important",
  },
  ".cm-activeLine": { backgroundColor: "transparent" },
  "&.cm-focused": { outline: "none" },
  ".cm-matchingBracket": { backgroundColor: "var(--bracket)", outline: "none" },
  ".cm-line.jump-target": { backgroundColor: "var(--jump)" },
});

// createEditor makes an editor in parent.
//   doc: the text; language: "go" or "text"; readOnly
//   onChange(text), onFocus(), onBlur()
//   keys: {runAdvance, run, runInsert, escape, up, down, format} — each returns true if handled
export function createEditor(parent, opts) {
  const k = opts.keys || {};
  const notebookKeys = keymap.of([
    { key: "Shift-Enter", run: () => k.runAdvance?.() ?? false },
    { key: "Mod-Enter", run: () => k.run?.() ?? false },
    { key: "Alt-Enter", run: () => k.runInsert?.() ?? false },
    { key: "Escape", run: () => k.escape?.() ?? false },
    { key: "Shift-Alt-f", run: () => k.format?.() ?? false },
    { key: "ArrowUp", run: (v) => atEdge(v, -1) && (k.up?.() ?? false) },
    { key: "ArrowDown", run: (v) => atEdge(v, 1) && (k.down?.() ?? false) },
  ]);
  const extensions = [
    Prec.highest(notebookKeys),
    lineNumbers(),
    highlightSpecialChars(),
    history(),
    drawSelection(),
    highlightActiveLine(),
    indentOnInput(),
    bracketMatching(),
    closeBrackets(),
    syntaxHighlighting(classHighlighter),
    EditorState.tabSize.of(4),
    indentUnit.of("\t"),
    keymap.of([...closeBracketsKeymap, ...defaultKeymap, ...historyKeymap, indentWithTab]),
    theme,
    EditorView.updateListener.of((u) => {
      if (u.docChanged) opts.onChange?.(u.state.doc.toString());
    }),
    // Focus comes from the DOM events themselves, not from CodeMirror's focusChanged: that
    // one is noticed on a timer and only while document.hasFocus(), and a busy page could miss
    // it, leaving the cursor in an editor while the notebook stayed in command mode. The DOM
    // events also come in order when the cursor moves from one cell's editor to another's.
    EditorView.domEventHandlers({
      focus: () => { opts.onFocus?.(); },
      blur: () => { opts.onBlur?.(); },
    }),
    EditorView.contentAttributes.of({ "aria-label": opts.label || "cell source" }),
  ];
  if (opts.language !== "text") extensions.push(go());
  else extensions.push(EditorView.lineWrapping);
  if (opts.placeholder) extensions.push(placeholder(opts.placeholder));
  if (opts.readOnly) extensions.push(EditorState.readOnly.of(true));
  return new EditorView({ parent, state: EditorState.create({ doc: opts.doc || "", extensions }) });
}

// atEdge: is the cursor (a single empty selection) on the first (dir -1) or last (dir 1) line?
function atEdge(view, dir) {
  const sel = view.state.selection;
  if (sel.ranges.length !== 1 || !sel.main.empty) return false;
  const line = view.state.doc.lineAt(sel.main.head);
  return dir < 0 ? line.number === 1 : line.number === view.state.doc.lines;
}

// setText replaces the editor's text with the smallest change (the common prefix and suffix
// stay), so the cursor stays where it was when another tab edits elsewhere.
export function setText(view, text) {
  const old = view.state.doc.toString();
  if (old === text) return;
  let start = 0;
  const max = Math.min(old.length, text.length);
  while (start < max && old.charCodeAt(start) === text.charCodeAt(start)) start++;
  let endOld = old.length;
  let endNew = text.length;
  while (endOld > start && endNew > start && old.charCodeAt(endOld - 1) === text.charCodeAt(endNew - 1)) {
    endOld--;
    endNew--;
  }
  view.dispatch({ changes: { from: start, to: endOld, insert: text.slice(start, endNew) } });
}

// focusAt focuses the editor with the cursor at the start (where "start") or end ("end").
export function focusAt(view, where) {
  const pos = where === "start" ? 0 : view.state.doc.length;
  view.dispatch({ selection: EditorSelection.cursor(pos) });
  view.focus();
}

// jumpTo puts the cursor on line:col (1-based), selects the line's text, scrolls it into view
// and focuses the editor.
export function jumpTo(view, line, col) {
  const doc = view.state.doc;
  const l = doc.line(Math.max(1, Math.min(line, doc.lines)));
  const pos = Math.min(l.to, l.from + Math.max(0, (col || 1) - 1));
  view.dispatch({
    selection: col ? EditorSelection.cursor(pos) : EditorSelection.range(l.from, l.to),
    effects: EditorView.scrollIntoView(pos, { y: "center" }),
  });
  view.focus();
}

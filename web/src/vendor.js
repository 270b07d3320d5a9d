// The third-party code Loopbook's browser UI uses, bundled into static/vendor/vendor.js by
// build.sh. Only what is re-exported here ends up in the bundle.
export { EditorState, Compartment, EditorSelection, Prec } from "@codemirror/state";
export {
  EditorView, keymap, drawSelection, highlightActiveLine, highlightSpecialChars,
  lineNumbers, placeholder,
} from "@codemirror/view";
export {
  history, defaultKeymap, historyKeymap, indentWithTab, undo, redo, selectAll,
} from "@codemirror/commands";
export {
  indentOnInput, bracketMatching, syntaxHighlighting, indentUnit,
} from "@codemirror/language";
export { closeBrackets, closeBracketsKeymap } from "@codemirror/autocomplete";
export { go, goLanguage } from "@codemirror/lang-go";
export { classHighlighter, highlightTree } from "@lezer/highlight";
export { default as MarkdownIt } from "markdown-it";

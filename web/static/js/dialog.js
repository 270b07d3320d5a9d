// Small modal dialogs (a <dialog> element): ask for a line of text, or confirm.
import { h } from "./dom.js";

// ask shows a question with a text field; it resolves to the text, or null if cancelled.
export function ask(title, value = "", okLabel = "OK") {
  return show(title, value, okLabel, true);
}

// confirmAction resolves to true if the user confirms.
export async function confirmAction(title, okLabel = "OK") {
  return (await show(title, null, okLabel, false)) !== null;
}

function show(title, value, okLabel, withInput) {
  return new Promise((resolve) => {
    const input = withInput ? h("input", { type: "text", class: "dialog-input", value, "aria-label": title }) : null;
    const dlg = h("dialog", { class: "dialog" },
      h("form", { method: "dialog" },
        h("p", { class: "dialog-title" }, title),
        input,
        h("div", { class: "dialog-buttons" },
          h("button", { type: "button", class: "btn", value: "cancel", onclick: () => dlg.close("cancel") }, "Cancel"),
          h("button", { type: "submit", class: "btn primary", value: "ok" }, okLabel))));
    dlg.addEventListener("close", () => {
      dlg.remove();
      resolve(dlg.returnValue === "ok" ? (input ? input.value : "") : null);
    });
    document.body.append(dlg);
    dlg.showModal();
    if (input) {
      input.focus();
      const dot = value.lastIndexOf(".");
      input.setSelectionRange(0, dot > 0 ? dot : value.length);
    }
  });
}

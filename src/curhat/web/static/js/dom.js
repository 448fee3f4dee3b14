// DOM helpers: every piece of data reaches the page as text or an attribute, never as HTML.

export function $(selector, root = document) {
  const el = root.querySelector(selector);
  if (!el) throw new Error(`missing element ${selector}`);
  return el;
}

export function $$(selector, root = document) {
  return [...root.querySelectorAll(selector)];
}

// A fresh copy of <template id="..."> content; fill it with text(), then append it.
export function fromTemplate(id) {
  const template = document.getElementById(id);
  if (!(template instanceof HTMLTemplateElement)) throw new Error(`missing template ${id}`);
  return template.content.firstElementChild.cloneNode(true);
}

// Set the text of the [data-field="name"] descendants: fill(el, {name: "Rani", time: "10:00"}).
export function fill(root, fields) {
  for (const [name, value] of Object.entries(fields)) {
    for (const el of root.querySelectorAll(`[data-field="${name}"]`)) el.textContent = value ?? "";
  }
  return root;
}

export function text(el, value) {
  el.textContent = value ?? "";
  return el;
}

export function show(el, visible = true) {
  el.hidden = !visible;
  return el;
}

// A modal <dialog>: focus moves into it, Escape runs onCancel, focus returns where it came from.
export function openDialog(dialog, { onCancel } = {}) {
  const opener = document.activeElement;
  const cancel = (event) => {
    event.preventDefault();
    if (onCancel) onCancel();
  };
  dialog.addEventListener("cancel", cancel);
  if (!dialog.open) dialog.showModal();
  const first = dialog.querySelector("[autofocus], button:not([disabled]), input, select, textarea");
  if (first) first.focus();
  return () => {
    dialog.removeEventListener("cancel", cancel);
    if (dialog.open) dialog.close();
    if (opener instanceof HTMLElement && opener.isConnected) opener.focus();
  };
}

let toastTimer = null;

// A short message in the page's polite live region.
export function toast(message, ms = 4000) {
  const el = document.getElementById("toast");
  if (!el) return;
  el.textContent = message;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    el.hidden = true;
  }, ms);
}

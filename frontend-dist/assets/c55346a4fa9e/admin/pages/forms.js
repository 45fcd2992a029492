// Form pieces the FAQ and Users pages share: a labelled field, a choice
// of language or role, and the page's one status line.
import { el } from "../../shared/dom.js";

export function field(id, label, control, hint = "") {
  const parts = [el("label", { for: id, text: label }), control];
  if (hint) {
    control.setAttribute("aria-describedby", `${id}-hint`);
    parts.push(el("span", { class: "hint", id: `${id}-hint`, text: hint }));
  }
  return el("div", { class: "field" }, parts);
}

export function choice(id, options, selected = "") {
  return el("select", { id }, options.map(([value, label]) =>
    el("option", { value, text: label, selected: value === selected })));
}

export function languageSelect(t, id, anyLabel = "") {
  const options = [["zh", t("faqLanguageZh")], ["en", t("faqLanguageEn")]];
  return choice(id, anyLabel ? [["", anyLabel], ...options] : options);
}

export function say(node, text, isError = false) {
  node.textContent = text;
  node.className = isError ? "error" : "notice";
  node.setAttribute("role", isError ? "alert" : "status");
}

// What the sign-in form and the shell share: the strings of the chosen
// language and the header with APP_NAME and the language switch.
import { el } from "../shared/dom.js";
import { languageNames, translator } from "../i18n/index.js";
import en from "../i18n/admin/en.js";
import zh from "../i18n/admin/zh.js";

export function adminStrings(code) {
  return translator(code, { zh, en });
}

export function header(app, t, extra = []) {
  const name = app.config.app_name;
  document.documentElement.lang = t("htmlLang");
  document.title = t("adminTitle", { app: name });
  const languages = languageNames(app.config.languages);
  const select = el("select", { id: "language" },
    languages.map(({ code, name: label }) =>
      el("option", { value: code, text: label, selected: code === app.language }),
    ),
  );
  select.addEventListener("change", () => app.setLanguage(select.value));
  const switcher = el("label", { class: "language" }, [
    el("span", { class: "visually-hidden", text: t("language") }),
    select,
  ]);
  switcher.hidden = languages.length < 2;
  return el("header", { class: "admin-header" }, [
    el("p", { class: "admin-title", id: "app-name", text: t("adminTitle", { app: name }) }),
    switcher,
    ...extra,
  ]);
}

export function describeError(error) {
  return error?.message || String(error);
}

// The UI's languages: one string module per language, picked at start.
import en from "./en.js";
import zh from "./zh.js";

const CATALOGUES = { zh, en };
const STORAGE_KEY = "cs.language";

export function chooseLanguage(config) {
  const offered = config.languages.filter((code) => code in CATALOGUES);
  const asked = new URLSearchParams(location.search).get("lang");
  const saved = readSaved();
  for (const code of [asked, saved]) {
    if (offered.includes(code)) return code;
  }
  return offered.includes(config.default_language)
    ? config.default_language
    : offered[0] || "zh";
}

export function saveLanguage(code) {
  try {
    localStorage.setItem(STORAGE_KEY, code);
  } catch {
    // Storage can be refused (private mode, blocked third-party frames).
  }
}

function readSaved() {
  try {
    return localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

// `extra` adds a page's own strings (the admin pages' tables) by language.
export function translator(code, extra = {}) {
  const strings = { ...(CATALOGUES[code] || zh), ...(extra[code] || extra.zh) };
  return (key, values = {}) =>
    (strings[key] ?? key).replace(/\{(\w+)\}/g, (_, name) => values[name] ?? "");
}

export function languageNames(codes) {
  return codes.filter((code) => code in CATALOGUES).map((code) => ({
    code,
    name: CATALOGUES[code].languageName,
  }));
}

// Start the customer chat: on `/`, and framed by widget.js on `/widget`.
import { readConfig } from "./api.js";
import { CustomerChat } from "./chat.js";
import { ChatView } from "./view.js";
import { chooseLanguage, languageNames, saveLanguage, translator } from "../i18n/index.js";

const root = document.getElementById("app");
const framed = root.dataset.page === "widget";

async function start() {
  const config = await readConfig();
  const view = new ChatView(root, { framed });
  const chat = new CustomerChat(view, config);
  const languages = languageNames(config.languages);
  let language = chooseLanguage(config);

  const applyLanguage = (code) => {
    language = code;
    view.setStrings(translator(code), config, languages, code);
  };
  applyLanguage(language);
  wireComposer(view, chat, () => language);
  view.language.addEventListener("change", () => {
    saveLanguage(view.language.value);
    applyLanguage(view.language.value);
  });
  view.newButton.addEventListener("click", () => {
    chat.startOver();
    view.input.focus();
  });
  if (framed) wireFrame(view);

  chat.resume();
  document.documentElement.dataset.ready = "true";
  performance.mark("chat-interactive");
}

function wireComposer(view, chat, language) {
  view.form.addEventListener("submit", (event) => {
    event.preventDefault();
    // Cleared only once the chat took the text: while an image is still
    // uploading it waits in the box instead of being dropped.
    if (chat.send(view.input.value.trim(), language())) view.input.value = "";
  });
  view.input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      view.form.requestSubmit();
    }
  });
  view.file.addEventListener("change", () => {
    const file = view.file.files[0];
    if (file) chat.attach(file, language());
  });
  view.removeButton.addEventListener("click", () => {
    chat.clearAttachment();
    view.file.focus();
  });
}

// Inside widget.js's frame: the close button and Escape ask the host page
// to close the panel; opening it puts the focus in the message box.
function wireFrame(view) {
  // The embedding page's origin, as widget.js names it; a page that framed
  // us under another name simply hears nothing.
  const host = new URLSearchParams(location.search).get("host") || location.origin;
  const close = () => parent.postMessage({ type: "cs:close" }, host);
  view.closeButton.addEventListener("click", close);
  addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !event.isComposing) close();
  });
  addEventListener("message", (event) => {
    const fromHost = event.source === parent && event.origin === host;
    if (fromHost && event.data?.type === "cs:opened") view.input.focus();
  });
  view.input.focus();
}

start().catch((error) => {
  root.textContent = `⚠ ${error.message}`;
  root.setAttribute("role", "alert");
});

// The chat's DOM: built once, then updated; it knows nothing of the API.
import { el } from "../shared/dom.js";
import { imageFromBlob, showBlob } from "../shared/images.js";

const SENDER_LABEL = {
  customer: "you",
  assistant: "assistant",
  agent: "agent",
  system: "system",
};

export class ChatView {
  constructor(root, { framed }) {
    this.root = root;
    this.framed = framed;
    this.t = (key) => key;
    this.build();
  }

  build() {
    this.title = el("h1", { class: "chat-title", id: "app-name" });
    this.languageLabel = el("span", { class: "visually-hidden" });
    this.language = el("select", { id: "language" });
    this.closeButton = el("button", { type: "button", class: "close", id: "close" });
    this.newButton = el("button", { type: "button", class: "close", id: "new-conversation" });
    this.newButton.hidden = true;
    const header = el("header", { class: "chat-header" }, [
      this.title,
      this.newButton,
      el("label", { class: "language" }, [this.languageLabel, this.language]),
      ...(this.framed ? [this.closeButton] : []),
    ]);
    this.notice = el("p", { class: "notice", role: "status", id: "notice" });
    this.notice.hidden = true;
    this.welcome = el("li", { class: "message assistant welcome" });
    // The log scrolls (so it takes the focus, for arrow keys) and holds the
    // list: a role on the <ol> itself would hide that it is a list.
    this.list = el("ol", { class: "message-list" }, [this.welcome]);
    this.log = el("div", { class: "messages", id: "messages", role: "log", tabindex: 0 }, [
      this.list,
    ]);
    this.connection = el("p", { class: "connection", role: "status", id: "connection" });
    this.connection.hidden = true;
    this.root.replaceChildren(header, this.notice, this.log, this.connection, this.buildComposer());
  }

  buildComposer() {
    this.preview = el("img", { class: "attachment-preview", alt: "" });
    this.progress = el("progress", { max: 100, value: 0, id: "upload-progress" });
    this.uploadStatus = el("span", { class: "upload-status", id: "upload-status" });
    this.removeButton = el("button", { type: "button", class: "remove", id: "remove-image" });
    this.attachment = el("div", { class: "attachment", id: "attachment" }, [
      this.preview,
      el("div", { class: "attachment-text" }, [this.uploadStatus, this.progress]),
      this.removeButton,
    ]);
    this.attachment.hidden = true;
    this.error = el("p", { class: "error", role: "alert", id: "composer-error" });
    this.error.hidden = true;
    this.file = el("input", { type: "file", id: "file", class: "visually-hidden" });
    this.attachLabel = el("label", { for: "file", class: "attach" });
    this.messageLabel = el("label", { for: "message", class: "visually-hidden" });
    this.input = el("textarea", { id: "message", rows: 2, maxlength: 4000 });
    this.sendButton = el("button", { type: "submit", class: "send", id: "send" });
    this.form = el("form", { class: "composer", id: "composer" }, [
      this.attachment,
      this.error,
      el("div", { class: "composer-row" }, [
        this.file,
        this.attachLabel,
        this.messageLabel,
        this.input,
        this.sendButton,
      ]),
    ]);
    return this.form;
  }

  setStrings(t, config, languages, current) {
    this.t = t;
    document.documentElement.lang = t("htmlLang");
    document.title = config.app_name;
    this.title.textContent = config.app_name;
    this.languageLabel.textContent = t("language");
    this.language.replaceChildren(
      ...languages.map(({ code, name }) =>
        el("option", { value: code, text: name, selected: code === current }),
      ),
    );
    this.language.parentElement.hidden = languages.length < 2;
    this.closeButton.textContent = t("close");
    this.newButton.textContent = t("newConversation");
    this.log.setAttribute("aria-label", t("messages"));
    this.welcome.textContent = t("welcome");
    this.attachLabel.textContent = t("attach");
    this.messageLabel.textContent = t("messageLabel");
    this.input.placeholder = t("placeholder");
    this.sendButton.textContent = t("send");
    this.removeButton.textContent = t("removeImage");
    this.file.accept = config.upload.content_types.join(",");
    for (const node of this.list.querySelectorAll("[data-sender]")) {
      node.querySelector(".sender").textContent = t(SENDER_LABEL[node.dataset.sender]);
    }
  }

  // Insert a message in id order; `key` names an element already shown
  // for it (a message still being sent), which it replaces.
  showMessage(message, key) {
    const node = this.messageNode(message.sender, message.body);
    node.dataset.id = message.id;
    const replaced = key && this.pendingNode(key);
    if (replaced) {
      node.append(...replaced.querySelectorAll("img"));
      replaced.remove();
    }
    this.place(node, message.id);
    this.scrollToEnd();
    return node;
  }

  // Stored messages in id order (the order they were stored in, which a
  // retried or reconnected send may not have shown them in); below them
  // the reply being streamed and what is not sent yet.
  place(node, id) {
    const later = [...this.list.querySelectorAll("[data-id]")].find(
      (other) => Number(other.dataset.id) > id,
    );
    const unstored = this.list.querySelector(".draft, .pending");
    this.list.insertBefore(node, later || unstored || null);
  }

  showPending(key, body) {
    const node = this.messageNode("customer", body);
    node.dataset.key = key;
    node.classList.add("pending");
    this.list.insertBefore(node, this.draftNode || null);
    this.scrollToEnd();
    return node;
  }

  // Back to an empty chat: only the welcome stays.
  clearMessages() {
    this.clearDraft();
    this.list.replaceChildren(this.welcome);
    this.showNotice("");
    this.showConnection(true);
  }

  markFailed(key, onRetry) {
    const node = this.pendingNode(key);
    if (!node) return;
    node.classList.add("failed");
    const retry = el("button", { type: "button", class: "retry", text: this.t("retry") });
    retry.addEventListener("click", onRetry);
    node.append(el("p", { class: "failure" }, [`${this.t("sendFailed")} `, retry]));
  }

  clearFailed(key) {
    const node = this.pendingNode(key);
    node?.classList.remove("failed");
    node?.querySelector(".failure")?.remove();
  }

  pendingNode(key) {
    return this.list.querySelector(`[data-key="${CSS.escape(key)}"]`);
  }

  addImage(node, blob) {
    node.append(imageFromBlob(blob, { class: "message-image", alt: this.t("image") }));
  }

  messageNode(sender, body) {
    return el("li", { class: `message ${sender}`, "data-sender": sender }, [
      el("span", { class: "sender", text: this.t(SENDER_LABEL[sender] || "system") }),
      el("p", { class: "body", text: body }),
    ]);
  }

  // The reply while it streams: hidden from screen readers until it is
  // stored and shown as a message, so they read it once, whole.
  draft(text) {
    if (!this.draftNode) {
      this.draftNode = this.messageNode("assistant", "");
      this.draftNode.classList.add("draft");
      this.draftNode.setAttribute("aria-hidden", "true");
      this.list.append(this.draftNode);
    }
    this.draftNode.querySelector(".body").textContent = text || this.t("typing");
    this.scrollToEnd();
  }

  clearDraft() {
    this.draftNode?.remove();
    this.draftNode = null;
  }

  showNotice(text) {
    this.notice.textContent = text;
    this.notice.hidden = !text;
  }

  showConnection(connected) {
    this.connection.textContent = connected ? "" : this.t("reconnecting");
    this.connection.hidden = connected;
  }

  showError(text) {
    this.error.textContent = text || "";
    this.error.hidden = !text;
  }

  showUpload({ file, fraction, done }) {
    this.attachment.hidden = false;
    if (file) showBlob(this.preview, file);
    this.progress.hidden = done;
    this.progress.value = Math.round((fraction || 0) * 100);
    this.uploadStatus.textContent = done
      ? this.t("uploaded")
      : this.t("uploading", { percent: this.progress.value });
  }

  clearUpload() {
    this.attachment.hidden = true;
    this.preview.removeAttribute("src");
    this.file.value = "";
  }

  scrollToEnd() {
    this.log.scrollTop = this.log.scrollHeight;
  }
}

// One conversation in the inbox: its history, followed live on the agent's
// event stream, and the actions on it (take over, reply, resolve, reopen).
import { el } from "../../shared/dom.js";
import { ConversationFollower } from "../../shared/follow.js";
import { imageFromBlob } from "../../shared/images.js";
import { describeError } from "../chrome.js";
import { formatTime, holderText } from "./describe.js";

const SENDER_KEY = { customer: "customer", assistant: "assistant", agent: "agent", system: "system" };

export class ConversationPane {
  // `listHref` is the hash of the list beside it, for the Back link.
  constructor(pane, context, id, onChanged, listHref = "#/inbox") {
    this.pane = pane;
    this.context = context;
    this.t = context.t;
    this.id = id;
    this.onChanged = onChanged;
    this.listHref = listHref;
    this.shown = new Set();
  }

  async start() {
    this.build();
    try {
      this.update(await this.context.api.get(`/conversations/${this.id}`));
    } catch (error) {
      this.showError(error);
      return;
    }
    const open = (lastEventId, signal) =>
      this.context.api.openEvents(this.id, lastEventId, signal);
    this.follower = new ConversationFollower(open, {
      onMessage: (message) => this.showMessage(message),
      onStatus: () => this.refresh(),
      onConnected: () => {},
      onGone: (error) => this.showError(error),
    });
    this.follower.lastEventId = Math.max(0, ...this.shown);
    this.follower.run();
  }

  build() {
    const t = this.t;
    this.title = el("h2", {
      id: "conversation-title", "data-page-start": true, text: t("conversationLabel", { id: this.id }),
    });
    this.state = el("p", { class: "conversation-state", id: "conversation-state" });
    this.takeOverButton = this.action("take-over", t("takeOver"), "/take-over");
    this.resolveButton = this.action("resolve", t("resolve"), "/resolve");
    this.reopenButton = this.action("reopen", t("reopen"), "/reopen");
    this.error = el("p", { class: "error", role: "alert", id: "conversation-error" });
    this.error.hidden = true;
    // As in the chat: the log scrolls and holds the list of messages.
    this.list = el("ol", { class: "message-list" });
    this.log = el("div", {
      class: "messages", role: "log", tabindex: 0, "aria-labelledby": "conversation-title",
    }, [this.list]);
    this.input = el("textarea", { id: "reply", rows: 2, maxlength: 4000, placeholder: t("replyPlaceholder") });
    this.sendButton = el("button", { type: "submit", class: "primary", text: t("send") });
    this.hint = el("p", { class: "hint", id: "reply-hint", text: t("replyHint") });
    this.form = el("form", { class: "reply", id: "reply-form" }, [
      el("label", { for: "reply", class: "visually-hidden", text: t("replyLabel") }),
      this.hint,
      el("div", { class: "composer-row" }, [this.input, this.sendButton]),
    ]);
    this.wireReply();
    this.backLink = el("a", { href: this.listHref, class: "back", text: t("backToList") });
    this.pane.replaceChildren(
      this.backLink,
      el("div", { class: "conversation-head" }, [
        this.title,
        this.state,
        el("div", { class: "actions" }, [this.takeOverButton, this.resolveButton, this.reopenButton]),
      ]),
      this.error,
      this.log,
      this.form,
    );
  }

  pointBackTo(listHref) {
    this.listHref = listHref;
    this.backLink?.setAttribute("href", listHref);
  }

  action(id, label, path) {
    const button = el("button", { type: "button", id, text: label });
    button.hidden = true;
    button.addEventListener("click", () => this.act(() =>
      this.context.api.post(`/conversations/${this.id}${path}`)));
    return button;
  }

  wireReply() {
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      const body = this.input.value.trim();
      if (!body) return;
      this.act(async () => {
        const stored = await this.context.api.post(`/conversations/${this.id}/messages`, { body });
        this.input.value = "";
        this.showMessage(stored);
        return null;
      });
    });
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.form.requestSubmit();
      }
    });
  }

  async act(step) {
    this.showError(null);
    try {
      const conversation = await step();
      if (conversation) this.update(conversation);
      this.onChanged();
    } catch (error) {
      if (error.status !== 401) this.showError(error);
    }
  }

  async refresh() {
    const after = Math.max(0, ...this.shown);
    const found = await this.context.api.get(`/conversations/${this.id}?after_id=${after}`).catch(() => null);
    if (found) this.update(found);
    this.onChanged();
  }

  update(conversation) {
    const t = this.t;
    const mine = conversation.assigned_agent_id === this.context.user.id;
    const resolved = conversation.status === "resolved";
    const stateKey = { pending: "statePending", open: "stateOpen", resolved: "stateResolved" };
    this.state.textContent = [
      t(stateKey[conversation.status]),
      holderText(t, conversation, this.context.user),
      conversation.handoff_reason ? t(`reason_${conversation.handoff_reason}`) : null,
    ].filter(Boolean).join(" · ");
    this.takeOverButton.hidden = mine || resolved;
    this.resolveButton.hidden = resolved;
    this.reopenButton.hidden = !resolved;
    const mayReply = mine && !resolved;
    this.input.disabled = !mayReply;
    this.sendButton.disabled = !mayReply;
    this.hint.hidden = mayReply;
    for (const message of conversation.messages || []) this.showMessage(message);
  }

  showMessage(message) {
    if (this.shown.has(message.id)) return;
    this.shown.add(message.id);
    const sender = SENDER_KEY[message.sender] || "system";
    const node = el("li", { class: `message ${sender}`, "data-id": message.id, "data-sender": sender }, [
      el("span", { class: "sender" }, [
        this.t(sender),
        el("time", { datetime: message.created_at, text: ` ${formatTime(message.created_at, this.t)}` }),
      ]),
      el("p", { class: "body", text: message.body }),
    ]);
    const later = [...this.list.children].find((other) => Number(other.dataset.id) > message.id);
    this.list.insertBefore(node, later || null);
    if (!later) this.log.scrollTop = this.log.scrollHeight;
    this.showImages(node, message.attachment_ids || []);
  }

  async showImages(node, attachmentIds) {
    for (const id of attachmentIds) {
      try {
        const blob = await this.context.api.blob(`/attachments/${id}`);
        node.append(imageFromBlob(blob, { class: "message-image", alt: this.t("customerImage") }));
      } catch (error) {
        if (error.status === 401) return;
        node.append(el("p", { class: "error", text: this.t("imageMissing", { reason: describeError(error) }) }));
      }
    }
  }

  showError(error) {
    this.error.textContent = error ? this.t("actionFailed", { reason: describeError(error) }) : "";
    this.error.hidden = !error;
  }

  stop() {
    this.follower?.stop();
  }
}

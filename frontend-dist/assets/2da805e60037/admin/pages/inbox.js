// The inbox: conversations by state with counts and unread counts, a
// search over their messages, and the open conversation beside the list
// (`#/inbox/<id>`). The list is polled every few seconds with the ETag of
// the copy shown, so an idle poll is a 304 without a body.
import { el } from "../../shared/dom.js";
import { describeError } from "../chrome.js";
import { ConversationPane } from "./conversation.js";
import { formatTime, holderText } from "./describe.js";
import { redrawKeepingFocus } from "./focus.js";

const POLL_MS = 3000;
const STATES = [
  ["pending", "statePending"],
  ["open", "stateOpen"],
  ["resolved", "stateResolved"],
];
// Kept across re-renders (opening a conversation, switching language).
const chosen = { status: "pending", q: "" };

class Inbox {
  constructor(container, context) {
    this.container = container;
    this.context = context;
    this.t = context.t;
    this.etag = null;
    this.openId = Number(context.params[0]) || null;
  }

  render() {
    const t = this.t;
    this.tabs = STATES.map(([status, key]) => {
      const tab = el("button", { type: "button", class: "state", "data-status": status }, [
        el("span", { class: "state-name", text: t(key) }),
        el("span", { class: "count" }),
      ]);
      tab.addEventListener("click", () => this.choose({ status }));
      return tab;
    });
    this.searchBox = el("input", { type: "search", id: "inbox-search", value: chosen.q });
    const search = el("form", { class: "search", role: "search" }, [
      el("label", { for: "inbox-search", class: "visually-hidden", text: t("search") }),
      this.searchBox,
      el("button", { type: "submit", text: t("searchButton") }),
    ]);
    this.searchBox.placeholder = t("search");
    search.addEventListener("submit", (event) => {
      event.preventDefault();
      this.choose({ q: this.searchBox.value.trim() });
    });
    this.list = el("ul", { class: "conversations", id: "conversations", "aria-live": "polite" });
    const side = el("section", { class: "inbox-list", "aria-labelledby": "inbox-title" }, [
      el("h1", { id: "inbox-title", text: t("navInbox") }),
      el("div", { class: "states", role: "group", "aria-label": t("states") }, this.tabs),
      search,
      this.list,
    ]);
    this.pane = el("section", { class: "inbox-pane" });
    this.container.classList.toggle("has-open", Boolean(this.openId));
    this.container.append(el("div", { class: "inbox" }, [side, this.pane]));
    this.conversation = this.openId
      ? new ConversationPane(this.pane, this.context, this.openId, () => this.poll(true))
      : null;
    if (!this.conversation) {
      this.pane.append(el("p", { class: "placeholder", text: t("chooseConversation") }));
    }
    this.conversation?.start();
    this.showTabs();
    this.poll();
    this.timer = setInterval(() => this.poll(), POLL_MS);
  }

  choose(change) {
    Object.assign(chosen, change);
    this.etag = null;
    this.showTabs();
    this.poll();
  }

  showTabs() {
    for (const tab of this.tabs) {
      tab.setAttribute("aria-pressed", String(tab.dataset.status === chosen.status));
    }
  }

  async poll(force = false) {
    if (document.hidden && !force) return;
    if (force) this.etag = null;
    const query = new URLSearchParams({ status: chosen.status, limit: "100" });
    if (chosen.q) query.set("q", chosen.q);
    const asked = query.toString();
    try {
      const changed = await this.context.api.getChanged(`/conversations?${asked}`, this.etag);
      if (!changed || asked !== this.currentQuery()) return;
      this.etag = changed.etag;
      this.showCounts(changed.body.counts);
      this.showList(changed.body.conversations);
    } catch (error) {
      if (error.status !== 401) this.showProblem(error);
    }
  }

  currentQuery() {
    const query = new URLSearchParams({ status: chosen.status, limit: "100" });
    if (chosen.q) query.set("q", chosen.q);
    return query.toString();
  }

  showCounts(counts) {
    for (const tab of this.tabs) {
      const { total, unread } = counts[tab.dataset.status];
      const count = tab.querySelector(".count");
      count.textContent = unread ? `${total} · ${unread}` : String(total);
      count.classList.toggle("has-unread", unread > 0);
      tab.setAttribute("aria-label", `${tab.querySelector(".state-name").textContent}: ${this.t("countLabel", { total, unread })}`);
    }
  }

  showList(conversations) {
    const t = this.t;
    if (!conversations.length) {
      this.list.replaceChildren(el("li", { class: "empty", text: t("noConversations") }));
      return;
    }
    redrawKeepingFocus(this.list, () => this.list.replaceChildren(
      ...conversations.map((conversation) => el("li", {}, [this.item(conversation)])),
    ));
  }

  item(conversation) {
    const t = this.t;
    const details = [holderText(t, conversation, this.context.user)];
    if (conversation.handoff_reason) details.push(t(`reason_${conversation.handoff_reason}`));
    const when = conversation.last_message_at || conversation.created_at;
    details.push(t("lastActivity", { time: formatTime(when, t) }));
    const link = el("a", {
      href: `#/inbox/${conversation.id}`,
      class: "conversation-link",
      "data-id": conversation.id,
      "aria-current": conversation.id === this.openId ? "true" : null,
    }, [
      el("span", { class: "conversation-name", text: t("conversationLabel", { id: conversation.id }) }),
      conversation.unread
        ? el("span", { class: "unread", text: t("unread", { count: conversation.unread }) })
        : "",
      el("span", { class: "details", text: details.join(" · ") }),
    ]);
    return link;
  }

  showProblem(error) {
    this.list.replaceChildren(
      el("li", { class: "error", role: "alert", text: this.t("actionFailed", { reason: describeError(error) }) }),
    );
  }

  stop() {
    clearInterval(this.timer);
    this.conversation?.stop();
  }
}

export default {
  id: "inbox",
  titleKey: "navInbox",
  adminOnly: false,
  render(container, context) {
    const inbox = new Inbox(container, context);
    inbox.render();
    return () => inbox.stop();
  },
};

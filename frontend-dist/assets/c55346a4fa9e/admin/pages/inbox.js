// The inbox: conversations by state with counts and unread counts, a
// search over their messages, a page at a time, and the open conversation
// beside the list (`#/inbox/<id>`). The state, search and page are kept in
// the hash (`#/inbox/12?status=open&page=2`), so opening a conversation,
// a reload or Back keeps the list as it was. The page shown is polled
// every few seconds with the ETag of the copy shown, so an idle poll is a
// 304 without a body.
import { el } from "../../shared/dom.js";
import { describeError } from "../chrome.js";
import { ConversationPane } from "./conversation.js";
import { formatTime, holderText } from "./describe.js";
import { redrawKeepingFocus } from "./focus.js";
import { PAGE_SIZE, Pager, hashOf, lastPageOf, offsetOf, pageFromQuery, visit } from "./pager.js";

const POLL_MS = 3000;
const STATES = [
  ["pending", "statePending"],
  ["open", "stateOpen"],
  ["resolved", "stateResolved"],
];
const FIRST_STATE = "pending";
// The API takes offsets up to 100,000.
const HIGHEST_PAGE = 100_000 / PAGE_SIZE + 1;

function chosenIn(query) {
  const status = query.get("status");
  return {
    status: STATES.some(([known]) => known === status) ? status : FIRST_STATE,
    q: (query.get("q") || "").trim(),
    page: pageFromQuery(query, HIGHEST_PAGE),
  };
}

class Inbox {
  constructor(container, context) {
    this.container = container;
    this.context = context;
    this.t = context.t;
    this.etag = null;
    this.openId = Number(context.params[0]) || null;
    this.chosen = chosenIn(context.query);
  }

  // The hash of this view (or of conversation `id` in it) with `change`
  // made to the list's state; the first state is left out, as page 1 is.
  hashFor(change = {}, id = this.openId) {
    const { status, q, page } = { ...this.chosen, ...change };
    const path = id ? `inbox/${id}` : "inbox";
    return hashOf(path, { status: status === FIRST_STATE ? "" : status, q, page });
  }

  follow(query) {
    this.chosen = chosenIn(query);
    this.searchBox.value = this.chosen.q;
    this.conversation?.pointBackTo(this.hashFor({}, null));
    this.showTabs();
    this.poll(true);
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
    this.searchBox = el("input", { type: "search", id: "inbox-search", value: this.chosen.q });
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
    this.pager = new Pager(t, {
      id: "inbox-pager", label: t("inboxPages"), go: (page) => this.choose({ page }),
    });
    const side = el("section", { class: "inbox-list", "aria-labelledby": "inbox-title" }, [
      el("h1", { id: "inbox-title", text: t("navInbox") }),
      el("div", { class: "states", role: "group", "aria-label": t("states") }, this.tabs),
      search,
      this.pager.element,
      this.list,
    ]);
    this.pane = el("section", { class: "inbox-pane" });
    this.container.classList.toggle("has-open", Boolean(this.openId));
    this.container.append(el("div", { class: "inbox" }, [side, this.pane]));
    this.conversation = this.openId
      ? new ConversationPane(this.pane, this.context, this.openId, () => this.poll(true), this.hashFor({}, null))
      : null;
    if (!this.conversation) {
      this.pane.append(el("p", { class: "placeholder", text: t("chooseConversation") }));
    }
    this.conversation?.start();
    this.showTabs();
    this.poll();
    this.timer = setInterval(() => this.poll(), POLL_MS);
  }

  // A new state or search starts at its first page; Next and Previous
  // change only the page.
  choose(change) {
    visit(this.hashFor({ page: 1, ...change }), () => this.poll(true));
  }

  showTabs() {
    for (const tab of this.tabs) {
      tab.setAttribute("aria-pressed", String(tab.dataset.status === this.chosen.status));
    }
  }

  async poll(force = false) {
    if (document.hidden && !force) return;
    if (force) this.etag = null;
    const asked = this.listQuery();
    try {
      const changed = await this.context.api.getChanged(`/conversations?${asked}`, this.etag);
      if (!changed || asked !== this.listQuery()) return;
      const { conversations, counts, total } = changed.body;
      if (!conversations.length && this.chosen.page > 1) {
        // Everything on this page moved away (resolved, taken to another
        // state): show the last page that still has conversations.
        location.replace(this.hashFor({ page: lastPageOf(total) }));
        return;
      }
      this.etag = changed.etag;
      this.showCounts(counts);
      this.pager.show(this.chosen.page, conversations.length, total);
      this.showList(conversations);
    } catch (error) {
      if (error.status !== 401) this.showProblem(error);
    }
  }

  listQuery() {
    const { status, q, page } = this.chosen;
    const query = new URLSearchParams({ status, limit: String(PAGE_SIZE), offset: String(offsetOf(page)) });
    if (q) query.set("q", q);
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
      href: this.hashFor({}, conversation.id),
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
    return { stop: () => inbox.stop(), follow: (query) => inbox.follow(query) };
  },
};

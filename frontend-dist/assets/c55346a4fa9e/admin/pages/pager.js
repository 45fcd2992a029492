// Paging of the FAQ and inbox lists: Previous and Next buttons around a
// status line ("101–200 of 345"). The page number is kept in the hash's
// query (`#/faq?page=2`), so a reload or Back shows the same page; each
// list fetches its own rows with `offsetOf(page)`.
import { el } from "../../shared/dom.js";

// The most the list APIs give at once.
export const PAGE_SIZE = 100;

export function offsetOf(page) {
  return (page - 1) * PAGE_SIZE;
}

// The page a query asks for: a whole number from 1 to `highest` (what the
// API's offset cap allows); anything else is page 1.
export function pageFromQuery(query, highest) {
  const asked = Number(query.get("page"));
  return Number.isInteger(asked) && asked >= 1 ? Math.min(asked, highest) : 1;
}

// The last page that has rows when `total` match; 1 when none do.
export function lastPageOf(total) {
  return Math.max(1, Math.ceil(total / PAGE_SIZE));
}

// `#/<path>?<state>` without the empty values and without page 1, so the
// first page of an unfiltered list is the plain route the nav links to.
export function hashOf(path, state) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(state)) {
    if (value && !(name === "page" && value === 1)) query.set(name, String(value));
  }
  const text = query.toString();
  return text ? `#/${path}?${text}` : `#/${path}`;
}

// Go to `hash`, a new history entry. Going where the location already is
// fires no hashchange, so `again` fetches anew instead (a search repeated).
export function visit(hash, again) {
  if (location.hash === hash) again();
  else location.hash = hash;
}

export class Pager {
  // `go(page)` is called with the page a button asks for.
  constructor(t, { id, label, go }) {
    this.t = t;
    this.page = 1;
    this.numbers = new Intl.NumberFormat(t("htmlLang"));
    this.status = el("p", { class: "pager-status", id: `${id}-status`, "aria-live": "polite" });
    this.previous = this.button(`${id}-previous`, t("pagePrevious"), () => go(this.page - 1));
    this.next = this.button(`${id}-next`, t("pageNext"), () => go(this.page + 1));
    this.element = el("nav", { class: "pager", id, "aria-label": label }, [
      this.previous, this.status, this.next,
    ]);
    this.element.hidden = true;
  }

  button(id, text, go) {
    const button = el("button", { type: "button", id, text });
    button.addEventListener("click", go);
    return button;
  }

  // `count` rows of page `page` are shown, of `total` on all pages.
  show(page, count, total) {
    const first = offsetOf(page) + 1;
    this.page = page;
    this.element.hidden = total === 0;
    this.status.textContent = this.t("pageStatus", {
      first: this.numbers.format(Math.min(first, total)),
      last: this.numbers.format(offsetOf(page) + count),
      total: this.numbers.format(total),
    });
    const wasFocused = document.activeElement;
    this.previous.disabled = page <= 1;
    this.next.disabled = offsetOf(page) + count >= total;
    // One page holds everything: the buttons would only ever be disabled.
    const single = page === 1 && total <= PAGE_SIZE;
    this.previous.hidden = this.next.hidden = single;
    this.keepFocus(wasFocused);
  }

  // The last page disables Next while it has the focus; hand the focus to
  // Previous rather than lose it to the document.
  keepFocus(wasFocused) {
    const [from, to] = wasFocused === this.next ? [this.next, this.previous] : [this.previous, this.next];
    if (wasFocused === from && from.disabled && !to.disabled && !to.hidden) to.focus();
  }
}

// The signed-in frame around every admin page: header, navigation, the
// backup failure banner and the page chosen by the location's hash
// (`#/inbox`, `#/inbox/12`, `#/faq?page=2`). See pages/index.js for what a
// page module provides.
import { el } from "../shared/dom.js";
import { BackupBanner } from "./banner.js";
import { adminStrings, header } from "./chrome.js";
import { PAGES } from "./pages/index.js";

const DEFAULT_PAGE = "inbox";

// What a page's render returned: nothing, its stop function, or
// `{stop, follow}`.
function asView(returned) {
  return typeof returned === "function" ? { stop: returned } : returned || {};
}

export class AdminShell {
  constructor(root, app, signIn, api) {
    this.root = root;
    this.app = app;
    this.user = signIn.user;
    this.api = api;
    this.shown = null;
    this.onHashChange = () => this.showPage();
  }

  start() {
    addEventListener("hashchange", this.onHashChange);
    this.render();
  }

  pagesForUser() {
    return PAGES.filter((page) => !page.adminOnly || this.user.role === "admin");
  }

  render() {
    this.t = adminStrings(this.app.language);
    const t = this.t;
    const role = t(this.user.role === "admin" ? "roleAdmin" : "roleAgent");
    const signOut = el("button", { type: "button", id: "sign-out", text: t("signOut") });
    signOut.addEventListener("click", () => this.app.signOut(this.api));
    const account = el("p", {
      class: "account", text: t("signedInAs", { email: this.user.email, role }),
    });
    this.links = this.pagesForUser().map((page) =>
      el("a", { href: `#/${page.id}`, "data-page": page.id, text: t(page.titleKey) }),
    );
    const nav = el("nav", { class: "admin-nav", "aria-label": t("adminNav") }, [
      el("ul", {}, this.links.map((link) => el("li", {}, [link]))),
    ]);
    // The link to the page already shown changes no hash; still go to it.
    nav.addEventListener("click", (event) => {
      if (event.target.closest("a")?.getAttribute("href") === location.hash) {
        focusPageStart(this.main);
      }
    });
    this.bannerSlot = el("div", { class: "banner-slot", id: "banner" });
    this.main = el("main", { class: "admin-main", id: "page", tabindex: -1 });
    this.root.replaceChildren(
      header(this.app, t, [account, signOut]), this.bannerSlot, nav, this.main,
    );
    this.banner?.stop();
    this.banner = new BackupBanner(this.bannerSlot, this.api, this.user, t);
    this.banner.start();
    this.showPage(true);
  }

  // `#/<id>/<params...>?<query>`: the query holds a page's own state (the
  // list page shown, a search), so a reload or Back brings it back.
  route() {
    const hash = location.hash.replace(/^#\/?/, "");
    const cut = hash.includes("?") ? hash.indexOf("?") : hash.length;
    const [path, query] = [hash.slice(0, cut), hash.slice(cut + 1)];
    const [id, ...params] = path.split("/");
    const page = this.pagesForUser().find((known) => known.id === id);
    return page ? { page, params, path, query: new URLSearchParams(query) } : null;
  }

  showPage(redraw = false) {
    const found = this.route();
    if (!found) {
      location.replace(`#/${DEFAULT_PAGE}`);
      return;
    }
    // Only the query changed (Next, a search): a page that can follow it
    // keeps what is typed in its forms instead of being drawn again.
    const shown = this.shown;
    if (!redraw && shown?.path === found.path && shown.view.follow) {
      shown.view.follow(found.query);
      return;
    }
    this.stopPage();
    for (const link of this.links) {
      if (link.dataset.page === found.page.id) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
    const context = {
      api: this.api,
      t: this.t,
      user: this.user,
      config: this.app.config,
      params: found.params,
      query: found.query,
    };
    this.main.replaceChildren();
    this.main.className = "admin-main";
    const view = found.page.render(this.main, context);
    this.shown = { path: found.path, view: asView(view) };
    focusPageStart(this.main);
    this.banner.check();
  }

  stopPage() {
    this.shown?.view.stop?.();
    this.shown = null;
  }

  stop() {
    removeEventListener("hashchange", this.onHashChange);
    this.stopPage();
    this.banner?.stop();
  }
}

// A new page takes the focus to its heading: a keyboard or screen-reader
// user then starts there, not on a link that was just redrawn (which
// would leave the focus nowhere). A page may mark another start with
// `data-page-start`, as an open conversation does.
function focusPageStart(main) {
  const start = main.querySelector("[data-page-start]") || main.querySelector("h1");
  if (!start) return;
  start.tabIndex = -1;
  start.focus();
}

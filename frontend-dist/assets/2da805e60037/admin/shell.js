// The signed-in frame around every admin page: header, navigation, the
// backup failure banner and the page chosen by the location's hash
// (`#/inbox`, `#/inbox/12`, `#/faq`). See pages/index.js for what a page
// module provides.
import { el } from "../shared/dom.js";
import { BackupBanner } from "./banner.js";
import { adminStrings, header } from "./chrome.js";
import { PAGES } from "./pages/index.js";

const DEFAULT_PAGE = "inbox";

export class AdminShell {
  constructor(root, app, signIn, api) {
    this.root = root;
    this.app = app;
    this.user = signIn.user;
    this.api = api;
    this.cleanup = null;
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
    this.showPage();
  }

  route() {
    const [id, ...params] = location.hash.replace(/^#\/?/, "").split("/");
    const page = this.pagesForUser().find((known) => known.id === id);
    return page ? { page, params } : null;
  }

  showPage() {
    const found = this.route();
    if (!found) {
      location.replace(`#/${DEFAULT_PAGE}`);
      return;
    }
    this.cleanup?.();
    this.cleanup = null;
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
    };
    this.main.replaceChildren();
    this.main.className = "admin-main";
    this.cleanup = found.page.render(this.main, context) || null;
    focusPageStart(this.main);
    this.banner.check();
  }

  stop() {
    removeEventListener("hashchange", this.onHashChange);
    this.cleanup?.();
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

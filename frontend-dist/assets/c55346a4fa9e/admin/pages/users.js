// The Users page (admins only): every account with its role and whether
// it may sign in, a form to add one, and a password reset. The server's
// rules (minimum length, the last admin) are shown as it words them.
import { el } from "../../shared/dom.js";
import { readJson } from "../../shared/http.js";
import { describeError } from "../chrome.js";
import { redrawKeepingFocus } from "./focus.js";
import { choice, field, say } from "./forms.js";
import { formatDateTime } from "./units.js";

class UsersPage {
  constructor(container, context) {
    this.container = container;
    this.api = context.api;
    this.t = context.t;
    this.user = context.user;
    this.stopped = false;
  }

  render() {
    const t = this.t;
    this.message = el("p", { id: "users-message", "aria-live": "polite" });
    this.listBody = el("tbody", { id: "user-list" });
    this.labels = ["email", "userRole", "userActive", "userLastLogin", "backupRowActions"].map((key) => t(key));
    const head = el("tr", {}, this.labels.map((label) => el("th", { scope: "col", text: label })));
    this.container.append(
      el("h1", { text: t("navUsers") }),
      this.message,
      el("section", { class: "panel", "aria-labelledby": "users-title" }, [
        el("h2", { id: "users-title", text: t("userAccounts") }),
        el("div", { class: "table-scroll" }, [
          el("table", { class: "data stacked" }, [el("thead", {}, [head]), this.listBody]),
        ]),
      ]),
      this.addPanel(),
      this.resetPanel(),
    );
    this.refresh();
  }

  roleOptions() {
    return [["agent", this.t("roleAgent")], ["admin", this.t("roleAdmin")]];
  }

  addPanel() {
    const t = this.t;
    const email = el("input", { type: "email", id: "new-user-email", required: true, autocomplete: "off" });
    const password = el("input", { type: "password", id: "new-user-password", required: true, autocomplete: "new-password" });
    const role = choice("new-user-role", this.roleOptions(), "agent");
    const form = el("form", { class: "editor", id: "add-user" }, [
      field("new-user-email", t("email"), email),
      field("new-user-password", t("password"), password),
      field("new-user-role", t("userRole"), role),
      el("div", { class: "actions" }, [el("button", { type: "submit", class: "primary", id: "add-user-button", text: t("userAdd") })]),
    ]);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = { email: email.value.trim(), password: password.value, role: role.value };
      if (await this.act(() => this.api.post("/users", body), t("userAdded", { email: body.email }))) {
        form.reset();
      }
    });
    return el("section", { class: "panel", "aria-labelledby": "add-user-title" }, [
      el("h2", { id: "add-user-title", text: t("userAddTitle") }), form,
    ]);
  }

  resetPanel() {
    const t = this.t;
    this.resetWho = el("select", { id: "reset-user" });
    const password = el("input", { type: "password", id: "reset-password", required: true, autocomplete: "new-password" });
    const form = el("form", { class: "editor", id: "reset-user-password" }, [
      field("reset-user", t("userResetWho"), this.resetWho),
      field("reset-password", t("userNewPassword"), password),
      el("div", { class: "actions" }, [el("button", { type: "submit", id: "reset-button", text: t("userReset") })]),
    ]);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const option = this.resetWho.selectedOptions[0];
      if (!option) return;
      const sent = () => this.api.post(`/users/${option.value}/password`, { password: password.value });
      if (await this.act(sent, t("userPasswordReset", { email: option.textContent }))) password.value = "";
    });
    return el("section", { class: "panel", "aria-labelledby": "reset-title" }, [
      el("h2", { id: "reset-title", text: t("userResetTitle") }),
      el("p", { class: "hint", text: t("userResetHint") }),
      form,
    ]);
  }

  async refresh() {
    try {
      const users = await this.api.get("/users");
      if (!this.stopped) this.showUsers(users);
    } catch (error) {
      this.fail(error);
    }
  }

  showUsers(users) {
    const chosen = this.resetWho.value;
    redrawKeepingFocus(this.listBody, () =>
      this.listBody.replaceChildren(...users.map((account) => this.userRow(account))));
    for (const row of this.listBody.rows) {
      [...row.cells].forEach((cell, index) => cell.setAttribute("data-label", this.labels[index]));
    }
    this.resetWho.replaceChildren(...users.map((account) =>
      el("option", { value: account.id, text: account.email, selected: String(account.id) === chosen })));
  }

  userRow(account) {
    const t = this.t;
    const role = choice(`role-${account.id}`, this.roleOptions(), account.role);
    role.setAttribute("aria-label", t("userRoleOf", { email: account.email }));
    role.addEventListener("change", () => this.change(account, { role: role.value }));
    const toggleKey = account.is_active ? "userDeactivate" : "userActivate";
    const toggle = el("button", {
      type: "button", id: `active-${account.id}`, "data-action": toggleKey,
      "aria-label": `${t(toggleKey)}: ${account.email}`, text: t(toggleKey),
    });
    toggle.addEventListener("click", () => this.change(account, { is_active: !account.is_active }));
    const you = account.id === this.user.id ? ` (${t("userYou")})` : "";
    return el("tr", { "data-email": account.email, class: account.is_active ? "" : "inactive" }, [
      el("td", { text: account.email + you }),
      el("td", {}, [role]),
      el("td", { class: "user-active", text: t(account.is_active ? "userIsActive" : "userIsInactive") }),
      el("td", { text: account.last_login_at ? formatDateTime(account.last_login_at, t) : "–" }),
      el("td", {}, [el("div", { class: "row-actions" }, [toggle])]),
    ]);
  }

  change(account, patch) {
    const path = `/users/${account.id}`;
    const sent = () => this.api.send(path, { method: "PATCH", json: patch }).then(readJson);
    return this.act(sent, this.t("userChanged", { email: account.email }));
  }

  // Run one request, say how it went, and show the list as it now is.
  async act(request, done) {
    let ok = false;
    try {
      await request();
      say(this.message, done);
      ok = true;
    } catch (error) {
      this.fail(error);
    }
    await this.refresh();
    return ok;
  }

  fail(error) {
    if (error.status !== 401) say(this.message, this.t("actionFailed", { reason: describeError(error) }), true);
  }

  stop() {
    this.stopped = true;
  }
}

export default {
  id: "users",
  titleKey: "navUsers",
  adminOnly: true,
  render(container, context) {
    const page = new UsersPage(container, context);
    page.render();
    return () => page.stop();
  },
};

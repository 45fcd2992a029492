// The sign-in form: email and password against /api/v1/admin/auth/login.
import { el } from "../shared/dom.js";
import { signIn } from "./api.js";
import { adminStrings, describeError, header } from "./chrome.js";

export class SignInForm {
  constructor(root, app, onSignedIn) {
    this.root = root;
    this.app = app;
    this.onSignedIn = onSignedIn;
    this.ended = false;
  }

  render(ended = this.ended) {
    this.ended = ended;
    const t = adminStrings(this.app.language);
    const email = el("input", { id: "email", type: "email", autocomplete: "username", required: true });
    const password = el("input", {
      id: "password", type: "password", autocomplete: "current-password", required: true,
    });
    const problem = el("p", { class: "error", role: "alert", id: "sign-in-error" });
    problem.textContent = ended ? t("sessionEnded") : "";
    problem.hidden = !ended;
    const submit = el("button", { type: "submit", class: "primary", text: t("signIn") });
    const form = el("form", { class: "sign-in", "aria-labelledby": "sign-in-title" }, [
      el("h1", { id: "sign-in-title", text: t("signInTitle") }),
      problem,
      el("label", { for: "email", text: t("email") }),
      email,
      el("label", { for: "password", text: t("password") }),
      password,
      submit,
    ]);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      submit.disabled = true;
      submit.textContent = t("signingIn");
      try {
        this.onSignedIn(await signIn(email.value.trim(), password.value));
      } catch (error) {
        problem.textContent = t("signInFailed", { reason: describeError(error) });
        problem.hidden = false;
        submit.disabled = false;
        submit.textContent = t("signIn");
        password.select();
      }
    });
    this.root.replaceChildren(header(this.app, t), el("main", { class: "admin-main" }, [form]));
    email.focus();
  }

  stop() {}
}

// Start the admin pages at /admin/: the sign-in form, or the shell when
// this tab holds a sign-in the server still accepts.
import { readConfig } from "../shared/http.js";
import { chooseLanguage, saveLanguage } from "../i18n/index.js";
import { AdminApi } from "./api.js";
import { forgetSignIn, loadSignIn, saveSignIn } from "./session.js";
import { AdminShell } from "./shell.js";
import { SignInForm } from "./signin.js";

const root = document.getElementById("app");

class AdminApp {
  constructor(config) {
    this.config = config;
    this.language = chooseLanguage(config);
    this.view = null;
  }

  async start() {
    const saved = loadSignIn();
    if (!saved) return this.showSignIn();
    const api = new AdminApi(saved.token, () => this.signedOut(true));
    try {
      const user = await api.get("/auth/me");
      this.showShell({ token: saved.token, user }, api);
    } catch {
      this.showSignIn(true);
    }
  }

  showSignIn(ended = false) {
    this.view?.stop();
    this.view = new SignInForm(root, this, (signIn) => this.signedIn(signIn));
    this.view.render(ended);
  }

  signedIn(granted) {
    const signIn = { token: granted.access_token, user: granted.user };
    saveSignIn(signIn);
    this.showShell(signIn, new AdminApi(signIn.token, () => this.signedOut(true)));
  }

  showShell(signIn, api) {
    this.view?.stop();
    this.view = new AdminShell(root, this, signIn, api);
    this.view.start();
  }

  async signOut(api) {
    await api.post("/auth/logout").catch(() => null);
    this.signedOut(false);
  }

  signedOut(ended) {
    if (this.view instanceof SignInForm) return;
    forgetSignIn();
    this.showSignIn(ended);
  }

  setLanguage(code) {
    this.language = code;
    saveLanguage(code);
    this.view?.render();
    // The switch was drawn again in the new language; stay on it.
    document.getElementById("language")?.focus();
  }
}

readConfig()
  .then((config) => new AdminApp(config).start())
  .then(() => {
    document.documentElement.dataset.ready = "true";
    performance.mark("admin-interactive");
  })
  .catch((error) => {
    root.textContent = `⚠ ${error.message}`;
    root.setAttribute("role", "alert");
  });

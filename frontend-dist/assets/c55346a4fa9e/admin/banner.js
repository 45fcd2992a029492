// The banner at the top of every admin page while backups are failing:
// GET /api/v1/admin/backups/status names the failure in `failing`, which
// stays set until a backup succeeds. Checked on every page change and once
// a minute. The status is for admins only, so agents see no banner.
import { el } from "../shared/dom.js";

const CHECK_EVERY_MS = 60000;

export class BackupBanner {
  constructor(slot, api, user, t) {
    this.slot = slot;
    this.api = api;
    this.enabled = user.role === "admin";
    this.t = t;
    this.timer = null;
  }

  start() {
    if (this.enabled) this.timer = setInterval(() => this.check(), CHECK_EVERY_MS);
  }

  async check() {
    if (!this.enabled) return;
    const status = await this.api.get("/backups/status").catch(() => null);
    if (status) this.show(status.failing);
  }

  show(failing) {
    if (!failing) {
      this.slot.replaceChildren();
      return;
    }
    const since = new Date(failing.since).toLocaleString(this.t("htmlLang"));
    const text = this.t("backupsFailing", {
      count: failing.failures,
      since,
      error: failing.error || failing.reason || "",
    });
    this.slot.replaceChildren(
      el("div", { class: "banner failure", role: "alert", id: "backup-failure" }, [
        el("span", { text: `${text} ` }),
        el("a", { href: "#/backups", text: this.t("backupsLink") }),
      ]),
    );
  }

  stop() {
    clearInterval(this.timer);
  }
}

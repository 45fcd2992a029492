// The backups page: the schedule and room on disk, every backup with its
// verification, the run journal, and the actions on them. Creating,
// verifying and restoring run in processes of their own; while one runs
// the page polls /backups/progress and shows its phase and bytes.
import { el } from "../../shared/dom.js";
import { readJson } from "../../shared/http.js";
import { describeError } from "../chrome.js";
import { confirmRestore } from "./backup-restore.js";
import { askToConfirm } from "./dialog.js";
import { redrawKeepingFocus } from "./focus.js";
import { formatBytes, formatDateTime, formatSeconds, wordFor } from "./units.js";

const PROGRESS_MS = 1000;
const REFRESH_MS = 30000;
// A run that never reports progress (refused by the lock at once) is
// taken as ended after this long.
const SILENT_RUN_MS = 15000;
const RUNS_SHOWN = 20;

class BackupsPage {
  constructor(container, context) {
    this.container = container;
    this.api = context.api;
    this.t = context.t;
    this.stopped = false;
    this.following = false;
  }

  render() {
    const t = this.t;
    this.statusList = el("dl", { class: "facts", id: "backup-status" });
    this.createButton = el("button", {
      type: "button", class: "primary", id: "create-backup", text: t("backupCreate"),
    });
    this.createButton.addEventListener("click", () => this.createNow());
    this.fileInput = el("input", { type: "file", id: "backup-file", accept: ".zst,.tar,.tar.zst" });
    const upload = el("form", { class: "upload", id: "backup-upload" }, [
      el("label", { for: "backup-file", text: t("backupUploadLabel") }),
      this.fileInput,
      el("button", { type: "submit", id: "upload-backup", text: t("backupUpload") }),
    ]);
    upload.addEventListener("submit", (event) => {
      event.preventDefault();
      this.uploadChosen();
    });
    this.progressText = el("p", { class: "progress-text" });
    this.progressBar = el("progress", { max: 1, value: 0, "aria-labelledby": "progress-label" });
    this.cancelButton = el("button", { type: "button", id: "cancel-upload", text: t("backupUploadCancel") });
    this.cancelButton.hidden = true;
    this.cancelButton.addEventListener("click", () => this.uploadCancel?.abort());
    this.progressBox = el("div", { class: "run-progress", id: "backup-progress", role: "status" }, [
      el("span", { id: "progress-label", class: "visually-hidden", text: t("backupProgress") }),
      this.progressText,
      this.progressBar,
      this.cancelButton,
    ]);
    this.progressBox.hidden = true;
    this.message = el("p", { id: "backup-message", "aria-live": "polite" });
    this.listBody = el("tbody", { id: "backup-list" });
    this.runsBody = el("tbody", { id: "backup-runs" });
    this.container.append(
      el("h1", { text: t("navBackups") }),
      el("section", { class: "panel", "aria-labelledby": "schedule-title" }, [
        el("h2", { id: "schedule-title", text: t("backupSchedule") }),
        this.statusList,
      ]),
      el("section", { class: "panel", "aria-labelledby": "actions-title" }, [
        el("h2", { id: "actions-title", text: t("backupActions") }),
        el("div", { class: "toolbar" }, [this.createButton, upload]),
        this.progressBox,
        this.message,
      ]),
      this.table("backups-title", t("backupList"), [
        "backupCreated", "backupSize", "backupTrigger", "backupVerification",
        "backupOutcome", "backupRowActions",
      ], this.listBody),
      this.table("runs-title", t("backupRuns"), [
        "runEnded", "runKind", "backupTrigger", "backupOutcome", "runDuration",
        "backupSize", "runBackup", "runDetails",
      ], this.runsBody),
    );
    this.refresh();
    this.timer = setInterval(() => this.following || this.refresh(), REFRESH_MS);
  }

  table(titleId, title, headerKeys, body) {
    const head = el("tr", {}, headerKeys.map((key) => el("th", { scope: "col", text: this.t(key) })));
    body.dataset.labels = JSON.stringify(headerKeys.map((key) => this.t(key)));
    return el("section", { class: "panel", "aria-labelledby": titleId }, [
      el("h2", { id: titleId, text: title }),
      el("div", { class: "table-scroll" }, [
        el("table", { class: "data stacked" }, [el("thead", {}, [head]), body]),
      ]),
    ]);
  }

  async refresh() {
    if (document.hidden || this.stopped) return;
    try {
      const [status, backups, runs] = await Promise.all([
        this.api.get("/backups/status"),
        this.api.get("/backups"),
        this.api.get(`/backups/runs?limit=100`),
      ]);
      if (this.stopped) return;
      this.showStatus(status);
      this.showBackups(backups.items, runs.items);
      this.showRuns(runs.items.slice(0, RUNS_SHOWN));
      const { progress } = status;
      if (progress.running && !this.following) this.follow(progress.kind, progress.pid);
    } catch (error) {
      if (error.status !== 401) this.say(this.t("actionFailed", { reason: describeError(error) }), true);
    }
  }

  showStatus(status) {
    const t = this.t;
    const { schedule, storage } = status;
    this.uploadMax = storage.upload_max_size;
    const facts = [
      ["backupScheduleLabel", schedule.enabled
        ? t("backupEvery", { interval: describeInterval(t, schedule.interval) })
        : t("backupScheduleOff")],
      ["backupNextRun", formatDateTime(schedule.next_run_at, t)],
      ["backupRetention", t("backupRetentionDays", { days: schedule.retention_days })],
      ["backupLastSuccess", formatDateTime(status.last_success_at, t)],
      ["backupLastVerified", formatDateTime(status.last_verified_at, t)],
      ["backupStorage", t("backupStorageText", {
        count: storage.backups, size: formatBytes(storage.total_size), free: formatBytes(storage.free_bytes),
      })],
      ["backupUploadMax", formatBytes(storage.upload_max_size)],
    ];
    this.statusList.replaceChildren(
      ...facts.flatMap(([key, value]) => [el("dt", { text: t(key) }), el("dd", { text: value })]),
    );
  }

  showBackups(backups, runs) {
    const t = this.t;
    if (!backups.length) {
      this.listBody.replaceChildren(
        el("tr", {}, [el("td", { colspan: 6, class: "empty", text: t("backupNone") })]),
      );
      return;
    }
    const outcomes = new Map();
    for (const run of runs) {
      if (run.backup_id && !outcomes.has(run.backup_id) && ["create", "upload"].includes(run.kind)) {
        outcomes.set(run.backup_id, run);
      }
    }
    redrawKeepingFocus(this.listBody, () => this.listBody.replaceChildren(
      ...backups.map((backup) => this.backupRow(backup, outcomes.get(backup.id)))));
    labelCells(this.listBody);
  }

  backupRow(backup, run) {
    const t = this.t;
    const verification = el("span", {
      class: `badge ${backup.verification}`,
      text: wordFor(t, "verification", backup.verification),
    });
    const notes = [verification];
    if (backup.protected) notes.push(el("span", { class: "badge kept", text: t("backupProtected") }));
    const outcome = run ? `${wordFor(t, "runKind", run.kind)}: ${wordFor(t, "outcome", run.outcome)}` : "–";
    const name = formatDateTime(backup.created_at, t);
    const actions = [
      ["backupDownload", () => this.download(backup)],
      ["backupVerify", () => this.verify(backup)],
      ["backupRestore", () => this.restore(backup)],
      ["backupDelete", () => this.remove(backup)],
    ].map(([key, act]) => {
      const button = el("button", {
        type: "button", "data-action": key, "aria-label": `${t(key)}: ${name}`, text: t(key),
      });
      button.addEventListener("click", act);
      return button;
    });
    return el("tr", { "data-id": backup.id }, [
      el("td", {}, [el("span", { text: name }), el("span", { class: "backup-id", text: backup.id })]),
      el("td", { text: formatBytes(backup.size) }),
      el("td", { text: wordFor(t, "trigger", backup.trigger) }),
      el("td", { class: "verification" }, notes),
      el("td", { text: outcome }),
      el("td", {}, [el("div", { class: "row-actions" }, actions)]),
    ]);
  }

  showRuns(runs) {
    const t = this.t;
    if (!runs.length) {
      this.runsBody.replaceChildren(el("tr", {}, [el("td", { colspan: 8, class: "empty", text: t("runsNone") })]));
      return;
    }
    this.runsBody.replaceChildren(...runs.map((run) => el("tr", { class: `run ${run.outcome || ""}` }, [
      el("td", { text: formatDateTime(run.at, t) }),
      el("td", { text: wordFor(t, "runKind", run.kind) }),
      el("td", { text: wordFor(t, "trigger", run.trigger) }),
      el("td", { text: wordFor(t, "outcome", run.outcome) }),
      el("td", { text: formatSeconds(run.duration) }),
      el("td", { text: run.size == null ? "–" : formatBytes(run.size) }),
      el("td", { class: "backup-id", text: run.backup_id || "–" }),
      el("td", { text: runDetails(t, run) || "–" }),
    ])));
    labelCells(this.runsBody);
  }

  say(text, isError = false) {
    this.message.textContent = text;
    this.message.className = isError ? "error" : "notice";
    this.message.setAttribute("role", isError ? "alert" : "status");
  }

  async start(path, body) {
    try {
      const started = await this.api.post(path, body);
      this.say(this.t("runStarted", { kind: wordFor(this.t, "runKind", started.kind) }));
      this.follow(started.kind, started.pid);
    } catch (error) {
      if (error.status !== 401) this.say(this.t("actionFailed", { reason: describeError(error) }), true);
    }
  }

  createNow() {
    return this.start("/backups");
  }

  verify(backup) {
    return this.start(`/backups/${backup.id}/verify`);
  }

  async restore(backup) {
    const confirmation = await confirmRestore(this.api, this.t, backup).catch((error) => {
      if (error.status !== 401) this.say(this.t("actionFailed", { reason: describeError(error) }), true);
      return null;
    });
    if (confirmation) await this.start(`/backups/${backup.id}/restore`, { confirm: confirmation });
  }

  async remove(backup) {
    const t = this.t;
    const yes = await askToConfirm(t, {
      title: t("backupDeleteTitle"),
      body: [el("p", { text: t("backupDeleteText", { name: formatDateTime(backup.created_at, t), id: backup.id }) })],
      confirmLabel: t("backupDelete"),
      danger: true,
    });
    if (!yes) return;
    try {
      await this.api.send(`/backups/${backup.id}`, { method: "DELETE" }).then(expectNoContent);
      this.say(t("backupDeleted", { id: backup.id }));
    } catch (error) {
      if (error.status !== 401) this.say(t("actionFailed", { reason: describeError(error) }), true);
    }
    this.refresh();
  }

  async download(backup) {
    try {
      this.say(this.t("backupDownloading", { file: backup.file }));
      await this.api.download(`/backups/${backup.id}/download`, backup.file);
      this.say(this.t("backupDownloaded", { file: backup.file }));
    } catch (error) {
      if (error.status !== 401) this.say(this.t("actionFailed", { reason: describeError(error) }), true);
    }
  }

  async uploadChosen() {
    const t = this.t;
    const file = this.fileInput.files[0];
    if (!file) {
      this.say(t("backupChooseFile"), true);
      return;
    }
    if (this.uploadMax && file.size > this.uploadMax) {
      this.say(t("backupTooLarge", { size: formatBytes(file.size), max: formatBytes(this.uploadMax) }), true);
      return;
    }
    this.setBusy(true);
    this.uploadCancel = new AbortController();
    this.cancelButton.hidden = false;
    this.showUploadProgress(file, 0, file.size);
    try {
      const backup = await this.api.upload("/backups/upload", file, {
        onProgress: (sent, total) => this.showUploadProgress(file, sent, total),
        signal: this.uploadCancel.signal,
      });
      this.say(t("backupUploaded", { id: backup.id }));
      this.fileInput.value = "";
    } catch (error) {
      if (error.name === "AbortError") this.say(t("backupUploadCancelled", { file: file.name }));
      else if (error.status !== 401) this.say(t("actionFailed", { reason: describeError(error) }), true);
    }
    this.uploadCancel = null;
    this.cancelButton.hidden = true;
    this.progressBox.hidden = true;
    this.setBusy(false);
    this.refresh();
  }

  // Once the last byte is sent the server keeps the archive if it checks
  // out, whatever the page does: Cancel would then promise what is untrue.
  showUploadProgress(file, sent, total) {
    const t = this.t;
    if (sent < total) {
      this.showProgress(t("backupUploading", { file: file.name }), sent, total);
      return;
    }
    this.cancelButton.hidden = true;
    this.showProgress(t("backupUploadChecking", { file: file.name }), 0, 0);
  }

  showProgress(text, done, total) {
    this.progressBox.hidden = false;
    this.progressText.textContent = total
      ? `${text} ${formatBytes(done)} / ${formatBytes(total)}`
      : text;
    if (total) this.progressBar.value = done / total;
    else this.progressBar.removeAttribute("value");
  }

  setBusy(busy) {
    for (const button of this.container.querySelectorAll("button")) {
      if (button !== this.cancelButton) button.disabled = busy;
    }
    this.fileInput.disabled = busy;
  }

  // Poll the progress of the run with this pid until it ends, then show
  // the outcome from the journal. A restore restarts the workers, so a
  // poll may fail meanwhile: it is simply tried again.
  async follow(kind, pid) {
    this.following = true;
    this.setBusy(true);
    const since = Date.now();
    let ended = false;
    while (!this.stopped && !ended) {
      const progress = await this.api.get("/backups/progress").catch(() => null);
      if (progress?.pid === pid) {
        this.showRunProgress(progress);
        ended = !progress.running;
      } else {
        ended = Boolean(progress) && !progress.running && Date.now() - since > SILENT_RUN_MS;
      }
      if (!ended) await new Promise((resume) => setTimeout(resume, PROGRESS_MS));
    }
    if (this.stopped) return;
    this.following = false;
    this.progressBox.hidden = true;
    this.setBusy(false);
    await this.sayOutcome(kind);
    await this.refresh();
  }

  showRunProgress(progress) {
    const t = this.t;
    const text = t("runProgress", {
      kind: wordFor(t, "runKind", progress.kind),
      phase: wordFor(t, "phase", progress.phase),
    });
    this.showProgress(text, progress.done_bytes, progress.total_bytes);
  }

  async sayOutcome(kind) {
    const runs = await this.api.get("/backups/runs?limit=10").catch(() => null);
    const run = runs?.items.find((item) => item.kind === kind);
    if (!run) return;
    const t = this.t;
    const text = t("runEndedText", {
      kind: wordFor(t, "runKind", run.kind),
      outcome: wordFor(t, "outcome", run.outcome),
      details: runDetails(t, run),
    });
    this.say(text, run.outcome === "failed");
  }

  stop() {
    this.stopped = true;
    clearInterval(this.timer);
  }
}

// At phone width a row is drawn as a card: each cell names its column
// (admin.css shows `data-label` before the value).
function labelCells(body) {
  const labels = JSON.parse(body.dataset.labels);
  for (const row of body.rows) {
    [...row.cells].forEach((cell, index) => cell.setAttribute("data-label", labels[index]));
  }
}

async function expectNoContent(response) {
  if (response.status !== 204) await readJson(response);
}

function describeInterval(t, interval) {
  return /^\d+$/.test(interval) ? t("backupHours", { hours: interval }) : interval;
}

function runDetails(t, run) {
  const parts = [];
  if (run.safety_backup_id) parts.push(t("runSafety", { id: run.safety_backup_id }));
  if (run.removed?.length) parts.push(t("runRemoved", { count: run.removed.length }));
  if (run.reason) parts.push(run.reason);
  if (run.error) parts.push(run.error);
  return parts.join(" · ");
}

export default {
  id: "backups",
  titleKey: "navBackups",
  adminOnly: true,
  render(container, context) {
    const page = new BackupsPage(container, context);
    page.render();
    return () => page.stop();
  },
};

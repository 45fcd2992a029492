// The system page: health of each component, the supervised processes and
// their restarts, the scheduled jobs' last runs, charts of the last hour
// and the disk under DATA_DIR, all from GET /system. Polled every 15 s
// while the tab is visible, asking only for samples newer than the last.
import { el } from "../../shared/dom.js";
import { describeError } from "../chrome.js";
import { lineChart } from "./charts.js";
import { formatBytes, formatDateTime, formatSeconds, wordFor } from "./units.js";

const POLL_MS = 15000;
const HOUR_MS = 3600 * 1000;

class SystemPage {
  constructor(container, context) {
    this.container = container;
    this.api = context.api;
    this.t = context.t;
    this.samples = [];
    this.stopped = false;
  }

  render() {
    const t = this.t;
    this.problem = el("p", { class: "error", role: "alert" });
    this.problem.hidden = true;
    this.health = this.panel("health", t("systemHealth"));
    this.processes = this.panel("processes", t("systemProcesses"));
    this.charts = this.panel("charts", t("systemCharts"));
    this.jobs = this.panel("jobs", t("systemJobs"));
    this.disk = this.panel("disk", t("systemDisk"));
    this.container.append(
      el("h1", { text: t("navSystem") }), this.problem,
      el("div", { class: "system-grid" }, [
        this.health.section, this.processes.section, this.charts.section,
        this.jobs.section, this.disk.section,
      ]),
    );
    this.poll(true);
    this.timer = setInterval(() => this.poll(), POLL_MS);
  }

  panel(id, title) {
    const body = el("div", { class: "panel-body", id: `system-${id}` });
    const section = el("section", { class: `panel ${id}`, "aria-labelledby": `${id}-title` }, [
      el("h2", { id: `${id}-title`, text: title }), body,
    ]);
    return { section, body };
  }

  async poll(force = false) {
    if ((document.hidden && !force) || this.stopped) return;
    const last = this.samples.at(-1);
    const query = last ? `?since=${encodeURIComponent(last.at)}` : "";
    try {
      const status = await this.api.get(`/system${query}`);
      if (this.stopped) return;
      this.problem.hidden = true;
      this.keepSamples(status.samples);
      this.show(status);
    } catch (error) {
      if (error.status === 401) return;
      this.problem.textContent = this.t("actionFailed", { reason: describeError(error) });
      this.problem.hidden = false;
    }
  }

  keepSamples(fresh) {
    const oldest = Date.now() - HOUR_MS;
    this.samples = [...this.samples, ...fresh].filter((sample) => Date.parse(sample.at) >= oldest);
  }

  show(status) {
    this.showHealth(status.health);
    this.showProcesses(status.processes);
    this.showCharts();
    this.showJobs(status.jobs);
    this.showDisk(status.disk);
  }

  showHealth(health) {
    const t = this.t;
    const rows = Object.entries(health.checks).map(([name, result]) => el("tr", {}, [
      el("th", { scope: "row", text: wordFor(t, "component", name) }),
      el("td", {}, [el("span", {
        class: `badge ${result === "ok" ? "verified" : "failed"}`,
        text: result === "ok" ? t("healthOk") : result,
      })]),
    ]));
    this.health.body.replaceChildren(
      el("p", { class: `overall ${health.status}`, id: "health-overall",
        text: t("healthOverall", { status: wordFor(t, "health", health.status) }) }),
      table(t, ["systemComponent", "systemState"], rows),
    );
  }

  showProcesses(processes) {
    const t = this.t;
    const rows = processes.items.map((process) => el("tr", { "data-name": process.name }, [
      el("th", { scope: "row", text: process.name }),
      el("td", {}, [el("span", {
        class: `badge ${process.state === "RUNNING" ? "verified" : "failed"}`,
        text: wordFor(t, "state", process.state),
      })]),
      el("td", { text: process.pid ?? "–" }),
      el("td", { text: formatSeconds(process.uptime_seconds) }),
      el("td", { text: formatBytes(process.rss_bytes) }),
    ]));
    const restarts = Object.entries(processes.restarts);
    this.processes.body.replaceChildren(
      table(t, ["systemProcess", "systemState", "systemPid", "systemUptime", "systemMemory"], rows),
      el("p", { class: "restarts", id: "restarts", text: restarts.length
        ? t("systemRestarts", { list: restarts.map(([name, count]) => `${name} ${count}`).join(", ") })
        : t("systemNoRestarts") }),
      processes.supervised ? "" : el("p", { class: "hint", text: t("systemUnsupervised") }),
    );
  }

  showJobs(jobs) {
    const t = this.t;
    const rows = jobs.map((job) => el("tr", {}, [
      el("th", { scope: "row", text: job.job }),
      el("td", { text: wordFor(t, "outcome", job.outcome) }),
      el("td", { text: formatDateTime(job.started_at, t) }),
      el("td", { text: formatSeconds(job.duration_seconds) }),
      el("td", { text: `${job.runs} / ${job.failures}` }),
    ]));
    this.jobs.body.replaceChildren(rows.length
      ? table(t, ["systemJob", "backupOutcome", "systemStarted", "runDuration", "systemRunsFailures"], rows)
      : el("p", { class: "empty", text: t("systemNoJobs") }));
  }

  showDisk(disk) {
    const t = this.t;
    const share = disk.total_bytes ? disk.used_bytes / disk.total_bytes : 0;
    const parts = [
      ["diskDatabase", disk.database_bytes], ["diskUploads", disk.uploads_bytes],
      ["diskBackups", disk.backups_bytes], ["diskLogs", disk.logs_bytes],
    ].filter(([, bytes]) => bytes != null);
    this.disk.body.replaceChildren(
      el("p", { id: "disk-use", text: t("diskUse", {
        used: formatBytes(disk.used_bytes), total: formatBytes(disk.total_bytes),
        free: formatBytes(disk.free_bytes), percent: Math.round(share * 100),
      }) }),
      el("meter", { min: 0, max: 1, low: 0.8, high: 0.9, optimum: 0, value: share.toFixed(3),
        "aria-labelledby": "disk-use" }),
      el("p", { class: "hint", text: disk.path }),
      el("dl", { class: "facts" }, parts.flatMap(([key, bytes]) => [
        el("dt", { text: t(key) }), el("dd", { text: formatBytes(bytes) }),
      ])),
    );
  }

  showCharts() {
    const t = this.t;
    const now = Date.now();
    const points = (pick) => this.samples.map((sample) => [Date.parse(sample.at), pick(sample)]);
    const latest = this.samples.at(-1);
    const ms = (seconds) => (seconds == null ? "–" : `${Math.round(seconds * 1000)} ms`);
    const percent = (ratio) => (ratio == null ? "–" : `${(ratio * 100).toFixed(1)} %`);
    const rate = (value) => (value == null ? "–" : value.toFixed(value < 10 ? 1 : 0));
    const charts = [
      { id: "chart-requests", title: t("chartRequests"), format: rate,
        series: [{ className: "one", points: points((s) => s.requests_per_second) }],
        caption: t("chartRequestsCaption", { value: rate(latest?.requests_per_second) }) },
      { id: "chart-latency", title: t("chartLatency"), format: ms,
        series: [
          { className: "one", points: points((s) => s.p50_seconds) },
          { className: "two", points: points((s) => s.p95_seconds) },
        ],
        caption: t("chartLatencyCaption", { p50: ms(latest?.p50_seconds), p95: ms(latest?.p95_seconds) }) },
      { id: "chart-errors", title: t("chartErrors"), format: percent,
        series: [{ className: "bad", points: points((s) => s.error_ratio) }],
        caption: t("chartErrorsCaption", { value: percent(latest?.error_ratio) }) },
      { id: "chart-memory", title: t("chartMemory"), format: formatBytes,
        series: [{ className: "one", points: points((s) => s.rss_bytes) }],
        caption: t("chartMemoryCaption", { value: formatBytes(latest?.rss_bytes) }) },
    ];
    const count = this.samples.length;
    this.charts.body.replaceChildren(
      el("p", { class: "hint", text: t("chartSamples", { count }) }),
      el("div", { class: "chart-grid" }, charts.map((chart) => lineChart({ ...chart, now, t }))),
    );
  }

  stop() {
    this.stopped = true;
    clearInterval(this.timer);
  }
}

// At phone width the rows are drawn as cards, as on the other admin pages
// (a table that scrolled sideways there could not be scrolled by keyboard).
function table(t, headerKeys, rows) {
  const labels = headerKeys.map((key) => t(key));
  for (const row of rows) {
    [...row.cells].forEach((cell, index) => cell.setAttribute("data-label", labels[index]));
  }
  return el("div", { class: "table-scroll" }, [el("table", { class: "data stacked" }, [
    el("thead", {}, [el("tr", {}, labels.map((label) => el("th", { scope: "col", text: label })))]),
    el("tbody", {}, rows),
  ])]);
}

export default {
  id: "system",
  titleKey: "navSystem",
  adminOnly: true,
  render(container, context) {
    const page = new SystemPage(container, context);
    page.render();
    return () => page.stop();
  },
};

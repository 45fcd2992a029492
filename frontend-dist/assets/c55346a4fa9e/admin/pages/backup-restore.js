// The confirmation before a restore, drawn from the API's restore plan:
// what will be replaced, that a safety backup of it is taken first, that
// the workers restart, or why the restore is refused.
import { el } from "../../shared/dom.js";
import { askToConfirm } from "./dialog.js";
import { formatBytes, formatDateTime, wordFor } from "./units.js";

// Resolves to the confirmation the API asks for, or null when cancelled.
export async function confirmRestore(api, t, backup) {
  const plan = await api.get(`/backups/${backup.id}/restore`);
  const yes = await askToConfirm(t, {
    title: t("restoreTitle", { name: formatDateTime(backup.created_at, t) }),
    body: planText(t, plan),
    confirmLabel: t("restoreConfirm"),
    danger: true,
    blocked: plan.refusal ? t("restoreRefused", { reason: plan.refusal }) : null,
  });
  return yes ? plan.confirm : null;
}

function planText(t, plan) {
  const { backup, replaces } = plan;
  const lines = [
    el("p", { text: t("restoreFrom", {
      id: backup.id, size: formatBytes(backup.size),
      verification: wordFor(t, "verification", backup.verification),
    }) }),
    el("p", { text: t("restoreReplaces", { engine: replaces.engine, database: replaces.database }) }),
  ];
  if (replaces.row_counts) {
    lines.push(el("table", { class: "data compact" }, [
      el("caption", { text: t("restoreCounts") }),
      el("thead", {}, [el("tr", {}, [
        el("th", { scope: "col", text: t("restoreTable") }),
        el("th", { scope: "col", text: t("restoreNow") }),
        el("th", { scope: "col", text: t("restoreInBackup") }),
      ])]),
      el("tbody", {}, Object.entries(replaces.row_counts).map(([table, count]) => el("tr", {}, [
        el("th", { scope: "row", text: table }),
        el("td", { text: String(count) }),
        el("td", { text: String(backup.row_counts[table] ?? "–") }),
      ]))),
    ]));
  }
  lines.push(el("p", { text: t("restoreUploads", {
    now: replaces.upload_files, then: backup.upload_files,
  }) }));
  lines.push(el("p", { class: "safety", text: plan.safety_backup_first
    ? t("restoreSafety") : t("restoreNoSafety") }));
  if (plan.restarts_workers) lines.push(el("p", { text: t("restoreRestarts") }));
  return lines;
}

// The FAQ page: entries with a search, a page at a time, and a preview of
// what a customer's question would match. Admins also add, edit, delete and
// import entries and remove the demo entries; agents may only read and
// preview, as the API allows. The search and the page are kept in the hash
// (`#/faq?q=refund&page=2`).
import { el } from "../../shared/dom.js";
import { readJson } from "../../shared/http.js";
import { describeError } from "../chrome.js";
import { askToConfirm } from "./dialog.js";
import { field, languageSelect, say } from "./forms.js";
import { PAGE_SIZE, Pager, hashOf, lastPageOf, offsetOf, pageFromQuery, visit } from "./pager.js";

const PREVIEW_MATCHES = 5;
// The API takes offsets up to 1,000,000.
const HIGHEST_PAGE = 1_000_000 / PAGE_SIZE + 1;
const DEMO_TAG = "demo";

class FaqPage {
  constructor(container, context) {
    this.container = container;
    this.api = context.api;
    this.t = context.t;
    this.canEdit = context.user.role === "admin";
    this.editing = null;
    this.stopped = false;
    this.readQuery(context.query);
    // Numbers the requests, so an answer overtaken by a later one is dropped.
    this.asked = 0;
  }

  readQuery(query) {
    this.search = (query.get("q") || "").trim();
    this.page = pageFromQuery(query, HIGHEST_PAGE);
  }

  follow(query) {
    this.readQuery(query);
    this.searchBox.value = this.search;
    this.refresh();
  }

  render() {
    const t = this.t;
    this.message = el("p", { id: "faq-message", "aria-live": "polite" });
    this.listBody = el("tbody", { id: "faq-list" });
    this.pager = new Pager(t, {
      id: "faq-pager", label: t("faqPages"), go: (page) => this.goToPage(page),
    });
    this.container.append(
      el("h1", { text: t("navFaq") }),
      this.message,
      this.canEdit ? this.editorPanel() : "",
      this.previewPanel(),
      this.listPanel(),
      this.canEdit ? this.importPanel() : "",
    );
    this.refresh();
  }

  editorPanel() {
    const t = this.t;
    this.editorTitle = el("h2", { id: "faq-editor-title", text: t("faqAdd") });
    this.question = el("input", { id: "faq-question", required: true, maxlength: 500 });
    this.answer = el("textarea", { id: "faq-answer", rows: 4, required: true });
    this.tags = el("input", { id: "faq-tags" });
    this.language = languageSelect(t, "faq-language");
    this.saveButton = el("button", { type: "submit", class: "primary", id: "faq-save", text: t("faqSave") });
    this.cancelButton = el("button", { type: "button", id: "faq-cancel-edit", text: t("faqCancelEdit") });
    this.cancelButton.hidden = true;
    this.cancelButton.addEventListener("click", () => this.startEditing(null));
    const form = el("form", { class: "editor", id: "faq-editor" }, [
      field("faq-question", t("faqQuestion"), this.question),
      field("faq-answer", t("faqAnswer"), this.answer),
      field("faq-tags", t("faqTags"), this.tags, t("faqTagsHint")),
      field("faq-language", t("faqLanguage"), this.language),
      el("div", { class: "actions" }, [this.saveButton, this.cancelButton]),
    ]);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.save();
    });
    return el("section", { class: "panel", "aria-labelledby": "faq-editor-title" }, [this.editorTitle, form]);
  }

  previewPanel() {
    const t = this.t;
    const input = el("input", { type: "search", id: "faq-preview-question" });
    const language = languageSelect(t, "faq-preview-language", t("faqAnyLanguage"));
    this.previewResult = el("div", { id: "faq-preview", "aria-live": "polite" });
    const form = el("form", { class: "search", role: "search" }, [
      el("label", { for: "faq-preview-question", class: "visually-hidden", text: t("faqPreviewLabel") }),
      input,
      el("label", { for: "faq-preview-language", class: "visually-hidden", text: t("faqLanguage") }),
      language,
      el("button", { type: "submit", id: "faq-preview-button", text: t("faqPreviewButton") }),
    ]);
    input.placeholder = t("faqPreviewLabel");
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.preview(input.value.trim(), language.value);
    });
    return el("section", { class: "panel", "aria-labelledby": "faq-preview-title" }, [
      el("h2", { id: "faq-preview-title", text: t("faqPreview") }),
      el("p", { class: "hint", text: t("faqPreviewHint") }),
      form,
      this.previewResult,
    ]);
  }

  listPanel() {
    const t = this.t;
    this.searchBox = el("input", { type: "search", id: "faq-search", value: this.search });
    this.searchBox.placeholder = t("faqSearch");
    const search = el("form", { class: "search", role: "search" }, [
      el("label", { for: "faq-search", class: "visually-hidden", text: t("faqSearch") }),
      this.searchBox,
      el("button", { type: "submit", text: t("searchButton") }),
    ]);
    search.addEventListener("submit", (event) => {
      event.preventDefault();
      // A new search starts again at its first page.
      const q = this.searchBox.value.trim();
      visit(hashOf("faq", { q }), () => this.follow(new URLSearchParams({ q })));
    });
    const keys = ["faqQuestion", "faqAnswer", "faqTags", "faqLanguage"];
    if (this.canEdit) keys.push("backupRowActions");
    this.labels = keys.map((key) => t(key));
    const head = el("tr", {}, this.labels.map((label) => el("th", { scope: "col", text: label })));
    return el("section", { class: "panel", "aria-labelledby": "faq-list-title" }, [
      el("h2", { id: "faq-list-title", text: t("faqEntries") }),
      this.canEdit ? this.demoNotice() : "",
      search,
      this.pager.element,
      el("div", { class: "table-scroll" }, [
        el("table", { class: "data stacked" }, [el("thead", {}, [head]), this.listBody]),
      ]),
    ]);
  }

  // Shown while entries tagged "demo" (the first run's examples) are left.
  demoNotice() {
    const t = this.t;
    this.demoText = el("p", { class: "hint", id: "faq-demo-text" });
    const button = el("button", { type: "button", id: "faq-remove-demo", text: t("faqRemoveDemo") });
    button.addEventListener("click", () => this.removeDemo());
    this.demoPanel = el("div", { class: "demo-notice", id: "faq-demo" }, [this.demoText, button]);
    this.demoPanel.hidden = true;
    return this.demoPanel;
  }

  importPanel() {
    const t = this.t;
    this.fileInput = el("input", { type: "file", id: "faq-file", accept: ".csv,.json,text/csv,application/json" });
    const form = el("form", { class: "upload", id: "faq-import" }, [
      el("label", { for: "faq-file", text: t("faqImportLabel") }),
      this.fileInput,
      el("button", { type: "submit", id: "faq-import-button", text: t("faqImport") }),
    ]);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.importChosen();
    });
    return el("section", { class: "panel", "aria-labelledby": "faq-import-title" }, [
      el("h2", { id: "faq-import-title", text: t("faqImportTitle") }),
      el("p", { class: "hint", text: t("faqImportHint") }),
      form,
    ]);
  }

  goToPage(page) {
    visit(hashOf("faq", { q: this.search, page }), () => this.refresh());
  }

  async refresh() {
    const asked = ++this.asked;
    const query = new URLSearchParams({ limit: String(PAGE_SIZE), offset: String(offsetOf(this.page)) });
    if (this.search) query.set("q", this.search);
    if (this.canEdit) this.countDemo(asked);
    try {
      const found = await this.api.get(`/faq?${query}`);
      if (this.stopped || asked !== this.asked) return;
      if (!found.items.length && this.page > 1 && found.total) {
        // The page's entries went (deleted here or elsewhere, or a saved
        // link outlived them): show the last page that still has some.
        location.replace(hashOf("faq", { q: this.search, page: lastPageOf(found.total) }));
        return;
      }
      this.showEntries(found);
    } catch (error) {
      this.fail(error);
    }
  }

  // One id and tag read per entry on the server, none of the texts.
  async countDemo(asked) {
    try {
      const found = await this.api.get(`/faq?${new URLSearchParams({ tag: DEMO_TAG, limit: "1" })}`);
      if (this.stopped || asked !== this.asked) return;
      this.demoCount = found.total;
      this.demoText.textContent = this.t("faqDemoLeft", { count: found.total });
      this.demoPanel.hidden = found.total === 0;
    } catch (error) {
      this.fail(error);
    }
  }

  async removeDemo() {
    const t = this.t;
    const yes = await askToConfirm(t, {
      title: t("faqRemoveDemoTitle"),
      body: [el("p", { text: t("faqRemoveDemoText", { count: this.demoCount }) })],
      confirmLabel: t("faqRemoveDemo"),
      danger: true,
    });
    if (!yes) return;
    try {
      const response = await this.api.send("/faq/demo", { method: "DELETE" });
      const report = await readJson(response);
      say(this.message, t("faqDemoRemoved", { count: report.removed }));
    } catch (error) {
      this.fail(error);
    }
    this.refresh();
  }

  showEntries(found) {
    const t = this.t;
    this.pager.show(this.page, found.items.length, found.total);
    if (!found.items.length) {
      this.listBody.replaceChildren(
        el("tr", {}, [el("td", { colspan: this.labels.length, class: "empty", text: t("faqNone") })]),
      );
      return;
    }
    this.listBody.replaceChildren(...found.items.map((entry) => this.entryRow(entry)));
    for (const row of this.listBody.rows) {
      [...row.cells].forEach((cell, index) => cell.setAttribute("data-label", this.labels[index]));
    }
  }

  entryRow(entry) {
    const t = this.t;
    const cells = [
      el("td", { class: "faq-question", text: entry.question }),
      el("td", { class: "faq-answer", text: entry.answer }),
      el("td", { text: entry.tags.join(", ") || "–" }),
      el("td", { text: entry.language }),
    ];
    if (this.canEdit) {
      const actions = [
        ["faqEdit", () => this.startEditing(entry)],
        ["backupDelete", () => this.remove(entry)],
      ].map(([key, act]) => {
        const button = el("button", {
          type: "button", "data-action": key, "aria-label": `${t(key)}: ${entry.question}`, text: t(key),
        });
        button.addEventListener("click", act);
        return button;
      });
      cells.push(el("td", {}, [el("div", { class: "row-actions" }, actions)]));
    }
    return el("tr", { "data-id": entry.id }, cells);
  }

  startEditing(entry) {
    const t = this.t;
    this.editing = entry;
    this.question.value = entry?.question || "";
    this.answer.value = entry?.answer || "";
    this.tags.value = entry?.tags.join(", ") || "";
    this.language.value = entry?.language || "zh";
    this.editorTitle.textContent = entry ? t("faqEditTitle", { id: entry.id }) : t("faqAdd");
    this.cancelButton.hidden = !entry;
    if (entry) this.question.focus();
  }

  async save() {
    const t = this.t;
    const body = {
      question: this.question.value,
      answer: this.answer.value,
      tags: this.tags.value.split(/[,，]/).map((tag) => tag.trim()).filter(Boolean),
      language: this.language.value,
    };
    const editing = this.editing;
    try {
      const saved = editing
        ? await this.api.send(`/faq/${editing.id}`, { method: "PUT", json: body }).then(readJson)
        : await this.api.post("/faq", body);
      say(this.message, t(editing ? "faqUpdated" : "faqCreated", { id: saved.id }));
      this.startEditing(null);
    } catch (error) {
      this.fail(error);
    }
    this.refresh();
  }

  async remove(entry) {
    const t = this.t;
    const yes = await askToConfirm(t, {
      title: t("faqDeleteTitle"),
      body: [el("p", { text: t("faqDeleteText", { question: entry.question }) })],
      confirmLabel: t("backupDelete"),
      danger: true,
    });
    if (!yes) return;
    try {
      const response = await this.api.send(`/faq/${entry.id}`, { method: "DELETE" });
      if (response.status !== 204) await readJson(response);
      say(this.message, t("faqDeleted", { id: entry.id }));
      if (this.editing?.id === entry.id) this.startEditing(null);
    } catch (error) {
      this.fail(error);
    }
    this.refresh();
  }

  async importChosen() {
    const t = this.t;
    const file = this.fileInput.files[0];
    if (!file) {
      say(this.message, t("faqChooseFile"), true);
      return;
    }
    const form = new FormData();
    form.append("file", file);
    try {
      const response = await this.api.send("/faq/import", { method: "POST", body: form });
      const report = await readJson(response);
      say(this.message, t("faqImported", { file: file.name, created: report.created, updated: report.updated }));
      this.fileInput.value = "";
    } catch (error) {
      this.fail(error);
    }
    this.refresh();
  }

  async preview(question, language) {
    const t = this.t;
    if (!question) return;
    const query = new URLSearchParams({ q: question, limit: String(PREVIEW_MATCHES) });
    if (language) query.set("language", language);
    try {
      const result = await this.api.get(`/faq/match?${query}`);
      this.showPreview(result);
    } catch (error) {
      this.fail(error);
    }
  }

  showPreview({ threshold, matches }) {
    const t = this.t;
    const summary = el("p", { class: "hint", text: t("faqThreshold", { threshold: threshold.toFixed(2) }) });
    if (!matches.length) {
      this.previewResult.replaceChildren(summary, el("p", { class: "empty", text: t("faqNoMatch") }));
      return;
    }
    const items = matches.map((match) => el("li", { class: "match", "data-id": match.entry_id }, [
      el("span", { class: "match-question", text: match.question }),
      el("span", { class: `badge ${match.above_threshold ? "verified" : ""}`, text: t(
        match.above_threshold ? "faqWouldAnswer" : "faqBelow", { score: match.score.toFixed(2) },
      ) }),
      el("span", { class: "details", text: match.answer }),
    ]));
    this.previewResult.replaceChildren(summary, el("ol", { class: "matches" }, items));
  }

  fail(error) {
    if (error.status !== 401) say(this.message, this.t("actionFailed", { reason: describeError(error) }), true);
  }

  stop() {
    this.stopped = true;
  }
}

export default {
  id: "faq",
  titleKey: "navFaq",
  adminOnly: false,
  render(container, context) {
    const page = new FaqPage(container, context);
    page.render();
    return { stop: () => page.stop(), follow: (query) => page.follow(query) };
  },
};

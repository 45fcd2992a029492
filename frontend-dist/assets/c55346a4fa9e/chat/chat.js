// The customer's side of one conversation: what is shown, sent and uploaded.
import * as api from "./api.js";
import { ConversationFollower } from "../shared/follow.js";
import { forgetSession, loadSession, newClientMessageId, saveSession } from "./session.js";

export class CustomerChat {
  constructor(view, config) {
    this.view = view;
    this.config = config;
    this.session = loadSession();
    this.shown = new Set(); // message ids on the page
    this.withAgent = null;
    this.attachment = null; // {id, file} once uploaded, {uploading, file} before
    this.unsent = new Map(); // key -> send again, for sends that failed
    this.generation = 0; // one more on each startOver: older sends go quiet
  }

  resume() {
    if (this.session) this.follow();
  }

  follow() {
    this.view.newButton.hidden = false;
    const open = (lastEventId, signal) => api.openEvents(this.session, lastEventId, signal);
    this.follower = new ConversationFollower(open, {
      onMessage: (message) => this.receive(message),
      onStatus: (state) => this.updateStatus(state),
      onConnected: (connected) => {
        this.view.showConnection(connected);
        if (connected) this.resendUnsent();
      },
      onGone: () => this.forget(),
    });
    this.follower.run();
  }

  forget() {
    // The conversation was deleted (or the data restored from a backup
    // made before it): the next message starts a new one.
    forgetSession();
    this.session = null;
    this.follower = null;
    this.view.newButton.hidden = true;
  }

  // The customer's "New conversation": this browser lets go of the current
  // one (it stays on the server for the agents) and the next message starts
  // another. Also what the next person at a shared computer wants.
  startOver() {
    this.follower?.stop();
    this.forget();
    this.shown.clear();
    this.unsent.clear();
    this.withAgent = null;
    this.awaitingAfter = undefined;
    this.clearAttachment();
    this.view.clearMessages();
    this.generation += 1;
  }

  async ensureSession(language) {
    if (this.session) return this.session;
    // One start for every send or upload that comes before it answers, so
    // quick sends land in one conversation.
    this.starting ??= api.startConversation(language).finally(() => {
      this.starting = null;
    });
    const started = await this.starting;
    if (!this.session) {
      this.session = { id: started.conversation_id, token: started.token };
      saveSession(this.session);
      this.follow();
    }
    return this.session;
  }

  receive(message, key = message.client_message_id) {
    if (this.shown.has(message.id)) return;
    this.shown.add(message.id);
    if (message.sender !== "customer" && message.id > (this.awaitingAfter ?? Infinity)) {
      this.view.clearDraft();
    }
    const node = this.view.showMessage(message, key);
    if (!node.querySelector("img")) this.showImages(node, message.attachment_ids);
  }

  async showImages(node, attachmentIds) {
    for (const id of attachmentIds) {
      const blob = await api.fetchAttachment(this.session, id).catch(() => null);
      if (blob) this.view.addImage(node, blob);
    }
  }

  updateStatus(state) {
    if (state.with_agent && this.withAgent === false) {
      this.view.showNotice(this.view.t("agentJoined"));
    } else if (state.with_agent && this.withAgent === null) {
      this.view.showNotice(this.view.t("withAgent"));
    } else if (!state.with_agent) {
      this.view.showNotice("");
    }
    this.withAgent = state.with_agent;
  }

  /** Send `text` (and the attached image); false when it was not taken:
   * nothing to send, or the image is still uploading. */
  send(text, language) {
    if (this.attachment?.uploading) return false;
    const attachment = this.attachment;
    const body = text || (attachment ? this.view.t("imageOnly") : "");
    if (!body) return false;
    const message = {
      body,
      client_message_id: newClientMessageId(),
      attachment_ids: attachment ? [attachment.id] : [],
    };
    const node = this.view.showPending(message.client_message_id, body);
    if (attachment) this.view.addImage(node, attachment.file);
    this.clearAttachment();
    this.deliver(message, language);
    return true;
  }

  async deliver(message, language) {
    const key = message.client_message_id;
    const generation = this.generation;
    const current = () => generation === this.generation;
    try {
      const session = await this.ensureSession(language);
      let reply = "";
      for await (const event of api.sendMessage(session, message)) {
        if (!current()) return;
        const data = event.data;
        if (event.event === "stored") {
          const stored = JSON.parse(data);
          this.awaitingAfter = stored.id;
          this.receive(stored, key);
        } else if (event.event === "delta") {
          reply += data;
          this.view.draft(reply);
        } else if (event.event === "restart") {
          reply = "";
          this.view.draft("");
        } else if (event.event === "message") {
          this.view.clearDraft();
          this.receive(JSON.parse(data));
        }
      }
    } catch {
      if (!current()) return;
      this.unsent.set(key, () => this.deliver(message, language));
      this.view.markFailed(key, () => this.resend(key));
    } finally {
      if (current()) this.view.clearDraft();
    }
  }

  // A send that failed goes again when the customer asks, or by itself once
  // the events stream is back: the server keeps one copy per
  // client_message_id, so a send that did arrive is not stored twice.
  resend(key) {
    const again = this.unsent.get(key);
    if (!again) return;
    this.unsent.delete(key);
    this.view.clearFailed(key);
    again();
  }

  resendUnsent() {
    for (const key of [...this.unsent.keys()]) this.resend(key);
  }

  async attach(file, language) {
    this.view.showError("");
    const problem = this.checkFile(file);
    if (problem) {
      this.view.showError(problem);
      this.view.file.value = "";
      return;
    }
    const pending = { uploading: true, file };
    this.attachment = pending;
    this.view.showUpload({ file, fraction: 0, done: false });
    // An upload the customer removed, or replaced by another, is left to
    // finish unseen: only the current one may attach.
    const current = () => this.attachment === pending;
    try {
      const session = await this.ensureSession(language);
      const stored = await api.uploadImage(session, file, (fraction) => {
        if (current()) this.view.showUpload({ fraction, done: false });
      });
      if (!current()) return;
      this.attachment = { id: stored.attachment_id, file };
      this.view.showUpload({ done: true });
    } catch (error) {
      if (!current()) return;
      this.clearAttachment();
      this.view.showError(this.uploadErrorText(error));
    }
  }

  checkFile(file) {
    const { max_bytes, extensions, content_types } = this.config.upload;
    const extension = file.name.split(".").pop().toLowerCase();
    if (!content_types.includes(file.type) && !extensions.includes(extension)) {
      return this.view.t("badType", { types: extensions.join(", ").toUpperCase() });
    }
    if (file.size > max_bytes) {
      return this.view.t("tooLarge", { max: formatBytes(max_bytes) });
    }
    return null;
  }

  uploadErrorText(error) {
    if (error.status === 413) {
      return this.view.t("tooLarge", { max: formatBytes(this.config.upload.max_bytes) });
    }
    if (error.status === 415 || error.status === 422) {
      return `${this.view.t("uploadFailed")}: ${error.message}`;
    }
    return this.view.t("uploadFailed");
  }

  clearAttachment() {
    this.attachment = null;
    this.view.clearUpload();
  }
}

export function formatBytes(bytes) {
  if (bytes >= 1024 * 1024) return `${Math.round(bytes / 1024 / 1024)} MB`;
  return `${Math.max(1, Math.round(bytes / 1024))} KB`;
}

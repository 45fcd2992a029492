// Follow a conversation's event stream for as long as the page is open
// (the customer's chat, and the agent's open conversation).
//
// Every message event carries its id; after a drop (network, a worker
// restart) the stream is opened again with Last-Event-ID set to the last id
// seen, so nothing is missed, and the page drops any id it already shows,
// so nothing appears twice.
import { ApiError } from "./http.js";

const FIRST_RETRY_MS = 500;
// Answers that another try would only repeat: gone, or not allowed.
const RETRYABLE_STATUSES = new Set([408, 429]);
const LAST_RETRY_MS = 10000;

export class ConversationFollower {
  // `open(lastEventId, signal)` opens the stream and resolves to its events.
  constructor(open, handlers) {
    this.open = open;
    this.handlers = handlers; // onMessage, onStatus, onConnected, onGone
    this.lastEventId = 0;
    this.controller = new AbortController();
    this.wake = null;
    this.onOnline = () => this.wake?.();
    addEventListener("online", this.onOnline);
  }

  async run() {
    let delay = FIRST_RETRY_MS;
    while (!this.controller.signal.aborted) {
      try {
        const events = await this.open(this.lastEventId, this.controller.signal);
        this.handlers.onConnected(true);
        for await (const event of events) {
          // Only a stream that delivers earns a quick retry: one that is
          // accepted and cut at once (a proxy, a crash loop) backs off.
          delay = FIRST_RETRY_MS;
          this.dispatch(event);
        }
      } catch (error) {
        if (this.controller.signal.aborted) return;
        if (isFinal(error)) {
          this.handlers.onGone(error);
          return;
        }
      }
      this.handlers.onConnected(false);
      // Spread out, so the pages a restarted worker dropped do not all
      // come back in the same instant.
      await this.pause(delay * (0.5 + Math.random() / 2));
      delay = Math.min(delay * 2, LAST_RETRY_MS);
    }
  }

  dispatch(event) {
    if (event.event === "status") {
      this.handlers.onStatus(JSON.parse(event.data));
    } else if (event.event === "message") {
      const message = JSON.parse(event.data);
      this.lastEventId = Math.max(this.lastEventId, message.id);
      this.handlers.onMessage(message);
    }
  }

  pause(ms) {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  stop() {
    removeEventListener("online", this.onOnline);
    this.controller.abort();
    this.wake?.();
  }
}

function isFinal(error) {
  return (
    error instanceof ApiError &&
    error.status >= 400 &&
    error.status < 500 &&
    !RETRYABLE_STATUSES.has(error.status)
  );
}

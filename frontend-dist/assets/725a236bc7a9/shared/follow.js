// Follow a conversation's event stream for as long as the page is open
// (the customer's chat, and the agent's open conversation).
//
// Every message event carries its id; after a drop (network, a worker
// restart) the stream is opened again with Last-Event-ID set to the last id
// seen, so nothing is missed, and the page drops any id it already shows,
// so nothing appears twice.
import { ApiError } from "./http.js";

const FIRST_RETRY_MS = 500;
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
        delay = FIRST_RETRY_MS;
        for await (const event of events) this.dispatch(event);
      } catch (error) {
        if (this.controller.signal.aborted) return;
        if (error instanceof ApiError && error.status === 404) {
          this.handlers.onGone();
          return;
        }
      }
      this.handlers.onConnected(false);
      await this.pause(delay);
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

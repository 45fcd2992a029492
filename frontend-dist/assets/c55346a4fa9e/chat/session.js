// The conversation's id and token, kept so a reload shows the same chat.
const STORAGE_KEY = "cs.conversation.v1";

export function loadSession() {
  try {
    const saved = JSON.parse(localStorage.getItem(STORAGE_KEY));
    if (saved && Number.isInteger(saved.id) && typeof saved.token === "string") {
      return saved;
    }
  } catch {
    // Unreadable or refused storage: start afresh.
  }
  return null;
}

export function saveSession(session) {
  try {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(session));
  } catch {
    // Without storage the chat still works until the page is closed.
  }
}

export function forgetSession() {
  try {
    localStorage.removeItem(STORAGE_KEY);
  } catch {
    // Nothing was kept.
  }
}

// An id for a message before the server knows it, so a retried send is
// stored once. crypto.randomUUID needs a secure context; this does not.
export function newClientMessageId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

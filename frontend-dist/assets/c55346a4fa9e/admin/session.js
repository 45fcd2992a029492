// The signed-in agent's token and account, kept for this tab only
// (sessionStorage): closing the tab signs the page out of the browser.
const STORAGE_KEY = "cs.admin.v1";

export function loadSignIn() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(STORAGE_KEY));
    if (saved && typeof saved.token === "string" && saved.user) return saved;
  } catch {
    // Unreadable or refused storage: sign in again.
  }
  return null;
}

export function saveSignIn(signIn) {
  try {
    sessionStorage.setItem(STORAGE_KEY, JSON.stringify(signIn));
  } catch {
    // Without storage the page works until it is reloaded.
  }
}

export function forgetSignIn() {
  try {
    sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    // Nothing was kept.
  }
}

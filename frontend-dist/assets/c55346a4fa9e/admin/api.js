// The admin API (/api/v1/admin) with the agent's bearer token. A 401 from
// any route means the sign-in is over (expired, revoked, signed out in
// another tab): `onSignedOut` is called once and the page returns to
// the sign-in form.
import { ApiError, readJson } from "../shared/http.js";
import { readEvents } from "../shared/sse.js";

const BASE = "/api/v1/admin";

export async function signIn(email, password) {
  const response = await fetch(`${BASE}/auth/login`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ email, password }),
  });
  return readJson(response);
}

export class AdminApi {
  constructor(token, onSignedOut) {
    this.token = token;
    this.onSignedOut = onSignedOut;
  }

  async send(path, { method = "GET", json, body, headers = {}, signal } = {}) {
    const options = { method, body, signal, cache: "no-store" };
    options.headers = { Authorization: `Bearer ${this.token}`, ...headers };
    if (json !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(json);
    }
    const response = await fetch(BASE + path, options);
    if (response.status === 401) {
      this.onSignedOut();
      throw new ApiError(401, "not_signed_in");
    }
    return response;
  }

  async get(path) {
    return readJson(await this.send(path));
  }

  async blob(path) {
    const response = await this.send(path);
    if (!response.ok) await readJson(response);
    return response.blob();
  }

  async post(path, json) {
    const response = await this.send(path, { method: "POST", json });
    return response.status === 204 ? null : readJson(response);
  }

  // A GET that sends the ETag of the copy already shown: `null` when the
  // server answers 304 (nothing changed), else `{etag, body}`.
  async getChanged(path, etag) {
    const headers = etag ? { "If-None-Match": etag } : {};
    const response = await this.send(path, { headers });
    if (response.status === 304) return null;
    return { etag: response.headers.get("etag"), body: await readJson(response) };
  }

  // A file sent as the whole body with XMLHttpRequest, the one browser API
  // that reports upload progress: `onProgress(sent, total)`. Aborting
  // `signal` breaks the request off; it then rejects with an AbortError,
  // as fetch does.
  upload(path, file, { onProgress = () => {}, signal } = {}) {
    return new Promise((resolve, reject) => {
      const request = new XMLHttpRequest();
      request.open("POST", BASE + path);
      request.setRequestHeader("Authorization", `Bearer ${this.token}`);
      request.setRequestHeader("Content-Type", "application/octet-stream");
      request.upload.addEventListener("progress", (event) => {
        if (event.lengthComputable) onProgress(event.loaded, event.total);
      });
      request.addEventListener("load", () => {
        if (request.status === 401) this.onSignedOut();
        const response = new Response(request.responseText || "{}", {
          status: request.status,
          headers: { "Content-Type": "application/json" },
        });
        readJson(response).then(resolve, reject);
      });
      request.addEventListener("error", () => reject(new ApiError(0, "network")));
      const cancelled = () => reject(new DOMException("upload cancelled", "AbortError"));
      request.addEventListener("abort", cancelled);
      if (signal?.aborted) {
        cancelled();
        return;
      }
      signal?.addEventListener("abort", () => request.abort(), { once: true });
      request.send(file);
    });
  }

  // A file fetched with the token (never put in a URL) and handed to the
  // browser as a download from a blob: URL.
  async download(path, fileName) {
    const response = await this.send(path);
    if (!response.ok) await readJson(response);
    const url = URL.createObjectURL(await response.blob());
    const link = document.createElement("a");
    link.href = url;
    link.download = fileName;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  }

  async openEvents(conversationId, lastEventId, signal) {
    const headers = { Accept: "text/event-stream" };
    if (lastEventId) headers["Last-Event-ID"] = String(lastEventId);
    const path = `/conversations/${conversationId}/events`;
    const response = await this.send(path, { headers, signal });
    if (!response.ok) await readJson(response);
    return readEvents(response.body);
  }
}

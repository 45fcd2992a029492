// The customer chat API (/api/v1/customer), as the page uses it.
import { ApiError, readJson as json } from "../shared/http.js";
import { readEvents } from "../shared/sse.js";

export { ApiError, readConfig } from "../shared/http.js";

const BASE = "/api/v1/customer";

export async function startConversation(language) {
  const response = await fetch(`${BASE}/conversations`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ language }),
  });
  return json(response);
}

export async function readConversation(session) {
  const url = `${BASE}/conversations/${session.id}`;
  return json(await fetch(url, { headers: bearer(session) }));
}

// Send a message and yield the reply's events as they stream.
export async function* sendMessage(session, message) {
  const response = await fetch(`${BASE}/conversations/${session.id}/messages`, {
    method: "POST",
    headers: {
      ...bearer(session),
      "Content-Type": "application/json",
      Accept: "text/event-stream",
    },
    body: JSON.stringify(message),
  });
  const type = response.headers.get("content-type") || "";
  if (!type.startsWith("text/event-stream")) {
    // A retried send answers with the message it stored the first time.
    yield { event: "stored", data: JSON.stringify(await json(response)) };
    return;
  }
  yield* readEvents(response.body);
}

// Open the conversation's event stream after `lastEventId` (resume).
export async function openEvents(session, lastEventId, signal) {
  const headers = { ...bearer(session), Accept: "text/event-stream" };
  if (lastEventId) headers["Last-Event-ID"] = String(lastEventId);
  const url = `${BASE}/conversations/${session.id}/events`;
  const response = await fetch(url, { headers, signal, cache: "no-store" });
  if (!response.ok) await json(response);
  return readEvents(response.body);
}

export async function fetchAttachment(session, attachmentId) {
  const url = `${BASE}/conversations/${session.id}/attachments/${attachmentId}`;
  const response = await fetch(url, { headers: bearer(session) });
  if (!response.ok) await json(response);
  return response.blob();
}

// XMLHttpRequest, not fetch: only it reports upload progress.
export function uploadImage(session, file, onProgress) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("POST", `${BASE}/upload-image`);
    request.setRequestHeader("Authorization", `Bearer ${session.token}`);
    request.responseType = "json";
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    });
    request.addEventListener("load", () => {
      const body = request.response || {};
      if (request.status === 201) resolve(body);
      else reject(new ApiError(request.status, body.code, body.detail));
    });
    request.addEventListener("error", () => reject(new ApiError(0, "network")));
    const form = new FormData();
    form.append("conversation_id", String(session.id));
    form.append("file", file);
    request.send(form);
  });
}

function bearer(session) {
  return { Authorization: `Bearer ${session.token}` };
}

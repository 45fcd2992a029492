// What every page's API client shares: one error type and one way to read
// a JSON answer, so `{detail, code}` errors look the same everywhere.
export class ApiError extends Error {
  constructor(status, code, detail) {
    super(detail || code || `HTTP ${status}`);
    this.status = status;
    this.code = code;
  }
}

export async function readJson(response) {
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(response.status, body.code, body.detail);
  return body;
}

export async function readConfig() {
  return readJson(await fetch("/api/v1/ui/config"));
}

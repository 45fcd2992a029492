// Read server-sent events from a fetch() body. EventSource cannot send the
// conversation's bearer token, so the streams are read by hand.

// No event of ours comes near this; a stream that sends more without a
// break is not one of ours, and is dropped rather than held.
const MAX_PENDING_CHARS = 1024 * 1024;

export async function* readEvents(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let event = newEvent();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      if (buffer.length + event.size > MAX_PENDING_CHARS) {
        throw new Error("an event stream sent an event over 1 MiB");
      }
      if (!/[\r\n]/.test(value)) continue;
      const lines = buffer.split(/\r?\n/);
      buffer = lines.pop();
      for (const line of lines) {
        if (line === "") {
          if (event.data.length) yield finish(event);
          event = newEvent();
        } else {
          addField(event, line);
        }
      }
    }
  } finally {
    // Also when the caller stops early: the connection is let go.
    reader.cancel().catch(() => {});
  }
}

function newEvent() {
  return { event: "message", id: null, data: [], size: 0 };
}

function addField(event, line) {
  if (line.startsWith(":")) return; // a keep-alive comment
  const colon = line.indexOf(":");
  const field = colon < 0 ? line : line.slice(0, colon);
  let value = colon < 0 ? "" : line.slice(colon + 1);
  if (value.startsWith(" ")) value = value.slice(1);
  if (field === "event") event.event = value;
  else if (field === "id") event.id = value;
  else if (field === "data") {
    event.data.push(value);
    event.size += value.length;
  }
}

function finish(event) {
  return { event: event.event, id: event.id, data: event.data.join("\n") };
}

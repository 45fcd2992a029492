// Images the page holds as blobs (fetched with a token, or picked from the
// customer's disk): shown through a blob: URL that is revoked once the image
// has decoded, so a long conversation does not keep every file in memory
// twice. The element keeps showing the decoded picture after the revoke.
import { el } from "./dom.js";

export function showBlob(image, blob) {
  const url = URL.createObjectURL(blob);
  const revoke = () => URL.revokeObjectURL(url);
  image.addEventListener("load", revoke, { once: true });
  image.addEventListener("error", revoke, { once: true });
  image.src = url;
}

export function imageFromBlob(blob, attributes) {
  const image = el("img", attributes);
  showBlob(image, blob);
  return image;
}

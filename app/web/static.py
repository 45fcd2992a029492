"""Serve the prebuilt UI from `frontend-dist/`.

Every file is read and compressed once at start-up: the UI is a few hundred
kilobytes, it never changes while the process runs, and serving from memory
keeps each request to one dictionary lookup. Files under a content-hashed
folder (`/assets/3f9a1c2e04b1/chat/main.js`, written by scripts/build-frontend)
or with a hash in their name (`app.3f9a1c2e.js`) are cached for a year; HTML
is revalidated on every visit so a new release shows up at once, and carries
the security headers of app.web.security.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import app
from app.web.security import page_headers

HASHED_NAME = re.compile(r"\.[0-9a-f]{8,}\.[a-z0-9]+$")
HASHED_FOLDER = re.compile(r"^/assets/[0-9a-f]{8,}/")
COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg")
MIN_COMPRESS_BYTES = 512
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".webmanifest": "application/manifest+json",
    ".woff2": "font/woff2",
    ".txt": "text/plain; charset=utf-8",
}
CACHE_FOREVER = "public, max-age=31536000, immutable"
CACHE_REVALIDATE = "no-cache"
CACHE_BRIEFLY = "public, max-age=3600"


@dataclass(frozen=True)
class StaticFile:
    body: bytes
    gzipped: bytes | None
    content_type: str
    cache_control: str
    etag: str
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)


def frontend_root() -> Path:
    """Where the UI lives: inside the installed package, or in a checkout."""
    package_dir = Path(app.__file__).parent
    installed = package_dir / "frontend"
    if installed.is_dir():
        return installed
    return package_dir.parent / "frontend-dist"


def load_static_files(
    root: Path, cors_origins: Iterable[str] = ()
) -> dict[str, StaticFile]:
    files: dict[str, StaticFile] = {}
    if not root.is_dir():
        return files
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix not in (".gz", ".py", ".pyc"):
            url = "/" + path.relative_to(root).as_posix()
            files[url] = read_static_file(path, url)
    for url in [url for url in files if url.endswith(".html")]:
        # `/` for index.html, `/widget` for widget.html, `/admin/` and
        # `/admin` for admin/index.html (its links are absolute).
        short = url.removesuffix("index.html").removesuffix(".html")
        files.setdefault(short, files[url])
        if short.endswith("/") and short != "/":
            files.setdefault(short.rstrip("/"), files[url])
    origins = list(cors_origins)
    for url, found in files.items():
        if found.content_type.startswith("text/html"):
            files[url] = with_headers(found, page_headers(url, origins))
    return files


def with_headers(found: StaticFile, headers: list) -> StaticFile:
    return StaticFile(
        body=found.body,
        gzipped=found.gzipped,
        content_type=found.content_type,
        cache_control=found.cache_control,
        etag=found.etag,
        headers=headers,
    )


def read_static_file(path: Path, url: str) -> StaticFile:
    body = path.read_bytes()
    content_type = content_type_for(path)
    return StaticFile(
        body=body,
        gzipped=compressed_body(path, body, content_type),
        content_type=content_type,
        cache_control=cache_control_for(url, content_type),
        etag='"' + hashlib.sha256(body).hexdigest()[:32] + '"',
    )


def content_type_for(path: Path) -> str:
    known = CONTENT_TYPES.get(path.suffix.lower())
    if known:
        return known
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "application/octet-stream"


def compressed_body(path: Path, body: bytes, content_type: str) -> bytes | None:
    precompressed = path.with_name(path.name + ".gz")
    if precompressed.is_file():
        return precompressed.read_bytes()
    if len(body) < MIN_COMPRESS_BYTES or not content_type.startswith(COMPRESSIBLE):
        return None
    return gzip.compress(body, compresslevel=9, mtime=0)


def cache_control_for(url: str, content_type: str) -> str:
    if content_type.startswith("text/html"):
        return CACHE_REVALIDATE
    if HASHED_FOLDER.match(url) or HASHED_NAME.search(url):
        return CACHE_FOREVER
    return CACHE_BRIEFLY


class StaticUI:
    """A pure ASGI app answering GET and HEAD for the files under `root`."""

    def __init__(self, root: Path | None = None, cors_origins: Iterable[str] = ()):
        self.files = load_static_files(root or frontend_root(), cors_origins)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        found = self.files.get(scope["path"])
        if scope["method"] not in ("GET", "HEAD"):
            allow = [(b"allow", b"GET, HEAD")]
            await send_json(send, 405, b'{"detail":"Method Not Allowed"}', allow)
        elif found is None:
            await send_json(send, 404, b'{"detail":"Not Found"}')
        else:
            await send_file(scope, send, found)


async def send_file(scope, send, found: StaticFile) -> None:
    request_headers = dict(scope["headers"])
    headers = [
        (b"content-type", found.content_type.encode()),
        (b"cache-control", found.cache_control.encode()),
        (b"etag", found.etag.encode()),
        (b"x-content-type-options", b"nosniff"),
        *found.headers,
    ]
    if found.gzipped is not None:
        headers.append((b"vary", b"accept-encoding"))

    if request_headers.get(b"if-none-match", b"").decode() == found.etag:
        await send({"type": "http.response.start", "status": 304, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
        return

    body = found.body
    if found.gzipped is not None and accepts_gzip(request_headers):
        body = found.gzipped
        headers.append((b"content-encoding", b"gzip"))
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    payload = b"" if scope["method"] == "HEAD" else body
    await send({"type": "http.response.body", "body": payload})


def accepts_gzip(request_headers: dict[bytes, bytes]) -> bool:
    offered = request_headers.get(b"accept-encoding", b"").decode().lower()
    return any(
        part.split(";")[0].strip() == "gzip"
        and not part.replace(" ", "").endswith("q=0")
        for part in offered.split(",")
    )


async def send_json(send, status: int, text: bytes, extra=()) -> None:
    # The same shape FastAPI gives its own 404 and 405, so a client sees one
    # error format whichever part of the app answered.
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(text)).encode()),
        *extra,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": text})

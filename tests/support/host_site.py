"""Another loopback origin: a shop's site that embeds the widget.

with host_site(directory) as site:
    (site.site / "index.html").write_text(page)
    browser_page.goto(site.origin + "/")
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class QuietFiles(SimpleHTTPRequestHandler):
    def log_message(self, format, *args) -> None:
        pass


@contextmanager
def host_site(directory: Path) -> Iterator[ThreadingHTTPServer]:
    """Serve `directory` on a free port; `.site` is it, `.origin` the URL."""
    handler = functools.partial(QuietFiles, directory=str(directory))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.site = directory
    server.origin = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()

"""The security headers every UI page is served with.

The pages run no inline script or style, so the policy allows only files
from this origin. Uploaded images are shown from blob: URLs (they are
fetched with the conversation's token), hence `img-src blob:`.

Framing: the widget's frame page (`/widget`) must load inside the sites
that embed the widget, which are the ones CORS_ORIGINS already trusts to
call the API; every other page refuses to be framed, so the chat and the
admin pages cannot be overlaid for clickjacking.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

WIDGET_FRAME_PAGES = ("/widget", "/widget.html")
# What may appear in a frame-ancestors source list: scheme://host[:port].
ORIGIN = re.compile(r"https?://[A-Za-z0-9.\-\[\]:]+")

BASE_POLICY = (
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' blob:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
)


def frame_ancestors(url: str, cors_origins: Iterable[str]) -> str:
    if url not in WIDGET_FRAME_PAGES:
        return "'none'"
    origins = [origin.rstrip("/") for origin in cors_origins]
    if "*" in origins:
        return "*"
    allowed = [origin for origin in origins if ORIGIN.fullmatch(origin)]
    return " ".join(["'self'", *allowed])


def content_security_policy(url: str, cors_origins: Iterable[str]) -> str:
    ancestors = frame_ancestors(url, cors_origins)
    return "; ".join([*BASE_POLICY, f"frame-ancestors {ancestors}"])


def page_headers(url: str, cors_origins: Iterable[str]) -> list[tuple[bytes, bytes]]:
    """Headers for an HTML page, beside the nosniff every file gets."""
    policy = content_security_policy(url, cors_origins)
    headers = [
        (b"content-security-policy", policy.encode()),
        (b"referrer-policy", b"no-referrer"),
    ]
    if url not in WIDGET_FRAME_PAGES:
        # For browsers older than frame-ancestors.
        headers.append((b"x-frame-options", b"DENY"))
    return headers

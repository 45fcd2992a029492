"""Every UI page carries a strict CSP; only the widget's frame may be framed."""

from __future__ import annotations

import httpx
import pytest

from app.main import create_app
from app.web.security import content_security_policy
from appliance.settings import Settings

SITE = "https://shop.example.com"


@pytest.fixture
async def client(data_dir):
    app = create_app(Settings(data_dir=data_dir, cors_origins=[SITE]))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ui") as client:
        yield client


def directives(response) -> dict[str, str]:
    policy = response.headers["content-security-policy"]
    pairs = (part.strip().split(" ", 1) for part in policy.split(";"))
    return {name: value for name, value in pairs}


@pytest.mark.parametrize("path", ["/", "/index.html", "/widget"])
async def test_pages_allow_no_inline_script_or_style(client, path):
    response = await client.get(path)
    csp = directives(response)
    assert response.status_code == 200
    assert csp["script-src"] == "'self'"
    assert csp["style-src"] == "'self'"
    assert csp["connect-src"] == "'self'"
    assert csp["img-src"] == "'self' blob:"
    assert csp["object-src"] == "'none'"
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_chat_page_refuses_every_frame(client):
    response = await client.get("/")
    assert directives(response)["frame-ancestors"] == "'none'"
    assert response.headers["x-frame-options"] == "DENY"


async def test_widget_frame_may_be_framed_by_the_cors_origins_only(client):
    response = await client.get("/widget")
    assert directives(response)["frame-ancestors"] == f"'self' {SITE}"
    assert "x-frame-options" not in response.headers


async def test_scripts_and_styles_get_no_page_policy(client):
    response = await client.get("/widget.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert "content-security-policy" not in response.headers
    assert response.headers["cache-control"] == "public, max-age=3600"


def test_a_wildcard_origin_lets_any_site_frame_the_widget():
    assert content_security_policy("/widget", ["*"]).endswith("frame-ancestors *")


def test_origins_that_would_break_the_header_are_left_out():
    policy = content_security_policy("/widget", [SITE, "http://a; script-src *"])
    assert policy.endswith(f"frame-ancestors 'self' {SITE}")


def test_an_origin_with_a_trailing_newline_is_left_out():
    policy = content_security_policy("/widget", [SITE, "https://b.example\n"])
    assert policy.endswith(f"frame-ancestors 'self' {SITE}")

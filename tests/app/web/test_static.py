"""The UI files are served with the right types, caching and compression."""

from __future__ import annotations

import gzip

import httpx
import pytest

from app.main import create_app
from app.web.build import assets_digest
from app.web.static import StaticUI, frontend_root
from appliance.settings import Settings


@pytest.fixture
async def client(data_dir):
    app = create_app(Settings(data_dir=data_dir))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ui") as client:
        yield client


def hashed_assets() -> list:
    return sorted((frontend_root() / "assets").rglob("*.css"))


async def test_index_is_html_revalidated_on_every_visit(client):
    response = await client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    assert "智能客服系统" in response.text


@pytest.mark.parametrize("path", ["/admin/", "/admin", "/admin/index.html"])
async def test_admin_page_is_served_with_and_without_the_slash(client, path):
    response = await client.get(path)
    assert response.status_code == 200
    assert 'data-page="admin"' in response.text
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"


async def test_hashed_asset_is_cached_for_a_year(client):
    asset = hashed_assets()[0]
    response = await client.get("/" + asset.relative_to(frontend_root()).as_posix())
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"


async def test_gzip_is_sent_only_to_clients_that_accept_it(client):
    zipped = await client.get("/", headers={"accept-encoding": "gzip"})
    plain = await client.get("/", headers={"accept-encoding": "identity"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in zipped.headers["vary"].lower()
    assert "content-encoding" not in plain.headers
    assert zipped.content == plain.content  # httpx decodes the gzip body


async def test_unchanged_file_answers_304_to_its_etag(client):
    first = await client.get("/")
    second = await client.get("/", headers={"if-none-match": first.headers["etag"]})
    assert second.status_code == 304
    assert second.content == b""


async def test_head_sends_headers_without_body(client):
    response = await client.head("/")
    assert response.status_code == 200
    assert int(response.headers["content-length"]) > 0
    assert response.content == b""


@pytest.mark.parametrize(
    "path", ["/missing.js", "/../pyproject.toml", "/%2e%2e/setup.py", "/assets/"]
)
async def test_unknown_or_escaping_paths_get_the_json_404(client, path):
    response = await client.get(path)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


async def test_writing_methods_are_refused(client):
    response = await client.post("/")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"


def test_hashed_folder_is_named_after_its_content():
    # A file edited without moving the folder would stay cached for a year.
    folders = [p for p in (frontend_root() / "assets").iterdir() if p.is_dir()]
    assert len(folders) == 1
    assert folders[0].name == assets_digest(folders[0])


def test_precompressed_sibling_is_preferred(tmp_path):
    (tmp_path / "big.js").write_text("x" * 2000)
    (tmp_path / "big.js.gz").write_bytes(gzip.compress(b"precompressed"))
    ui = StaticUI(tmp_path)
    assert gzip.decompress(ui.files["/big.js"].gzipped) == b"precompressed"
    assert "/big.js.gz" not in ui.files

"""GET /api/v1/ui/config tells the static pages what this install offers."""

from __future__ import annotations

import httpx

from app.main import create_app
from appliance.settings import Settings


async def config_for(data_dir, **settings) -> dict:
    app = create_app(Settings(data_dir=data_dir, **settings))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ui") as client:
        response = await client.get("/api/v1/ui/config")
    assert response.status_code == 200
    return response.json()


async def test_defaults_offer_both_languages_and_the_upload_limit(data_dir):
    config = await config_for(data_dir)
    assert config["app_name"] == "智能客服系统"
    assert config["languages"] == ["zh", "en"]
    assert config["default_language"] == "zh"
    assert config["upload"]["max_bytes"] == 50485760
    assert config["upload"]["extensions"] == ["jpg", "jpeg", "png", "gif"]
    assert config["upload"]["content_types"] == ["image/gif", "image/jpeg", "image/png"]


async def test_app_name_and_languages_follow_the_settings(data_dir):
    config = await config_for(
        data_dir,
        app_name="Acme Help",
        next_public_supported_languages=["en", "fr"],
        next_public_default_language="zh",
        max_file_size=1000,
    )
    assert config["app_name"] == "Acme Help"
    assert config["languages"] == ["en"]
    assert config["default_language"] == "en"
    assert config["upload"]["max_bytes"] == 1000


async def test_an_explicit_ui_name_wins(data_dir):
    config = await config_for(data_dir, app_name="Acme", next_public_app_name="Acme UI")
    assert config["app_name"] == "Acme UI"


def test_the_route_is_described_in_openapi():
    schema = create_app(Settings()).openapi()
    response = schema["paths"]["/api/v1/ui/config"]["get"]["responses"]["200"]
    assert response["content"]["application/json"]["schema"]["$ref"].endswith(
        "/UiConfig"
    )

"""Every error, validation included, has the one body shape of the table."""

from __future__ import annotations

import httpx

from app.main import create_app
from appliance.settings import Settings

SECRET = "hunter2-but-longer-and-secret"


async def test_invalid_request_gets_the_table_shape_without_echoing_input(data_dir):
    app = create_app(Settings(data_dir=data_dir))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        response = await client.post(
            "/api/v1/admin/auth/login", json={"password": SECRET, "email": 7}
        )
        schema = (await client.get("/openapi.json")).json()

    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid"
    assert body["detail"].startswith("email: ")
    assert body["errors"][0]["loc"] == ["body", "email"]
    assert SECRET not in response.text
    documented = schema["components"]["schemas"]["HTTPValidationError"]
    assert documented["required"] == ["detail", "code"]


async def test_oversized_row_id_is_refused_as_invalid(data_dir):
    app = create_app(Settings(data_dir=data_dir))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        response = await client.get(f"/api/v1/customer/conversations/{2**63}")
    assert response.status_code == 422
    assert response.json()["code"] == "invalid"

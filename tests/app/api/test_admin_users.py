"""Admins manage accounts through the API (both engines)."""

from __future__ import annotations

import httpx

from app.main import create_app
from tests.support.accounts import (
    bearer_headers,
    create_account,
    signed_in_headers,
    token_for,
)

USERS = "/api/v1/admin/users"


def client_for(settings) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_app(settings))
    return httpx.AsyncClient(transport=transport, base_url="http://app")


async def test_admin_creates_lists_and_changes_accounts(migrated_database):
    headers = signed_in_headers(migrated_database, role="admin")
    async with client_for(migrated_database) as client:
        created = await client.post(
            USERS,
            headers=headers,
            json={"email": "New@Example.com", "password": "a sturdy password"},
        )
        user_id = created.json()["id"]
        changed = await client.patch(
            f"{USERS}/{user_id}", headers=headers, json={"role": "admin"}
        )
        listed = await client.get(USERS, headers=headers)

    assert created.status_code == 201, created.text
    assert created.json()["role"] == "agent"
    assert changed.json()["role"] == "admin"
    assert "new@example.com" in [user["email"] for user in listed.json()]
    assert "password_hash" not in listed.json()[0]


async def test_weak_password_is_422_and_duplicate_email_409(migrated_database):
    headers = signed_in_headers(migrated_database, role="admin")
    taken = create_account(migrated_database)
    async with client_for(migrated_database) as client:
        weak = await client.post(
            USERS, headers=headers, json={"email": "x@y.io", "password": "short"}
        )
        duplicate = await client.post(
            USERS,
            headers=headers,
            json={"email": taken.email, "password": "a sturdy password"},
        )

    assert weak.status_code == 422
    assert "shorter than" in weak.json()["detail"]
    assert duplicate.status_code == 409


async def test_last_active_admin_cannot_be_demoted_or_deactivated(migrated_database):
    admin = create_account(migrated_database, role="admin")
    headers = bearer_headers(token_for(migrated_database, admin))
    async with client_for(migrated_database) as client:
        demote = await client.patch(
            f"{USERS}/{admin.id}", headers=headers, json={"role": "agent"}
        )
        deactivate = await client.patch(
            f"{USERS}/{admin.id}", headers=headers, json={"is_active": False}
        )
        other = create_account(migrated_database, role="admin")
        now_allowed = await client.patch(
            f"{USERS}/{other.id}", headers=headers, json={"is_active": False}
        )

    assert demote.status_code == 409
    assert deactivate.status_code == 409
    assert "last active admin" in demote.json()["detail"]
    assert now_allowed.status_code == 200


async def test_password_reset_ends_the_accounts_sessions(migrated_database):
    headers = signed_in_headers(migrated_database, role="admin")
    agent = create_account(migrated_database)
    agent_headers = bearer_headers(token_for(migrated_database, agent))
    async with client_for(migrated_database) as client:
        reset = await client.post(
            f"{USERS}/{agent.id}/password",
            headers=headers,
            json={"password": "another sturdy one"},
        )
        me = await client.get("/api/v1/admin/auth/me", headers=agent_headers)

    assert reset.status_code == 204
    assert me.status_code == 401


async def test_deactivated_account_is_signed_out_at_once(migrated_database):
    headers = signed_in_headers(migrated_database, role="admin")
    agent = create_account(migrated_database)
    agent_headers = bearer_headers(token_for(migrated_database, agent))
    async with client_for(migrated_database) as client:
        await client.patch(
            f"{USERS}/{agent.id}", headers=headers, json={"is_active": False}
        )
        me = await client.get("/api/v1/admin/auth/me", headers=agent_headers)
        missing = await client.patch(
            f"{USERS}/999999", headers=headers, json={"is_active": False}
        )

    assert me.status_code == 401
    assert missing.status_code == 404

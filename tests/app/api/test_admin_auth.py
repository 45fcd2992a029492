"""Signing in to the admin API: tokens, sessions, throttling (both engines)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import jwt
import pytest
from sqlalchemy import update

from app.auth import login
from app.auth.signing_key import signing_key
from app.auth.throttle import MAX_FAILURES
from app.auth.tokens import AUDIENCE, ISSUER
from app.db.models import LoginThrottle, UserSession, utc_now
from app.db.session import session_scope
from app.main import create_app
from tests.support.accounts import (
    DEFAULT_PASSWORD,
    bearer_headers,
    create_account,
    signed_in_headers,
)

LOGIN = "/api/v1/admin/auth/login"
ME = "/api/v1/admin/auth/me"
LOGOUT = "/api/v1/admin/auth/logout"


def client_for(settings, address: str = "198.51.100.7") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_app(settings), client=(address, 4000))
    return httpx.AsyncClient(transport=transport, base_url="http://app")


async def log_in(client, email: str, password: str = DEFAULT_PASSWORD):
    return await client.post(LOGIN, json={"email": email, "password": password})


def forged_token(settings, user_id: int, session_id: str, **changes) -> str:
    now = utc_now()
    claims = {
        "sub": str(user_id),
        "sid": session_id,
        "iat": now,
        "exp": now + timedelta(minutes=5),
        "iss": ISSUER,
        "aud": AUDIENCE,
    }
    key = changes.pop("key", signing_key(settings))
    algorithm = changes.pop("algorithm", "HS256")
    claims.update(changes)
    return jwt.encode(claims, key, algorithm=algorithm)


def unsigned_token(user_id: int, session_id: str) -> str:
    # PyJWT refuses to make alg "none" tokens with a key; build one by hand.
    header = jwt.utils.base64url_encode(b'{"alg":"none","typ":"JWT"}').decode()
    now = int(utc_now().timestamp())
    payload = (
        f'{{"sub":"{user_id}","sid":"{session_id}","iat":{now},'
        f'"exp":{now + 300},"iss":"{ISSUER}","aud":"{AUDIENCE}"}}'
    )
    body = jwt.utils.base64url_encode(payload.encode()).decode()
    return f"{header}.{body}."


def assert_not_signed_in(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["code"] == "not_authenticated"


async def signed_in(client, settings, role: str = "agent"):
    user = create_account(settings, role=role)
    response = await log_in(client, user.email)
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    claims = jwt.decode(token, options={"verify_signature": False})
    return user, token, claims["sid"]


async def test_login_issues_a_token_that_opens_me(migrated_database):
    user = create_account(migrated_database, email="Ann@Example.com", role="admin")
    async with client_for(migrated_database) as client:
        response = await log_in(client, " ann@example.COM ")
        body = response.json()
        me = await client.get(ME, headers=bearer_headers(body["access_token"]))

    assert response.status_code == 200, response.text
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == migrated_database.jwt_expiration
    assert body["user"] == {"id": user.id, "email": "ann@example.com", "role": "admin"}
    assert me.status_code == 200
    assert me.json() == body["user"]


async def test_wrong_password_and_unknown_email_get_the_same_401(migrated_database):
    user = create_account(migrated_database)
    async with client_for(migrated_database) as client:
        wrong = await log_in(client, user.email, "not the password")
        unknown = await log_in(client, "nobody@example.com")

    assert_not_signed_in(wrong)
    assert_not_signed_in(unknown)
    assert wrong.json() == unknown.json()


async def test_deactivated_account_cannot_sign_in(migrated_database):
    user = create_account(migrated_database, is_active=False)
    async with client_for(migrated_database) as client:
        assert_not_signed_in(await log_in(client, user.email))


async def test_requests_without_a_token_get_401(migrated_database):
    async with client_for(migrated_database) as client:
        assert_not_signed_in(await client.get(ME))
        assert_not_signed_in(
            await client.get(ME, headers={"Authorization": "Basic abc"})
        )
        assert_not_signed_in(await client.get(ME, headers=bearer_headers("x.y.z")))


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(lambda s, u, sid: unsigned_token(u, sid), id="alg-none"),
        pytest.param(
            lambda s, u, sid: forged_token(s, u, sid, key="another-key-" + "x" * 64),
            id="wrong-key",
        ),
        pytest.param(
            lambda s, u, sid: forged_token(
                s, u, sid, exp=utc_now() - timedelta(minutes=1)
            ),
            id="expired",
        ),
        pytest.param(
            lambda s, u, sid: forged_token(s, u, sid, algorithm="HS512"),
            id="other-algorithm",
        ),
        pytest.param(
            lambda s, u, sid: forged_token(s, u, sid, aud="someone-else"),
            id="wrong-audience",
        ),
    ],
)
async def test_untrustworthy_tokens_get_401(migrated_database, make_token):
    async with client_for(migrated_database) as client:
        user, _token, session_id = await signed_in(client, migrated_database)
        good = forged_token(migrated_database, user.id, session_id)
        bad = make_token(migrated_database, user.id, session_id)

        assert (await client.get(ME, headers=bearer_headers(good))).status_code == 200
        assert_not_signed_in(await client.get(ME, headers=bearer_headers(bad)))


async def test_logout_revokes_the_session(migrated_database):
    async with client_for(migrated_database) as client:
        _user, token, _sid = await signed_in(client, migrated_database)
        logout = await client.post(LOGOUT, headers=bearer_headers(token))
        after = await client.get(ME, headers=bearer_headers(token))

    assert logout.status_code == 204
    assert_not_signed_in(after)


def move_last_seen(settings, session_id: str, seconds_ago: float) -> None:
    with session_scope(settings, write=True) as db:
        db.exec(
            update(UserSession)
            .where(UserSession.id == session_id)
            .values(last_seen_at=utc_now() - timedelta(seconds=seconds_ago))
        )


def last_seen(settings, session_id: str):
    with session_scope(settings) as db:
        return db.get(UserSession, session_id).last_seen_at


async def test_session_idle_past_session_timeout_gets_401(migrated_database):
    timeout = migrated_database.session_timeout
    async with client_for(migrated_database) as client:
        _user, token, session_id = await signed_in(client, migrated_database)
        move_last_seen(migrated_database, session_id, timeout + 5)
        response = await client.get(ME, headers=bearer_headers(token))

    assert_not_signed_in(response)


async def test_activity_keeps_the_session_alive_with_one_write_a_minute(
    migrated_database,
):
    timeout = migrated_database.session_timeout
    async with client_for(migrated_database) as client:
        _user, token, session_id = await signed_in(client, migrated_database)
        seen_at_login = last_seen(migrated_database, session_id)
        await client.get(ME, headers=bearer_headers(token))
        unchanged = last_seen(migrated_database, session_id)

        move_last_seen(migrated_database, session_id, timeout - 5)
        assert (await client.get(ME, headers=bearer_headers(token))).status_code == 200
        refreshed = last_seen(migrated_database, session_id)

    assert unchanged == seen_at_login
    assert utc_now() - refreshed < timedelta(seconds=30)


async def test_agent_on_an_admin_route_gets_403(migrated_database):
    async with client_for(migrated_database) as client:
        response = await client.get(
            "/api/v1/admin/users", headers=signed_in_headers(migrated_database)
        )
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


def unlock_everything(settings) -> None:
    with session_scope(settings, write=True) as db:
        db.exec(
            update(LoginThrottle).values(locked_until=utc_now() - timedelta(seconds=1))
        )


async def test_five_failures_lock_the_account_even_for_the_right_password(
    migrated_database,
):
    user = create_account(migrated_database)
    async with client_for(migrated_database) as client:
        for attempt in range(5):
            other = client_for(migrated_database, address=f"203.0.113.{attempt}")
            async with other:
                assert_not_signed_in(await log_in(other, user.email, "wrong"))
        locked = await log_in(client, user.email)
        unlock_everything(migrated_database)
        unlocked = await log_in(client, user.email)

    assert locked.status_code == 429
    assert locked.json()["code"] == "rate_limited"
    assert 0 < int(locked.headers["Retry-After"]) <= 60
    assert unlocked.status_code == 200


async def test_five_failures_lock_the_address_for_every_account(migrated_database):
    user = create_account(migrated_database)
    async with (
        client_for(migrated_database, address="192.0.2.10") as attacker,
        client_for(migrated_database, address="192.0.2.11") as neighbour,
    ):
        for attempt in range(5):
            await log_in(attacker, f"guess{attempt}@example.com", "wrong")
        from_attacker = await log_in(attacker, user.email)
        from_neighbour = await log_in(neighbour, user.email)

    assert from_attacker.status_code == 429
    assert int(from_attacker.headers["Retry-After"]) > 0
    assert from_neighbour.status_code == 200


async def test_parallel_guesses_get_no_more_tries_than_the_lock_allows(
    migrated_database, monkeypatch
):
    user = create_account(migrated_database)
    checked = []
    real_check = login.password_accepted

    def counted_check(found, password):
        checked.append(password)
        return real_check(found, password)

    monkeypatch.setattr(login, "password_accepted", counted_check)
    async with client_for(migrated_database) as client:
        answers = await asyncio.gather(
            *(log_in(client, user.email, f"guess-{n}") for n in range(20))
        )

    statuses = sorted(answer.status_code for answer in answers)
    assert len(checked) == MAX_FAILURES
    assert statuses == [401] * MAX_FAILURES + [429] * (20 - MAX_FAILURES)


async def test_signing_in_again_and_again_never_locks_the_address(migrated_database):
    user = create_account(migrated_database)
    async with client_for(migrated_database) as client:
        answers = [await log_in(client, user.email) for _ in range(MAX_FAILURES + 2)]

    assert {answer.status_code for answer in answers} == {200}

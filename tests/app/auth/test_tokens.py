"""Session JWTs: issued with the pinned algorithm, refused on any doubt."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
from pydantic import SecretStr

from app.auth.tokens import InvalidToken, TokenClaims, decode_token, issue_token
from app.db.models import utc_now
from appliance.settings import Settings

KEY = "a-test-signing-key-" + "k" * 48


@pytest.fixture
def settings(data_dir) -> Settings:
    return Settings(
        data_dir=data_dir, jwt_secret_key=SecretStr(KEY), jwt_algorithm="HS384"
    )


def test_token_round_trips_user_and_session(settings):
    token = issue_token(settings, 7, "session-id", utc_now())

    assert jwt.get_unverified_header(token)["alg"] == "HS384"
    assert decode_token(settings, token) == TokenClaims(7, "session-id")


def test_token_lives_jwt_expiration_seconds(settings):
    issued = issue_token(settings, 7, "s", utc_now() - timedelta(hours=2))

    with pytest.raises(InvalidToken, match="expired"):
        decode_token(settings, issued)


def test_token_of_another_algorithm_is_refused_even_with_the_right_key(settings):
    token = issue_token(
        settings.model_copy(update={"jwt_algorithm": "HS256"}), 7, "s", utc_now()
    )

    with pytest.raises(InvalidToken):
        decode_token(settings, token)


def test_token_without_a_session_claim_is_refused(settings):
    now = utc_now()
    claims = {"sub": "7", "iat": now, "exp": now + timedelta(minutes=5)}
    token = jwt.encode(
        {**claims, "iss": "customer-service", "aud": "customer-service-admin"},
        KEY,
        algorithm="HS384",
    )

    with pytest.raises(InvalidToken, match="sid"):
        decode_token(settings, token)

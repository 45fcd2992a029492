"""The session signing key: configured, or generated once into DATA_DIR."""

from __future__ import annotations

import stat

import pytest
from pydantic import SecretStr

from app.auth.signing_key import (
    create_key_file,
    key_file_path,
    signing_key,
    stored_signing_key,
)
from appliance.settings import Settings


@pytest.fixture(autouse=True)
def forget_cached_keys():
    stored_signing_key.cache_clear()
    yield
    stored_signing_key.cache_clear()


def mode_of(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_configured_key_is_used_and_no_file_is_written(data_dir):
    settings = Settings(data_dir=data_dir, jwt_secret_key=SecretStr("k" * 40))

    assert signing_key(settings) == "k" * 40
    assert not key_file_path(settings).exists()


def test_missing_key_is_generated_once_private_and_reused(data_dir):
    settings = Settings(data_dir=data_dir)

    first = signing_key(settings)
    path = key_file_path(settings)
    stored_signing_key.cache_clear()  # as a restarted or another worker
    second = signing_key(settings)

    assert first == second
    assert len(first) >= 32
    assert mode_of(path) == 0o600
    assert mode_of(path.parent) == 0o700
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_a_worker_losing_the_creation_race_keeps_the_winners_key(data_dir):
    settings = Settings(data_dir=data_dir)
    path = key_file_path(settings)
    winner = signing_key(settings)

    create_key_file(path)  # a second worker that also found no file

    stored_signing_key.cache_clear()
    assert signing_key(settings) == winner
    assert [p.name for p in path.parent.iterdir()] == [path.name]

from __future__ import annotations

import os
import secrets
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from app.db.migrations import upgrade_database
from appliance.settings import Settings
from tests.support.network import free_port

CONVERSATIONS = 30


@pytest.fixture
def backup_settings(tmp_path: Path) -> Settings:
    """A migrated SQLite database with conversations, messages and uploads."""
    # A free port: nothing may seem to be serving on this data (see restore).
    settings = Settings(data_dir=tmp_path / "data", port=free_port())
    assert upgrade_database(settings) == 0
    add_conversations(settings.sqlite_database_path, CONVERSATIONS)
    uploads = settings.upload_path / "2026" / "12"
    uploads.mkdir(parents=True)
    (uploads / "a1.jpg").write_bytes(b"\xff\xd8 picture " * 500)
    (uploads / "b2.png").write_bytes(b"\x89PNG picture " * 300)
    return settings


def add_conversations(database: Path, count: int, messages: int = 5) -> None:
    with closing(sqlite3.connect(database)) as connection, connection:
        for number in range(count):
            cursor = connection.execute(
                "INSERT INTO conversations (public_token_hash, status, language, "
                "created_at, updated_at) VALUES (?, 'open', 'zh', "
                "'2026-12-03 10:00:00', '2026-12-03 10:00:00')",
                (secrets.token_hex(32),),
            )
            for line in range(messages):
                connection.execute(
                    "INSERT INTO messages (conversation_id, sender, body, created_at)"
                    " VALUES (?, 'customer', ?, '2026-12-03 10:00:00')",
                    (cursor.lastrowid, f"message {line} of {number}"),
                )


def backup_command_env(settings: Settings) -> dict[str, str]:
    """The environment for running `customer-service` on these settings."""
    return {
        "PATH": os.environ["PATH"],
        "ENV_FILE": str(settings.data_dir / "absent.env"),
        "DATA_DIR": str(settings.data_dir),
        "PORT": str(settings.port),
    }

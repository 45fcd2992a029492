"""An appliance's API, in-process, for the admin backup routes.

The settings come from the environment (monkeypatched), exactly as
`customer-service backup ...` reads them, so the runs the routes start as
processes of their own see the same data folder as the app.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from app.db.migrations import upgrade_database
from app.main import create_app
from appliance.settings import Settings, load_settings
from appliance.settings.model import env_name
from tests.support.accounts import signed_in_headers
from tests.support.network import free_port

BACKUPS = "/api/v1/admin/backups"


@dataclass
class BackupApi:
    settings: Settings
    client: httpx.AsyncClient
    admin: dict[str, str]
    agent: dict[str, str]

    @property
    def backup_dir(self) -> Path:
        return self.settings.backup_path

    def leftovers(self) -> list[str]:
        """Files in BACKUP_PATH besides the lock and the journal files."""
        if not self.backup_dir.exists():
            return []
        ignored = {".backup.lock", "runs.jsonl", "progress.json"}
        return sorted(
            path.name for path in self.backup_dir.iterdir() if path.name not in ignored
        )


def environment_settings(
    monkeypatch: pytest.MonkeyPatch, data_dir: Path, **env: str
) -> Settings:
    """Settings for `data_dir` loaded from a clean environment, which the
    children the routes start inherit."""
    for name in Settings.model_fields:
        monkeypatch.delenv(env_name(name), raising=False)
    monkeypatch.setenv("ENV_FILE", str(data_dir / "absent.env"))
    monkeypatch.setenv("DATA_DIR", str(data_dir))
    # A port nothing listens on: a restore finds no appliance to stop.
    monkeypatch.setenv("PORT", str(free_port()))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return load_settings()


@pytest.fixture
async def start_backup_api(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Callable[..., BackupApi]]:
    """Returns a function that starts the API on a migrated SQLite database;
    its keyword arguments are environment variables."""
    clients: list[httpx.AsyncClient] = []

    def start(**env: str) -> BackupApi:
        settings = environment_settings(monkeypatch, tmp_path / "data", **env)
        assert upgrade_database(settings) == 0
        transport = httpx.ASGITransport(app=create_app(settings))
        client = httpx.AsyncClient(transport=transport, base_url="http://app")
        clients.append(client)
        return BackupApi(
            settings,
            client,
            admin=signed_in_headers(settings, role="admin"),
            agent=signed_in_headers(settings, role="agent"),
        )

    yield start
    for client in clients:
        await client.aclose()


@pytest.fixture
def backup_api(start_backup_api) -> BackupApi:
    return start_backup_api()

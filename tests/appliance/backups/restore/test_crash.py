"""SIGKILL at random points of `backup restore`: once the next start has
settled what was left, the live data is wholly the earlier data or wholly
the backup's, never a mix, and nothing of the restore remains."""

from __future__ import annotations

import random
import sqlite3
import subprocess
import sys
import time
from contextlib import closing

import pytest

from appliance.backups.create import create_backup
from appliance.supervision.serve import settle_unfinished_backup_runs
from tests.appliance.backups.conftest import add_conversations, backup_command_env
from tests.appliance.backups.restore.test_sqlite import no_leftovers, uploads_of

pytestmark = pytest.mark.slow

RUNS = 20


def live_state(settings) -> tuple[int, frozenset]:
    with closing(sqlite3.connect(settings.sqlite_database_path)) as connection:
        [(check,)] = connection.execute("PRAGMA integrity_check")
        assert check == "ok"
        [(conversations,)] = connection.execute("SELECT count(*) FROM conversations")
    return conversations, frozenset(uploads_of(settings).items())


def add_noise_uploads(settings, prefix: str, count: int) -> None:
    for number in range(count):
        path = settings.upload_path / f"{prefix}-{number}.bin"
        path.write_bytes(random.Random(f"{prefix}{number}").randbytes(150_000))


def test_killed_restores_leave_the_earlier_data_or_the_backup_never_a_mix(
    backup_settings,
):
    add_conversations(backup_settings.sqlite_database_path, 1500, messages=20)
    add_noise_uploads(backup_settings, "backup", 15)
    backup = create_backup(backup_settings)
    backed_up = live_state(backup_settings)

    add_conversations(backup_settings.sqlite_database_path, 200)
    add_noise_uploads(backup_settings, "later", 10)
    env = backup_command_env(backup_settings)
    command = [sys.executable, "-m", "appliance", "backup", "restore", backup.id]
    started = time.monotonic()
    subprocess.run([*command, "--yes"], env=env, check=True, capture_output=True)
    whole_run = time.monotonic() - started

    chance, outcomes = random.Random(11), set()
    for _ in range(RUNS):
        # Each run starts from data that differs from the backup.
        add_conversations(backup_settings.sqlite_database_path, 1)
        earlier = live_state(backup_settings)
        child = subprocess.Popen(
            [*command, "--yes"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            child.wait(timeout=chance.uniform(0, whole_run * 1.2))
        except subprocess.TimeoutExpired:
            child.kill()
        child.wait()

        settle_unfinished_backup_runs(backup_settings)

        after = live_state(backup_settings)
        assert after in (earlier, backed_up)
        outcomes.add("restored" if after == backed_up else "earlier")
        assert no_leftovers(backup_settings)

    # The kills landed both before and after the swap.
    assert outcomes == {"restored", "earlier"}

"""SIGKILL at random points of `backup create`: nothing half-written is ever
taken for a backup, and what was there before stays intact."""

from __future__ import annotations

import random
import subprocess
import sys
import time

import pytest

from appliance.backups.catalog import ARCHIVE_PATTERN, list_backups
from appliance.backups.create import create_backup
from appliance.backups.verify import verify_backup
from tests.appliance.backups.conftest import add_conversations, backup_command_env
from tests.support.commands import run_appliance

pytestmark = pytest.mark.slow

RUNS = 20


def test_killed_backups_never_leave_a_backup_that_is_not_whole(backup_settings):
    add_conversations(backup_settings.sqlite_database_path, 1500, messages=20)
    for number in range(20):
        path = backup_settings.upload_path / f"noise-{number}.bin"
        path.write_bytes(random.Random(number).randbytes(200_000))
    first = create_backup(backup_settings)
    env = backup_command_env(backup_settings)
    started = time.monotonic()
    assert run_appliance("backup", "create", env=env).returncode == 0
    whole_run = time.monotonic() - started

    chance = random.Random(4)
    for _ in range(RUNS):
        child = subprocess.Popen(
            [sys.executable, "-m", "appliance", "backup", "create"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            child.wait(timeout=chance.uniform(0, whole_run))
        except subprocess.TimeoutExpired:
            child.kill()
        child.wait()

    backup_dir = backup_settings.backup_path
    named_like_backups = [
        p for p in backup_dir.iterdir() if ARCHIVE_PATTERN.match(p.name)
    ]
    listed = list_backups(backup_dir)
    assert [r.file for r in listed] == sorted(p.name for p in named_like_backups)
    assert listed[0].id == first.id
    for record in listed:
        assert verify_backup(backup_settings, record.id).verified, record.file

    create_backup(backup_settings)
    assert not list(backup_dir.glob(".tmp-*"))

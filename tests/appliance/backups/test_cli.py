"""`customer-service backup ...` as a user runs it."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys

from appliance.backups.journal import read_runs
from tests.appliance.backups.conftest import backup_command_env
from tests.support.commands import run_appliance


def test_create_list_verify_for_people_and_scripts(backup_settings):
    env = backup_command_env(backup_settings)

    created = run_appliance("backup", "create", "--json", env=env)
    listed = run_appliance("backup", "list", env=env)
    verified = run_appliance("backup", "verify", env=env)
    as_json = run_appliance("backup", "list", "--json", env=env)

    assert created.returncode == 0, created.stderr
    [record] = json.loads(created.stdout)
    assert record["id"] in listed.stdout and "not verified" in listed.stdout
    assert verified.returncode == 0
    assert "verified" in verified.stdout
    [listed_record] = json.loads(as_json.stdout)
    assert listed_record["verified_at"]
    assert listed_record["manifest"]["members"][0]["name"] == "database.sqlite3"


def test_verify_of_a_damaged_backup_exits_1_and_names_the_problem(backup_settings):
    env = backup_command_env(backup_settings)
    run_appliance("backup", "create", env=env)
    [archive] = backup_settings.backup_path.glob("backup-*.tar.zst")
    archive.write_bytes(archive.read_bytes()[:-200])

    verified = run_appliance("backup", "verify", env=env)

    assert verified.returncode == 1
    assert "failed" in verified.stderr


def test_unknown_backup_exits_2_and_an_empty_list_says_so(backup_settings):
    env = backup_command_env(backup_settings)

    missing = run_appliance("backup", "verify", "20990101T000000Z-dead", env=env)
    empty = run_appliance("backup", "list", env=env)

    assert missing.returncode == 2
    assert "backup list" in missing.stderr
    assert empty.stdout.strip() == "no backups yet"


def run_on_a_terminal(*args: str, env: dict[str, str], typed: bytes = b"") -> str:
    """Run the command with stdin and stderr on a pseudo-terminal; what the
    terminal showed."""
    controller, terminal = pty.openpty()
    child = subprocess.Popen(
        [sys.executable, "-m", "appliance", *args],
        env=env,
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
    )
    os.close(terminal)
    if typed:
        os.write(controller, typed)
    shown = bytearray()
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # EIO: the child closed its end
            break
        if not chunk:
            break
        shown += chunk
    child.wait(timeout=60)
    os.close(controller)
    return shown.decode(errors="replace")


def test_create_shows_a_progress_bar_on_a_terminal(backup_settings):
    shown = run_on_a_terminal(
        "backup", "create", env=backup_command_env(backup_settings)
    )
    assert "backup snapshot" in shown
    assert f"backup archive{' ' * 15}[{'#' * 30}] 100.0 %" in shown
    progress = json.loads((backup_settings.backup_path / "progress.json").read_text())
    assert progress["finished"] and progress["phase"] == "ok"


def test_restore_asks_a_person_and_needs_yes_from_a_script(backup_settings):
    env = backup_command_env(backup_settings)
    created = json.loads(run_appliance("backup", "create", "--json", env=env).stdout)
    backup_id = created[0]["id"]

    scripted = run_appliance("backup", "restore", backup_id, env=env)
    declined = run_on_a_terminal("backup", "restore", backup_id, env=env, typed=b"no\n")
    agreed = run_on_a_terminal(
        "backup", "restore", backup_id, env=env, typed=b"restore\n"
    )

    assert scripted.returncode == 2 and "pass --yes" in scripted.stderr
    assert "nothing restored" in declined
    assert str(backup_settings.sqlite_database_path) in declined
    assert f"restored backup {backup_id}" in agreed
    restores = [
        run
        for run in read_runs(backup_settings.backup_path)
        if run["kind"] == "restore"
    ]
    assert [run["outcome"] for run in restores] == ["ok"]


def test_restore_for_scripts_prints_json_and_exit_codes(backup_settings, tmp_path):
    env = backup_command_env(backup_settings)
    created = json.loads(run_appliance("backup", "create", "--json", env=env).stdout)
    damaged = tmp_path / "damaged.tar.zst"
    data = (backup_settings.backup_path / created[0]["file"]).read_bytes()
    damaged.write_bytes(data[: len(data) // 2])

    restored = run_appliance(
        "backup", "restore", created[0]["id"], "--yes", "--json", env=env
    )
    unknown = run_appliance("backup", "restore", "no-such-backup", "--yes", env=env)
    refused = run_appliance("backup", "restore", str(damaged), "--yes", env=env)

    assert restored.returncode == 0, restored.stderr
    result = json.loads(restored.stdout)
    assert result["backup_id"] == created[0]["id"] and result["safety_backup_id"]
    assert unknown.returncode == 2 and "no backup" in unknown.stderr
    assert refused.returncode == 1
    assert refused.stderr.count("\n") == 1 and "damaged or truncated" in refused.stderr

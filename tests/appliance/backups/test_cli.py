"""`customer-service backup ...` as a user runs it."""

from __future__ import annotations

import json

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

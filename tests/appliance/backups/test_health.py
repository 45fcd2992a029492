"""The backup part of readiness."""

from __future__ import annotations

from appliance.backups.health import backup_warning
from appliance.backups.journal import record_run
from appliance.settings import Settings


def test_quiet_until_a_backup_was_tried_then_names_what_is_wrong(tmp_path):
    settings = Settings(data_dir=tmp_path, backup_interval=24)
    assert backup_warning(settings) is None

    record_run(settings.backup_path, kind="create", outcome="failed")
    assert backup_warning(settings) == "no backup has succeeded yet"

    record_run(settings.backup_path, kind="create", outcome="ok", at=1000.0)
    assert backup_warning(settings, now=1000.0 + 47 * 3600) is None
    assert backup_warning(settings, now=1000.0 + 49 * 3600) == (
        "the newest backup is 49 h old"
    )


def test_silent_when_backups_are_off(tmp_path):
    settings = Settings(data_dir=tmp_path, backup_enabled=False)
    record_run(settings.backup_path, kind="create", outcome="failed")
    assert backup_warning(settings) is None


def test_serve_clears_what_a_killed_backup_left_unless_one_runs(tmp_path):
    from appliance.backups.lock import backup_lock
    from appliance.supervision.serve import settle_unfinished_backup_runs

    settings = Settings(data_dir=tmp_path)
    backup_dir = settings.backup_path
    backup_dir.mkdir()
    partial = backup_dir / ".tmp-backup-X.tar.zst.7.partial"
    kept = backup_dir / "backup-20261203T120000000Z-abcd.tar.zst"
    kept.write_bytes(b"a real backup")

    partial.write_bytes(b"half")
    with backup_lock(backup_dir):
        settle_unfinished_backup_runs(settings)
    assert partial.exists()

    settle_unfinished_backup_runs(settings)
    assert not partial.exists()
    assert kept.exists()

"""BACKUP_INTERVAL as a cron expression: when runs come, when a backup is late."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from appliance.backups.catalog import BackupRecord, archive_name, save_record
from appliance.backups.health import backup_warning
from appliance.backups.journal import record_run
from appliance.backups.scheduled import START_DELAY, backup_trigger
from appliance.settings import Settings

# A Thursday, 12:00 UTC.
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
NIGHTLY = "30 3 * * *"


def settings_with(tmp_path, interval) -> Settings:
    return Settings(data_dir=tmp_path / "data", backup_interval=interval)


def add_backup_made_at(settings: Settings, made: datetime) -> None:
    backup_id = made.strftime("%Y%m%dT%H%M%S000Z") + "-abcd"
    name = archive_name(backup_id, compressed=True)
    settings.backup_path.mkdir(parents=True, exist_ok=True)
    (settings.backup_path / name).write_bytes(b"")
    manifest = {"created_at": made.isoformat(), "members": []}
    save_record(settings.backup_path, BackupRecord(backup_id, name, 0, manifest))


def first_two_runs(settings: Settings, now: datetime = NOW) -> list[datetime]:
    trigger = backup_trigger(settings, now)
    first = trigger.get_next_fire_time(None, now)
    second = trigger.get_next_fire_time(first, first + timedelta(seconds=1))
    return [first, second]


def test_cron_runs_wait_for_their_time_when_none_was_missed(tmp_path):
    settings = settings_with(tmp_path, NIGHTLY)
    add_backup_made_at(settings, NOW.replace(hour=3, minute=30, second=20))

    assert first_two_runs(settings) == [
        datetime(2026, 12, 4, 3, 30, tzinfo=UTC),
        datetime(2026, 12, 5, 3, 30, tzinfo=UTC),
    ]


def test_a_missed_cron_time_brings_one_run_a_minute_after_start(tmp_path):
    settings = settings_with(tmp_path, NIGHTLY)
    add_backup_made_at(settings, NOW - timedelta(days=2))

    assert first_two_runs(settings) == [
        NOW + START_DELAY,
        datetime(2026, 12, 4, 3, 30, tzinfo=UTC),
    ]


def test_with_no_backup_yet_the_first_comes_a_minute_after_start(tmp_path):
    settings = settings_with(tmp_path, NIGHTLY)

    assert first_two_runs(settings)[0] == NOW + START_DELAY


def test_no_extra_run_when_the_next_cron_time_is_sooner_anyway(tmp_path):
    settings = settings_with(tmp_path, "* * * * *")
    add_backup_made_at(settings, NOW - timedelta(days=2))
    started = NOW + timedelta(seconds=30)

    assert first_two_runs(settings, started) == [
        NOW + timedelta(minutes=1),
        NOW + timedelta(minutes=2),
    ]


def record_backup_at(settings: Settings, made: datetime) -> None:
    record_run(settings.backup_path, kind="create", outcome="ok", at=made.timestamp())


def warning_at(settings: Settings, moment: datetime) -> str | None:
    return backup_warning(settings, now=moment.timestamp())


def test_a_cron_backup_is_late_once_two_of_its_times_passed(tmp_path):
    settings = settings_with(tmp_path, NIGHTLY)
    record_backup_at(settings, NOW.replace(hour=3, minute=30, second=20))

    just_before_second = datetime(2026, 12, 5, 3, 29, tzinfo=UTC)
    assert warning_at(settings, just_before_second) is None
    just_after_second = datetime(2026, 12, 5, 3, 31, tzinfo=UTC)
    assert warning_at(settings, just_after_second) == "the newest backup is 48 h old"


def test_weekday_cron_allows_the_weekend_gap(tmp_path):
    settings = settings_with(tmp_path, "0 3 * * 1-5")
    friday = datetime(2026, 12, 4, 3, 0, 30, tzinfo=UTC)
    record_backup_at(settings, friday)

    tuesday_morning = datetime(2026, 12, 8, 2, 0, tzinfo=UTC)
    assert warning_at(settings, tuesday_morning) is None
    tuesday_noon = datetime(2026, 12, 8, 12, 0, tzinfo=UTC)
    assert warning_at(settings, tuesday_noon) == "the newest backup is 105 h old"

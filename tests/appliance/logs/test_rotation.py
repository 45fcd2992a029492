from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from appliance.logs.rotation import (
    next_boundary,
    prune_archives,
    rotate_logs,
    rotated_files,
)
from appliance.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[3]
WRITERS = 4
LINES_PER_WRITER = 5_000


def settings_for(data_dir: Path, **overrides) -> Settings:
    return Settings(data_dir=data_dir, log_format="json", **overrides)


def archives(log_path: Path) -> list[Path]:
    return rotated_files(log_path, ".gz")


def all_lines(log_path: Path) -> list[str]:
    lines = []
    for archive in archives(log_path):
        lines.extend(gzip.decompress(archive.read_bytes()).decode().splitlines())
    if log_path.exists():
        lines.extend(log_path.read_text().splitlines())
    return lines


def start_writer(writer: int, data_dir: Path) -> subprocess.Popen:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "ENV_FILE": str(data_dir / "absent.env"),
        "DATA_DIR": str(data_dir),
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
    }
    command = [sys.executable, "-m", "tests.appliance.logs.log_writer"]
    return subprocess.Popen(
        [*command, str(writer), str(LINES_PER_WRITER)],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )


def test_no_line_is_lost_split_or_doubled_while_rotating_under_writers(data_dir):
    settings = settings_for(data_dir, log_max_size=1, log_backup_count=100_000)
    writers = [start_writer(writer, data_dir) for writer in range(WRITERS)]

    rotations = 0
    while any(writer.poll() is None for writer in writers):
        if rotate_logs(settings) is not None:
            rotations += 1
    assert [writer.wait() for writer in writers] == [0] * WRITERS

    lines = all_lines(settings.log_file_path)
    records = [json.loads(line) for line in lines]
    seen = Counter(
        (record["writer"], record["sequence"])
        for record in records
        if record["logger"] == "tests.log_writer"
    )
    expected = {
        (writer, sequence)
        for writer in range(WRITERS)
        for sequence in range(LINES_PER_WRITER)
    }
    assert len(seen) == WRITERS * LINES_PER_WRITER
    assert set(seen) == expected
    assert max(seen.values()) == 1
    assert rotations >= 3, "the writers finished before rotation could interleave"


def test_size_rotation_compresses_and_starts_a_fresh_file(data_dir):
    settings = settings_for(data_dir, log_max_size=100)
    log_path = settings.log_file_path
    log_path.parent.mkdir(parents=True)
    log_path.write_text("a" * 50 + "\n")
    assert rotate_logs(settings) is None

    log_path.write_text("b" * 150 + "\n")
    archive = rotate_logs(settings)

    assert archive is not None
    assert archive.name.startswith("app.log.") and archive.name.endswith(".gz")
    assert gzip.decompress(archive.read_bytes()) == b"b" * 150 + b"\n"
    assert log_path.read_bytes() == b""
    assert rotated_files(log_path) == []


@pytest.mark.parametrize(
    ("rotation", "started", "boundary"),
    [
        ("hourly", datetime(2024, 5, 1, 10, 42, tzinfo=UTC), "2024-05-01T11:00"),
        ("midnight", datetime(2024, 5, 1, 10, 42, tzinfo=UTC), "2024-05-02T00:00"),
        ("daily", datetime(2024, 5, 1, 10, 42, tzinfo=UTC), "2024-05-02T10:42"),
        ("weekly", datetime(2024, 5, 1, 10, 42, tzinfo=UTC), "2024-05-06T00:00"),
    ],
)
def test_time_boundaries_follow_log_rotation(rotation, started, boundary):
    found = next_boundary(started, rotation)
    assert found.isoformat(timespec="minutes").removesuffix("+00:00") == boundary


def test_never_rotates_by_size_only():
    started = datetime(2024, 5, 1, tzinfo=UTC)
    assert next_boundary(started, "never") is None


def test_time_rotation_happens_once_the_boundary_has_passed(data_dir):
    settings = settings_for(data_dir, log_rotation="hourly")
    log_path = settings.log_file_path
    log_path.parent.mkdir(parents=True)
    log_path.write_text("first hour\n")
    started = datetime(2024, 5, 1, 10, 15, tzinfo=UTC)

    assert rotate_logs(settings, now=started) is None
    assert rotate_logs(settings, now=started + timedelta(minutes=44)) is None
    archive = rotate_logs(settings, now=started + timedelta(minutes=46))

    assert archive.name == "app.log.20240501T110100.000000Z.gz"
    assert gzip.decompress(archive.read_bytes()) == b"first hour\n"
    log_path.write_text("second hour\n")
    assert rotate_logs(settings, now=started + timedelta(minutes=50)) is None


def test_never_keeps_a_small_file_whatever_its_age(data_dir):
    settings = settings_for(data_dir, log_rotation="never")
    log_path = settings.log_file_path
    log_path.parent.mkdir(parents=True)
    log_path.write_text("old but small\n")
    now = datetime(2024, 5, 1, tzinfo=UTC)

    assert rotate_logs(settings, now=now) is None
    assert rotate_logs(settings, now=now + timedelta(days=400)) is None


def test_leftover_from_a_crash_mid_compression_is_compressed_next_run(data_dir):
    settings = settings_for(data_dir)
    log_path = settings.log_file_path
    log_path.parent.mkdir(parents=True)
    leftover = log_path.with_name("app.log.20240501T000000.000000Z")
    leftover.write_text("rotated but never compressed\n")
    partial = log_path.with_name("app.log.20240501T000000.000000Z.gz.partial")
    partial.write_bytes(b"\x1f\x8b truncated")

    assert rotate_logs(settings) is None

    archive = leftover.with_name(leftover.name + ".gz")
    assert gzip.decompress(archive.read_bytes()) == b"rotated but never compressed\n"
    assert not leftover.exists()
    assert not partial.exists()


def test_pruning_keeps_the_newest_log_backup_count_archives(data_dir):
    settings = settings_for(data_dir, log_max_size=1, log_backup_count=2)
    log_path = settings.log_file_path
    log_path.parent.mkdir(parents=True)
    start = datetime(2024, 5, 1, tzinfo=UTC)
    made = []
    for hour in range(4):
        log_path.write_text(f"hour {hour}\n")
        made.append(rotate_logs(settings, now=start + timedelta(hours=hour)))

    assert archives(log_path) == made[-2:]
    assert [gzip.decompress(path.read_bytes()) for path in made[-2:]] == [
        b"hour 2\n",
        b"hour 3\n",
    ]


def test_pruning_to_zero_deletes_every_archive(data_dir):
    log_path = data_dir / "logs" / "app.log"
    log_path.parent.mkdir(parents=True)
    for day in (1, 2):
        log_path.with_name(f"app.log.202405{day:02}T000000.000000Z.gz").touch()

    deleted = prune_archives(log_path, keep=0)

    assert len(deleted) == 2
    assert archives(log_path) == []


def test_rotation_does_nothing_before_any_process_has_logged(data_dir):
    settings = settings_for(data_dir, log_max_size=1)
    assert rotate_logs(settings) is None
    assert not settings.log_file_path.parent.exists()

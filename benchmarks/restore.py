"""Restore of a SQLite backup against `zstd -d | tar -x` plus a copy.

    .venv/bin/python -m benchmarks.restore [--size-mb 1024] [--pairs 3]

Builds the same database as benchmarks.backup, backs it up once, then
interleaves the stock way of putting it back by hand (decompress and
unpack the archive, copy the database over the live one) with our restore
of the same archive: unpack with checksums, integrity check and row
counts, a safety backup of the live data, the swap. The appliance is not
running, as in a restore by hand.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from subprocess import PIPE

from app.db.migrations import upgrade_database
from appliance.backups.create import create_backup
from appliance.backups.restore import restore_backup
from appliance.settings import Settings
from tests.support.bulk_sqlite import add_bulk_table


def stock_restore_seconds(archive: Path, live: Path, scratch: Path) -> float:
    unpacked = scratch / "unpacked"
    unpacked.mkdir()
    started = time.perf_counter()
    with subprocess.Popen(["zstd", "-dc", "-q", str(archive)], stdout=PIPE) as zstd:
        subprocess.run(
            ["tar", "-x", "-C", str(unpacked)], stdin=zstd.stdout, check=True
        )
    shutil.copyfile(unpacked / "database.sqlite3", live)
    took = time.perf_counter() - started
    shutil.rmtree(unpacked)
    return took


def our_restore_seconds(settings: Settings, backup_id: str, wiped: bool) -> float:
    """Over live data (a safety backup of it is taken first), or into a
    wiped data folder (nothing to keep: the disaster-recovery case)."""
    if wiped:
        settings.sqlite_database_path.unlink()
    started = time.perf_counter()
    result = restore_backup(settings, backup_id, trigger="benchmark")
    took = time.perf_counter() - started
    # Drop the safety backup, so the disk does not fill over the pairs.
    for path in settings.backup_path.glob(f"backup-{result.safety_backup_id}*"):
        path.unlink()
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--pairs", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-restore-") as tmp:
        scratch = Path(tmp)
        settings = Settings(data_dir=scratch / "data", port=1)
        settings.data_dir.mkdir()
        database = settings.sqlite_database_path
        upgrade_database(settings)
        add_bulk_table(database, args.size_mb)
        size = database.stat().st_size
        backup = create_backup(settings, trigger="benchmark")
        archive = settings.backup_path / backup.file

        ratios: dict[bool, list[float]] = {True: [], False: []}
        for _ in range(args.pairs):
            for wiped in (True, False):
                stock = stock_restore_seconds(archive, scratch / "stock.db", scratch)
                ours = our_restore_seconds(settings, backup.id, wiped)
                ratios[wiped].append(ours / stock)

    for wiped, label in (
        (True, "into a wiped data folder"),
        (False, "over live data, safety backup included"),
    ):
        print(
            f"SQLite {size / 2**20:.0f} MB, {label}: our restore took "
            f"{statistics.median(ratios[wiped]):.2f}x the time of `zstd -d | tar -x`"
            f" and a copy (median of {args.pairs}; each: "
            f"{', '.join(f'{r:.2f}' for r in ratios[wiped])})   goal <= 2"
        )


if __name__ == "__main__":
    main()

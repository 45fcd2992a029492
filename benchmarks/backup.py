"""SQLite backup against `sqlite3 .backup | zstd -3` in the same run.

    .venv/bin/python -m benchmarks.backup [--size-mb 1024] [--pairs 3]

Builds a database of about --size-mb (random, so it compresses like real
data does not flatter), then interleaves our verified backup with the stock
pipeline and reports the median throughput ratio. A writer commits small
transactions during our backups (the stock pipeline cannot finish while
anyone writes); its p99 commit latency then is compared with its p99 while
nothing else runs.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sqlite3
import statistics
import subprocess
import tempfile
import time
from contextlib import closing
from pathlib import Path

from appliance.backups.create import create_backup
from appliance.settings import Settings
from appliance.supervision.priority import lower_to_background_priority
from tests.support.bulk_sqlite import add_bulk_table


def stock_backup_seconds(database: Path, scratch: Path) -> float:
    copy, archive = scratch / "stock.db", scratch / "stock.db.zst"
    started = time.perf_counter()
    subprocess.run(["sqlite3", str(database), f".backup {copy}"], check=True)
    subprocess.run(["zstd", "-3", "-T1", "-q", "-f", str(copy), "-o", str(archive)])
    took = time.perf_counter() - started
    copy.unlink()
    archive.unlink()
    return took


def our_backup_seconds(settings: Settings) -> float:
    started = time.perf_counter()
    record = create_backup(settings, trigger="benchmark", verify=True)
    if not record.verified:
        raise RuntimeError("the benchmark's backup did not verify")
    took = time.perf_counter() - started
    archive = settings.backup_path / record.file
    archive.unlink()
    archive.with_name(archive.name + ".json").unlink()
    return took


class Writer:
    """A separate process committing one small row at a time, as an API
    worker does, noting each commit's latency and when it happened."""

    def __init__(self, database: Path):
        self.control, child_end = multiprocessing.Pipe()
        self.process = multiprocessing.Process(
            target=commit_forever, args=(database, child_end), daemon=True
        )
        self.process.start()

    def pause(self) -> None:
        self.control.send("pause")
        self.control.recv()

    def resume(self) -> None:
        self.control.send("resume")
        self.control.recv()

    def stop(self) -> None:
        self.control.send("stop")
        self.process.join()

    def p99_while(self, work) -> tuple[float, object]:
        """(p99 commit latency while `work()` ran, what it returned)."""
        started = time.monotonic()
        result = work()
        self.control.send(("window", started, time.monotonic()))
        window = sorted(self.control.recv())
        return (window[int(len(window) * 0.99) - 1] if window else 0.0), result


def commit_forever(database: Path, control) -> None:
    commits: list[tuple[float, float]] = []
    paused = False
    with closing(sqlite3.connect(database, timeout=15)) as connection:
        # As the appliance's own connections are set up.
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = NORMAL")
        connection.execute("CREATE TABLE IF NOT EXISTS writes (at REAL)")
        while True:
            while paused or control.poll():
                command = control.recv()
                if command == "stop":
                    return
                if command in ("pause", "resume"):
                    paused = command == "pause"
                    control.send(True)
                else:
                    _, since, until = command
                    control.send([ms for at, ms in commits if since <= at <= until])
            started = time.perf_counter()
            connection.execute("INSERT INTO writes VALUES (?)", (started,))
            connection.commit()
            commits.append((time.monotonic(), (time.perf_counter() - started) * 1000))
            time.sleep(0.005)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--pairs", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-backup-") as tmp:
        scratch = Path(tmp)
        settings = Settings(data_dir=scratch / "data")
        settings.data_dir.mkdir()
        database = settings.sqlite_database_path
        add_bulk_table(database, args.size_mb)
        size = database.stat().st_size
        writer = Writer(database)
        # Our backups run as the scheduler and the backup command run them,
        # below the workers' priority; the writer keeps a worker's.
        lower_to_background_priority()
        quiet_p99, _ = writer.p99_while(lambda: time.sleep(5))

        ratios, busy_p99s = [], []
        for _ in range(args.pairs):
            # The sqlite3 shell backs up in steps and starts over whenever
            # another connection writes: with the writer on it never ends.
            writer.pause()
            stock = stock_backup_seconds(database, scratch)
            writer.resume()
            busy_p99, ours = writer.p99_while(lambda: our_backup_seconds(settings))
            busy_p99s.append(busy_p99)
            ratios.append(stock / ours)
        writer.stop()

    print(
        f"SQLite {size / 2**20:.0f} MB: verified backup at "
        f"{statistics.median(ratios):.2f} of `sqlite3 .backup | zstd -3` "
        f"throughput (median of {args.pairs})   goal >= 0.60"
    )
    print(
        f"writer p99 commit during our backups {statistics.median(busy_p99s):.2f} "
        f"ms, without {quiet_p99:.2f} ms "
        f"(ratio {statistics.median(busy_p99s) / quiet_p99:.2f})   goal <= 2"
    )


if __name__ == "__main__":
    main()

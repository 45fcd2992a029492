"""PostgreSQL backup against raw `pg_dump -Fc` in the same run.

    .venv/bin/python -m benchmarks.backup_postgres [--size-mb 500] [--pairs 5]

Fills a throwaway database on the local server (TEST_POSTGRES_* or
127.0.0.1:5432 as postgres) with about --size-mb of rows that compress
about 2:1, then interleaves `pg_dump -Fc` to a file with our backup (dump,
row counts in the same snapshot, archive with checksums, fsync, rename) and
reports the median throughput ratio. Verification is left out on both
sides: raw pg_dump does none.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

from appliance.backups import postgres_engine
from appliance.backups.create import create_backup
from appliance.settings import Settings

# Under the 2 kB where PostgreSQL starts compressing values itself.
ROW_BYTES = 1000


def server_settings(data_dir: Path, database: str) -> Settings:
    return Settings(
        data_dir=data_dir,
        database_type="postgresql",
        postgres_host=os.environ.get("TEST_POSTGRES_HOST", "127.0.0.1"),
        postgres_port=int(os.environ.get("TEST_POSTGRES_PORT", "5432")),
        postgres_user=os.environ.get("TEST_POSTGRES_USER", "postgres"),
        postgres_db=database,
    )


def fill(settings: Settings, size_mb: int) -> None:
    rows = size_mb * 1024 * 1024 // ROW_BYTES
    with postgres_engine.connect(settings) as connection:
        connection.execute("CREATE TABLE notes (id bigserial PRIMARY KEY, body text)")
        # Half random hex, half repeated: about 2:1, like chat text. The
        # subquery names the outer row, so it runs again for every row.
        connection.execute(
            "INSERT INTO notes (body) SELECT substr((SELECT string_agg("
            "md5(random()::text || row.n || piece.i), '') "
            "FROM generate_series(1, %(md5s)s) AS piece(i)), 1, %(half)s) "
            "|| repeat('a', %(half)s) FROM generate_series(1, %(rows)s) AS row(n)",
            {"md5s": ROW_BYTES // 64 + 1, "half": ROW_BYTES // 2, "rows": rows},
        )
        connection.commit()


def raw_dump(settings: Settings, target: Path, *options: str) -> tuple[float, int]:
    """(seconds, bytes) of `pg_dump -Fc`, by default with its own gzip."""
    env = {"PATH": os.environ["PATH"], **postgres_engine.connection_env(settings)}
    started = time.perf_counter()
    command = ["pg_dump", "-Fc", *options, f"--file={target}"]
    subprocess.run(command, env=env, check=True)
    took, size = time.perf_counter() - started, target.stat().st_size
    target.unlink()
    return took, size


def our_backup(settings: Settings) -> tuple[float, int]:
    started = time.perf_counter()
    record = create_backup(settings, trigger="benchmark")
    took = time.perf_counter() - started
    archive = settings.backup_path / record.file
    archive.unlink()
    archive.with_name(archive.name + ".json").unlink()
    return took, record.size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=500)
    parser.add_argument("--pairs", type=int, default=5)
    args = parser.parse_args()

    name = f"cs_bench_{secrets.token_hex(4)}"
    with tempfile.TemporaryDirectory(prefix="bench-pg-") as tmp:
        settings = server_settings(Path(tmp), name)
        postgres_engine.create_database(settings, name)
        try:
            fill(settings, args.size_mb)
            with postgres_engine.connect(settings) as connection:
                size = connection.execute(
                    "SELECT pg_database_size(current_database())"
                ).fetchone()[0]
            ratios, uncompressed = [], []
            for _ in range(args.pairs):
                raw, raw_size = raw_dump(settings, Path(tmp) / "raw.pgdump")
                ours, our_size = our_backup(settings)
                plain, _ = raw_dump(settings, Path(tmp) / "plain.pgdump", "-Z0")
                ratios.append(raw / ours)
                uncompressed.append(plain / ours)
        finally:
            postgres_engine.drop_database(settings, name)
    print(
        f"PostgreSQL {size / 2**20:.0f} MB: our backup at "
        f"{statistics.median(ratios):.2f} of raw `pg_dump -Fc` throughput "
        f"(median of {args.pairs}; each: {', '.join(f'{r:.2f}' for r in ratios)})"
        "   goal >= 0.90"
    )
    print(
        f"sizes: pg_dump -Fc {raw_size / 2**20:.0f} MB, our archive "
        f"{our_size / 2**20:.0f} MB; against uncompressed `pg_dump -Fc -Z0` "
        f"(what our archive starts from) {statistics.median(uncompressed):.2f}"
    )


if __name__ == "__main__":
    try:
        main()
    except psycopg.OperationalError as exc:
        raise SystemExit(f"no PostgreSQL to measure against: {exc}") from exc

"""Fold the metric files of dead processes into one archive file per kind.

prometheus_client's multiprocess mode writes one file per process and kind
(`counter_<pid>.db`, `gauge_livesum_<pid>.db`, ...). Left alone, every worker
restart adds files, and every scrape reads all of them. Folding a dead
process's values into `<kind>_archive.db` keeps its counts while the number
of files stays at "live processes + a few archives".

Scrapes and compaction exclude each other with flock on `.lock` in the
metrics folder: a scrape holds it shared while it lists and reads files,
compaction holds it exclusive from writing the archive to deleting the dead
files, so no scrape sees a value counted twice or not at all.
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.multiprocess import mark_process_dead

logger = logging.getLogger(__name__)

LOCK_NAME = ".lock"
ARCHIVE_ID = "archive"

StoredValue = tuple[float, float]  # value, timestamp, as the files hold them
Fold = Callable[[StoredValue, StoredValue], StoredValue]


def add_values(archived: StoredValue, dead: StoredValue) -> StoredValue:
    return archived[0] + dead[0], max(archived[1], dead[1])


def keep_smaller(archived: StoredValue, dead: StoredValue) -> StoredValue:
    return min(archived, dead)


def keep_larger(archived: StoredValue, dead: StoredValue) -> StoredValue:
    return max(archived, dead)


def keep_newer(archived: StoredValue, dead: StoredValue) -> StoredValue:
    return dead if dead[1] >= archived[1] else archived


# Counters, histograms and summaries store plain sums per key (histogram
# buckets are not cumulative on disk), so adding them is exact. Gauges in
# "all" mode are per pid and mean nothing once the pid is gone; "live*"
# gauges are dropped by mark_process_dead.
FOLDS: dict[str, Fold | None] = {
    "counter": add_values,
    "histogram": add_values,
    "summary": add_values,
    "gauge_sum": add_values,
    "gauge_min": keep_smaller,
    "gauge_max": keep_larger,
    "gauge_mostrecent": keep_newer,
    "gauge_all": None,
}


@contextmanager
def metrics_lock(metrics_dir: Path, exclusive: bool) -> Iterator[None]:
    with open(metrics_dir / LOCK_NAME, "a+b") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def archive_process_files(metrics_dir: Path, pid: int) -> int:
    """Fold the files of dead `pid` into the archives; return files removed."""
    removed = 0
    with metrics_lock(metrics_dir, exclusive=True):
        for kind, fold in FOLDS.items():
            dead_file = metrics_dir / f"{kind}_{pid}.db"
            if not dead_file.exists():
                continue
            if fold is not None:
                fold_into_archive(
                    dead_file, metrics_dir / f"{kind}_{ARCHIVE_ID}.db", fold
                )
            dead_file.unlink()
            removed += 1
        mark_process_dead(pid, str(metrics_dir))
    return removed


def fold_into_archive(dead_file: Path, archive: Path, fold: Fold) -> None:
    merged = read_samples(archive) if archive.exists() else {}
    for key, sample in read_samples(dead_file).items():
        merged[key] = fold(merged[key], sample) if key in merged else sample

    # Written beside the archive and renamed over it: a crash mid-write
    # leaves the old archive and the dead file, both still counted once.
    partial = archive.with_suffix(".partial")
    write_samples(partial, merged)
    os.replace(partial, archive)


def read_samples(path: Path) -> dict[str, StoredValue]:
    return {
        key: (value, timestamp)
        for key, value, timestamp, _ in MmapedDict.read_all_values_from_file(str(path))
    }


def write_samples(path: Path, samples: dict[str, StoredValue]) -> None:
    path.unlink(missing_ok=True)
    store = MmapedDict(str(path))
    try:
        for key, (value, timestamp) in samples.items():
            store.write_value(key, value, timestamp)
    finally:
        store.close()

"""A file system that really runs out of room, for the disk-full paths."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest


@pytest.fixture
def full_disk(tmp_path: Path):
    """An empty 64 KiB tmpfs: any upload bigger than that fills it.

    Needs the right to mount (root in the CI container); skipped elsewhere.
    """
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount_point)],
        capture_output=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], check=True)

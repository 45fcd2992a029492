"""A file system that really runs out of room, for the disk-full paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.disks import small_tmpfs


@pytest.fixture
def full_disk(tmp_path: Path):
    """An empty 64 KiB tmpfs: any upload bigger than that fills it."""
    with small_tmpfs(tmp_path / "small-disk", "64k") as mount_point:
        yield mount_point

"""Stored files appear whole, under generated names, readable by the group."""

from __future__ import annotations

import os
import stat

import pytest

from app.uploads.storage import (
    StorageFull,
    remove_stored_file,
    stored_path,
    write_stored_file,
)


def test_file_is_written_under_year_and_month_with_mode_0640(tmp_path):
    stored_name = write_stored_file(tmp_path, b"pixels", "jpg")

    year, month, name = stored_name.split("/")
    assert len(year) == 4 and len(month) == 2
    assert len(name) == len("0" * 32 + ".jpg")
    path = tmp_path / stored_name
    assert path.read_bytes() == b"pixels"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_no_temporary_file_is_left_beside_it(tmp_path):
    stored_name = write_stored_file(tmp_path, b"pixels", "png")

    assert os.listdir((tmp_path / stored_name).parent) == [stored_name.split("/")[-1]]


def test_two_uploads_never_share_a_name(tmp_path):
    names = {write_stored_file(tmp_path, b"x", "jpg") for _ in range(20)}

    assert len(names) == 20


def test_a_full_disk_raises_storage_full_and_leaves_nothing(full_disk):
    with pytest.raises(StorageFull):
        write_stored_file(full_disk, b"x" * 256 * 1024, "jpg")

    assert [path for path in full_disk.rglob("*") if path.is_file()] == []


def test_stored_name_cannot_leave_the_upload_folder(tmp_path):
    with pytest.raises(ValueError):
        stored_path(tmp_path / "uploads", "../customer_service.db")


def test_removing_a_missing_file_is_not_an_error(tmp_path):
    remove_stored_file(tmp_path, "2024/01/gone.jpg")

    assert list(tmp_path.iterdir()) == []

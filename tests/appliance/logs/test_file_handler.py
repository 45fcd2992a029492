"""The shared file handler follows its path across rotations and removals."""

from __future__ import annotations

import logging

from appliance.logs import file_handler
from appliance.logs.file_handler import SharedFileHandler, exclusive_log_lock


def emit(handler: SharedFileHandler, message: str) -> None:
    handler.emit(logging.makeLogRecord({"msg": message, "levelno": 20}))


def test_rotation_under_the_lock_sends_the_next_line_to_the_new_file(tmp_path):
    path = tmp_path / "app.log"
    handler = SharedFileHandler(path)
    emit(handler, "before")

    with exclusive_log_lock(path):
        path.rename(tmp_path / "app.log.1")
    emit(handler, "after")

    assert (tmp_path / "app.log.1").read_text() == "before\n"
    assert path.read_text() == "after\n"
    handler.close()


def test_file_removed_by_hand_is_recreated(tmp_path, monkeypatch):
    # No generation bump here: only the periodic check notices the removal.
    monkeypatch.setattr(file_handler, "RECHECK_SECONDS", 0.0)
    path = tmp_path / "app.log"
    handler = SharedFileHandler(path)
    emit(handler, "first")

    path.unlink()
    emit(handler, "second")

    assert path.read_text() == "second\n"
    handler.close()


def test_between_checks_a_line_goes_to_the_open_file(tmp_path, monkeypatch):
    monkeypatch.setattr(file_handler, "RECHECK_SECONDS", 3600.0)
    path = tmp_path / "app.log"
    handler = SharedFileHandler(path)
    emit(handler, "first")

    moved = tmp_path / "moved.log"
    path.rename(moved)  # without the lock: nothing tells the writer
    emit(handler, "second")

    assert moved.read_text() == "first\nsecond\n"
    handler.close()

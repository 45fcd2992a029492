"""A folder swap stopped after any rename rolls back to exactly what was."""

from __future__ import annotations

import os

import pytest

from appliance.backups.restore.folders import FolderSwap


def tree(folder) -> dict[str, bytes]:
    """Every file below `folder` but the work folders, by relative path."""
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and not path.relative_to(folder).parts[0].startswith(".")
    }


def staged_swap(tmp_path) -> FolderSwap:
    live = tmp_path / "uploads"
    (live / "2026" / "11").mkdir(parents=True)
    (live / "2026" / "11" / "old.jpg").write_bytes(b"old picture")
    (live / "legacy.png").write_bytes(b"only before")
    swap = FolderSwap(live, live / ".restore-test")
    new = swap.prepare()
    (new / "2026" / "12").mkdir(parents=True)
    (new / "2026" / "12" / "new.jpg").write_bytes(b"restored picture")
    (new / "2025").mkdir()
    (new / "2025" / "x.gif").write_bytes(b"only restored")
    swap.plan()
    return swap


class Crash(Exception):
    pass


def crash_after(monkeypatch, renames: int) -> None:
    real_replace, done = os.replace, []

    def replace(source, target):
        if len(done) == renames:
            raise Crash(f"after {renames} renames")
        done.append(source)
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", replace)


def test_swap_puts_the_restored_entries_in_place(tmp_path):
    swap = staged_swap(tmp_path)
    swap.swap_in()
    assert tree(swap.live) == {
        "2026/12/new.jpg": b"restored picture",
        "2025/x.gif": b"only restored",
    }
    swap.finish()
    assert not swap.work.exists()


@pytest.mark.parametrize("renames", range(4))
def test_swap_stopped_after_any_rename_rolls_back_to_what_was(
    tmp_path, monkeypatch, renames
):
    swap = staged_swap(tmp_path)
    before = tree(swap.live)
    crash_after(monkeypatch, renames)
    with pytest.raises(Crash):
        swap.swap_in()
    monkeypatch.undo()

    swap.roll_back()
    assert tree(swap.live) == before
    swap.discard()
    assert not swap.work.exists()
    assert tree(swap.live) == before


def test_roll_back_after_a_whole_swap_restores_what_was(tmp_path):
    swap = staged_swap(tmp_path)
    before = tree(swap.live)
    swap.swap_in()
    swap.roll_back()
    assert tree(swap.live) == before


def test_a_named_swap_leaves_other_entries_alone(tmp_path):
    live = tmp_path / "data"
    live.mkdir()
    (live / "app.db").write_bytes(b"live db")
    (live / "app.db-wal").write_bytes(b"live wal")
    (live / "notes.txt").write_bytes(b"not ours")
    swap = FolderSwap(live, live / ".restore-x", ["app.db", "app.db-wal", "app.db-shm"])
    (swap.prepare() / "app.db").write_bytes(b"restored db")
    swap.plan()
    swap.swap_in()
    assert tree(live) == {"app.db": b"restored db", "notes.txt": b"not ours"}
    swap.roll_back()
    assert tree(live) == {
        "app.db": b"live db",
        "app.db-wal": b"live wal",
        "notes.txt": b"not ours",
    }

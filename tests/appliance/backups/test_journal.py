"""The run journal: one whole line per run, whichever process ran it."""

from __future__ import annotations

from appliance.backups.journal import JOURNAL_NAME, read_runs, record_run


def test_each_run_gets_an_id_and_a_start_worked_out_from_its_duration(tmp_path):
    first = record_run(tmp_path, kind="create", outcome="ok", duration=2.5)
    second = record_run(tmp_path, kind="prune", outcome="ok")

    assert first["run_id"] != second["run_id"]
    assert first["started_at"] == round(first["at"] - 2.5, 3)
    assert "started_at" not in second
    assert read_runs(tmp_path) == [first, second]


def test_a_torn_last_line_is_skipped_when_read(tmp_path):
    kept = record_run(tmp_path, kind="create", outcome="ok")
    with open(tmp_path / JOURNAL_NAME, "ab") as journal:
        journal.write(b'{"kind": "create", "outc')

    assert read_runs(tmp_path) == [kept]

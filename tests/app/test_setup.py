"""First-run steps run after migrations and know whether the schema is new."""

from __future__ import annotations

from app import setup


def test_first_run_steps_learn_whether_this_run_created_the_schema(
    any_database, monkeypatch
):
    seen: list[bool] = []
    monkeypatch.setattr(
        setup, "FIRST_RUN_STEPS", [lambda settings, fresh: seen.append(fresh)]
    )

    assert setup.prepare_database(any_database) == 0
    assert setup.prepare_database(any_database) == 0

    assert seen == [True, False]

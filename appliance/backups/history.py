"""What the run journal tells a person: the last run of each kind, and since
when backups have been failing (the admin pages' banner)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Failing:
    """Backups fail: every create since the newest success (or ever) failed."""

    since: float
    failures: int
    last: dict
    last_success_at: float | None


def last_run_of_each_kind(runs: list[dict]) -> dict[str, dict]:
    """The newest run of each kind (create, verify, restore, ...)."""
    newest: dict[str, dict] = {}
    for run in runs:
        kind = run.get("kind")
        if isinstance(kind, str):
            newest[kind] = run
    return newest


def failing_since(runs: list[dict]) -> Failing | None:
    """Failing, when the newest backup attempt failed; None while the newest
    one succeeded or none was ever tried."""
    creates = [run for run in runs if run.get("kind") == "create"]
    succeeded = [i for i, run in enumerate(creates) if run.get("outcome") == "ok"]
    after = succeeded[-1] + 1 if succeeded else 0
    failures = [run for run in creates[after:] if run.get("outcome") == "failed"]
    if not failures:
        return None
    last_success = creates[succeeded[-1]].get("at") if succeeded else None
    return Failing(
        since=failures[0].get("at", 0.0),
        failures=len(failures),
        last=failures[-1],
        last_success_at=last_success,
    )

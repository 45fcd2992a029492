"""What each long-running process loads: its memory is paid for as long as
the appliance runs, once per worker."""

from __future__ import annotations

import subprocess
import sys

import pytest

# Loaded only where they are used: the PostgreSQL driver on PostgreSQL, the
# scheduler and the supervisor's client in their own processes or in the
# rare admin request that needs them, the model SDK with a model key.
HEAVY = {"psycopg", "apscheduler", "supervisor", "openai"}

WORKER = """
from app.main import create_app
create_app(settings)
"""
SCHEDULER = """
from appliance.scheduler.schedule import scheduled_jobs
scheduled_jobs(settings.model_copy(update={"backup_enabled": True}))
"""
SERVE = """
from appliance.supervision.serve import settle_unfinished_backup_runs
settings.backup_path.mkdir(parents=True)
settle_unfinished_backup_runs(settings)
"""
PROBE = """
import sys
from appliance.settings import Settings
settings = Settings(data_dir=sys.argv[1])
{steps}
print(" ".join(sorted({{name.split(".")[0] for name in sys.modules}})))
"""


def loaded_by(steps: str, data_dir) -> set[str]:
    probe = subprocess.run(
        [sys.executable, "-c", PROBE.format(steps=steps), str(data_dir)],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(probe.stdout.split())


@pytest.mark.parametrize(
    ("steps", "marker", "allowed"),
    [
        (WORKER, "fastapi", set()),
        (SCHEDULER, "apscheduler", {"apscheduler"}),
        (SERVE, "appliance", {"supervisor"}),
    ],
    ids=["worker", "scheduler", "serve"],
)
def test_a_sqlite_appliance_without_a_model_key_loads_no_heavy_extras(
    tmp_path, steps, marker, allowed
):
    loaded = loaded_by(steps, tmp_path / "data")

    assert marker in loaded  # the probe did its steps
    assert not loaded & (HEAVY - allowed), sorted(loaded & (HEAVY - allowed))

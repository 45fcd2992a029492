"""What an API worker loads: its memory is paid once per worker."""

from __future__ import annotations

import subprocess
import sys

# Loaded only where they are used: the PostgreSQL driver on PostgreSQL, the
# scheduler and the supervisor's client in their own processes or in the
# rare admin request that needs them.
NOT_IN_A_SQLITE_WORKER = ("psycopg", "apscheduler", "supervisor", "openai")

PROBE = """
import sys
from app.main import create_app
from appliance.settings import Settings
create_app(Settings(data_dir=sys.argv[1]))
print(" ".join(sorted({name.split(".")[0] for name in sys.modules})))
"""


def test_a_sqlite_worker_without_a_model_key_loads_no_heavy_extras(tmp_path):
    probe = subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path / "data")],
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = set(probe.stdout.split())
    assert "fastapi" in loaded  # the probe saw the app
    assert loaded.isdisjoint(NOT_IN_A_SQLITE_WORKER), sorted(
        loaded.intersection(NOT_IN_A_SQLITE_WORKER)
    )

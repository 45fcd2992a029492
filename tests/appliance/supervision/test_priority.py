"""Background work runs at a lower CPU priority than the API workers."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from appliance.supervision.priority import BACKGROUND_NICENESS

# Run in a child: a lowered priority cannot be raised again, and the test
# process must keep its own.
LOWER_AND_SHOW = """
import os, sys
from appliance.supervision.priority import lower_to_background_priority
os.nice(int(sys.argv[1]))
lower_to_background_priority()
lower_to_background_priority()
print(os.nice(0))
"""
BACKUP_COMMAND_SHOWING_ITS_PRIORITY = """
import atexit, os, runpy, sys
atexit.register(lambda: print("niceness", os.nice(0)))
sys.argv = ["customer-service", "backup", "list"]
runpy.run_module("appliance", run_name="__main__")
"""


@pytest.mark.parametrize(("start", "after"), [(0, BACKGROUND_NICENESS), (15, 15)])
def test_background_priority_is_lowered_once_and_never_raised(start, after):
    shown = subprocess.run(
        [sys.executable, "-c", LOWER_AND_SHOW, str(start)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert int(shown.stdout) == after


def test_a_backup_command_runs_at_background_priority(tmp_path):
    env = {**os.environ, "DATA_DIR": str(tmp_path / "data")}
    shown = subprocess.run(
        [sys.executable, "-c", BACKUP_COMMAND_SHOWING_ITS_PRIORITY],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert shown.returncode == 0, shown.stderr
    assert f"niceness {BACKGROUND_NICENESS}" in shown.stdout

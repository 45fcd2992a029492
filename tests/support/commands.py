"""Run `customer-service` commands as real child processes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def run_appliance(
    *args: str, env: dict[str, str], cwd: Path | None = None, timeout: float = 60
) -> subprocess.CompletedProcess:
    """Run `python -m appliance ARGS` to completion, capturing its text output."""
    return subprocess.run(
        [sys.executable, "-m", "appliance", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )

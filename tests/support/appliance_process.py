"""Run the real `customer-service serve` in a child process for a test."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import psutil

from tests.support.network import free_port
from tests.support.waiting import wait_until


def appliance_env(data_dir: Path, **overrides: str) -> dict[str, str]:
    """A clean environment for one appliance: its own data folder and port."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.isupper() or key in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")
    }
    env.update(
        {
            "ENV_FILE": str(data_dir / "absent.env"),
            "DATA_DIR": str(data_dir),
            "HOST": "127.0.0.1",
            "PORT": str(free_port()),
            "WORKERS": "2",
            "LOG_LEVEL": "INFO",
            "SCHEDULER_HEARTBEAT_TIMEOUT": "5",
        }
    )
    env.update(overrides)
    return env


class ApplianceProcess:
    """One `serve` process and its children, stopped at the end of a test."""

    def __init__(self, env: dict[str, str], cwd: Path):
        self.env = env
        self.cwd = cwd
        self.base_url = f"http://{env['HOST']}:{env['PORT']}"
        self.process: subprocess.Popen | None = None
        self.output_path = cwd / "serve-output.log"

    def start(self, wait: bool = True, timeout: float = 30.0) -> ApplianceProcess:
        self.output = self.output_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "appliance", "serve"],
            env=self.env,
            cwd=self.cwd,
            stdout=self.output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        if wait:
            try:
                self.wait_ready(timeout)
            except BaseException:
                # Nobody holds a process that never came up: stop it here,
                # or its supervisor goes on restarting workers unwatched.
                self.stop()
                raise
        return self

    def wait_ready(self, timeout: float = 30.0) -> None:
        def answers() -> bool:
            if self.process.poll() is not None:
                raise RuntimeError(f"serve exited early:\n{self.read_output()}")
            return httpx.get(f"{self.base_url}/health", timeout=1).status_code == 200

        wait_until(answers, timeout=timeout, message="appliance /health 200")

    @property
    def pid(self) -> int:
        return self.process.pid

    def descendants(self) -> list[psutil.Process]:
        try:
            return psutil.Process(self.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    def child_pids(self, subcommand: str) -> list[int]:
        """Pids of the live children running `subcommand` (worker, scheduler)."""
        pids = []
        for child in self.descendants():
            try:
                running = child.status() != psutil.STATUS_ZOMBIE
                if running and child.cmdline()[-1:] == [subcommand]:
                    pids.append(child.pid)
            except psutil.NoSuchProcess:
                continue
        return sorted(pids)

    def read_output(self) -> str:
        return self.output_path.read_text(errors="replace")

    def send(self, signum: int) -> None:
        os.kill(self.pid, signum)

    def stop(self, timeout: float = 30.0) -> int:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.send(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        finally:
            self.kill_leftovers()

    def kill_leftovers(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.pid, signal.SIGKILL)
            self.process.wait()
        for child in self.descendants():
            child.kill()
        self.output.close()

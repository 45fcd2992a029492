from __future__ import annotations

import sys
from pathlib import Path

import pytest
from supervisor.datatypes import InetStreamSocketConfig, RestartUnconditionally

from appliance.settings import Settings
from appliance.supervision.config import write_supervisord_config
from appliance.supervision.layout import (
    UNIX_PATH_LIMIT,
    child_command,
    control_socket_path,
)
from appliance.supervision.supervisor import ApplianceOptions


def realize(settings: Settings) -> ApplianceOptions:
    """Load the rendered file the way `serve` does, through supervisord."""
    settings.run_dir.mkdir(parents=True, exist_ok=True)
    options = ApplianceOptions()
    options.realize(["-c", write_supervisord_config(settings), "-n"], doc="")
    return options


def groups_of(options: ApplianceOptions) -> dict:
    return {group.name: group for group in options.process_group_configs}


def test_config_runs_workers_on_one_shared_socket(tmp_path: Path):
    settings = Settings(data_dir=tmp_path, host="127.0.0.1", port=8123, workers=3)

    api = groups_of(realize(settings))["api"]

    assert [process.name for process in api.process_configs] == [
        "api_00",
        "api_01",
        "api_02",
    ]
    assert isinstance(api.socket_config, InetStreamSocketConfig)
    assert api.socket_config.addr() == ("127.0.0.1", 8123)


def test_config_stops_children_gently_within_timeout(tmp_path: Path):
    settings = Settings(data_dir=tmp_path, timeout=7.5)

    groups = groups_of(realize(settings))

    for name in ("api", "scheduler"):
        process = groups[name].process_configs[0]
        assert process.stopsignal == 15
        assert process.stopwaitsecs == 8
        assert process.autorestart is RestartUnconditionally
        assert process.stdout_logfile is None  # children write to our stdout
        assert process.redirect_stderr is True


def test_config_commands_rerun_this_program(tmp_path: Path):
    groups = groups_of(realize(Settings(data_dir=tmp_path)))

    assert groups["api"].process_configs[0].command.endswith("-m appliance worker")
    assert groups["scheduler"].process_configs[0].command.startswith(sys.executable)


def test_config_keeps_percent_signs_in_paths(tmp_path: Path):
    settings = Settings(data_dir=tmp_path / "100%data")

    options = realize(settings)

    assert options.logfile == str(settings.run_dir / "supervisord.log")
    assert options.serverurl == f"unix://{control_socket_path(settings)}"


def test_config_file_is_private(tmp_path: Path):
    settings = Settings(data_dir=tmp_path)
    settings.run_dir.mkdir(parents=True)

    path = Path(write_supervisord_config(settings))

    assert path.stat().st_mode & 0o777 == 0o600


def test_child_command_runs_module_from_source(monkeypatch):
    monkeypatch.delattr(sys, "frozen", raising=False)

    assert child_command("worker") == [sys.executable, "-m", "appliance", "worker"]


def test_child_command_runs_frozen_binary_itself(monkeypatch):
    monkeypatch.setattr(sys, "frozen", True, raising=False)

    assert child_command("scheduler") == [sys.executable, "scheduler"]


@pytest.mark.parametrize("depth", [1, 40])
def test_control_socket_path_fits_a_unix_socket(tmp_path: Path, depth: int):
    data_dir = tmp_path.joinpath(*["deep"] * depth)

    path = control_socket_path(Settings(data_dir=data_dir))

    assert len(str(path).encode()) <= UNIX_PATH_LIMIT
    assert path == control_socket_path(Settings(data_dir=data_dir))

"""The `customer-service` command: exit codes, messages, help for every command."""

from __future__ import annotations

import subprocess

import pytest

from appliance.cli import HIDDEN_COMMANDS, build_parser, main
from tests.support.commands import run_appliance

SECRET = "s3cret-value-that-must-not-leak-0123456789"


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return run_appliance(*args, env={"PATH": "/usr/bin:/bin", **env})


@pytest.fixture
def clean_env(tmp_path) -> dict[str, str]:
    return {"ENV_FILE": str(tmp_path / "none.env"), "DATA_DIR": str(tmp_path)}


def test_config_check_exits_2_with_one_line_per_problem(clean_env):
    result = run_cli("config", "check", env={**clean_env, "PORT": "x", "WORKERS": "0"})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("config error: PORT: ")
    assert lines[1].startswith("config error: WORKERS: ")


def test_config_check_accepts_valid_settings(clean_env):
    result = run_cli("config", "check", env=clean_env)
    assert result.returncode == 0
    assert "configuration is valid" in result.stdout


def test_config_show_masks_secrets(clean_env):
    env = {**clean_env, "SECRET_KEY": SECRET, "METRICS_TOKEN": SECRET}
    result = run_cli("config", "show", env=env)
    assert result.returncode == 0
    assert SECRET not in result.stdout
    assert "SECRET_KEY=********" in result.stdout
    assert "METRICS_TOKEN=********" in result.stdout
    assert "PORT=8000" in result.stdout


def test_production_placeholder_refused_by_config_check(clean_env):
    env = {**clean_env, "ENVIRONMENT": "production", "SECRET_KEY": "your-secret-key"}
    result = run_cli("config", "check", env=env)
    assert result.returncode == 2
    assert "config error: SECRET_KEY: still holds a placeholder" in result.stderr


def test_version_needs_no_valid_settings(clean_env):
    result = run_cli("version", env={**clean_env, "PORT": "broken"})
    assert result.returncode == 0
    assert result.stdout.startswith("customer-service ")


def test_unknown_command_is_bad_usage():
    with pytest.raises(SystemExit) as caught:
        main(["frobnicate"])
    assert caught.value.code == 2


def public_commands() -> list[list[str]]:
    commands = []
    for action in build_parser()._subparsers._group_actions:
        for name, sub in action.choices.items():
            if name in HIDDEN_COMMANDS:
                continue
            nested = [
                a for a in sub._actions if a.__class__.__name__.endswith("Parsers")
            ]
            if nested:
                commands += [[name, inner] for inner in nested[0].choices]
            else:
                commands.append([name])
    return commands


@pytest.mark.parametrize("command", public_commands(), ids=" ".join)
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as caught:
        main([*command, "--help"])
    assert caught.value.code == 0
    assert "usage: customer-service " + " ".join(command) in capsys.readouterr().out

"""Fixtures every test may use."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.appliance_process import ApplianceProcess, appliance_env
from tests.support.databases import (  # noqa: F401 - fixtures for every test
    any_database,
    migrated_database,
    postgres_database,
    postgres_server,
)
from tests.support.fake_llm import fake_llm, fallback_llm  # noqa: F401


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture
def start_appliance(tmp_path: Path, data_dir: Path):
    """Start `customer-service serve`; returns a function taking env overrides."""
    started: list[ApplianceProcess] = []

    def start(wait: bool = True, **overrides: str) -> ApplianceProcess:
        appliance = ApplianceProcess(appliance_env(data_dir, **overrides), tmp_path)
        started.append(appliance)
        return appliance.start(wait=wait)

    yield start
    for appliance in started:
        appliance.stop()

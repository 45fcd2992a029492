from __future__ import annotations

import socket
from pathlib import Path

import pytest

from appliance.settings import Settings
from appliance.supervision.preflight import (
    PROBE_NAME,
    StartFailure,
    ensure_data_dir_writable,
    ensure_port_free,
)
from tests.support.network import free_port


def test_missing_data_dir_is_created_and_left_clean(tmp_path: Path):
    settings = Settings(data_dir=tmp_path / "new" / "data")

    ensure_data_dir_writable(settings)

    assert settings.data_dir.is_dir()
    assert not (settings.data_dir / PROBE_NAME).exists()


def test_data_dir_under_a_file_fails_with_the_fix(tmp_path: Path):
    (tmp_path / "file").write_text("")
    settings = Settings(data_dir=tmp_path / "file" / "data")

    with pytest.raises(StartFailure, match=r"^cannot start: DATA_DIR .*set DATA_DIR$"):
        ensure_data_dir_writable(settings)


def test_taken_port_fails_naming_port_and_fix():
    port = free_port()
    with socket.socket() as occupant:
        occupant.bind(("127.0.0.1", port))
        occupant.listen()

        with pytest.raises(StartFailure) as failure:
            ensure_port_free(Settings(host="127.0.0.1", port=port))

    assert str(failure.value) == (
        f"cannot start: port {port} on 127.0.0.1 is already in use; "
        "stop the other service or set PORT"
    )


def test_free_port_passes():
    ensure_port_free(Settings(host="127.0.0.1", port=free_port()))


def test_host_that_is_not_ipv4_fails_with_the_fix():
    with pytest.raises(StartFailure, match="HOST ::1 is not an IPv4 address"):
        ensure_port_free(Settings(host="::1", port=free_port()))

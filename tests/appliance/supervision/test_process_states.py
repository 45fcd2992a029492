"""Reading supervisord's process states when no healthy `serve` answers."""

from __future__ import annotations

import socket
import time

import pytest

from appliance.settings import Settings
from appliance.supervision import process_states
from appliance.supervision.layout import control_socket_path
from appliance.supervision.process_states import read_supervisor_state


@pytest.fixture
def settings(data_dir) -> Settings:
    settings = Settings(data_dir=data_dir)
    settings.run_dir.mkdir()
    return settings


def test_no_control_socket_means_no_supervisor(settings):
    assert read_supervisor_state(settings) is None


def test_a_socket_left_by_a_killed_serve_means_no_supervisor(settings):
    left = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    left.bind(str(control_socket_path(settings)))
    left.close()  # the file stays, nothing listens

    assert read_supervisor_state(settings) is None


def test_a_supervisor_that_never_answers_is_given_up_on(settings, monkeypatch):
    monkeypatch.setattr(process_states, "CONTROL_TIMEOUT_SECONDS", 0.3)
    hung = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    hung.bind(str(control_socket_path(settings)))
    hung.listen()  # accepts into the backlog, never replies
    started = time.monotonic()

    try:
        assert read_supervisor_state(settings) is None
    finally:
        hung.close()

    assert time.monotonic() - started < 2

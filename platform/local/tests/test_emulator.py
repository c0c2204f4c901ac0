"""The emulator launcher: free ports, a clear error for a taken port, clean
shutdown, no server left behind."""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
import time
from importlib.util import find_spec
from pathlib import Path
from typing import Iterator

import pytest

from todo_local.emulator import (
    HOST,
    PYTHON_ENV,
    Emulator,
    EmulatorError,
    emulator_python,
    port_in_use,
)


@pytest.fixture
def listening_socket() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        sock.listen(1)
        yield int(sock.getsockname()[1])


def test_a_taken_port_is_a_clear_error(listening_socket: int) -> None:
    emulator = Emulator(port=listening_socket)
    with pytest.raises(EmulatorError, match=f"port {listening_socket} .* already in use"):
        emulator.start()
    assert not emulator.running


def test_the_session_emulator_runs_on_a_free_loopback_port(emulator: Emulator) -> None:
    assert emulator.running
    assert emulator.endpoint_url == f"http://{HOST}:{emulator.port}"
    assert port_in_use(int(emulator.port or 0))


def test_stop_is_clean_and_idempotent() -> None:
    emulator = Emulator().start()
    port = int(emulator.port or 0)
    process = emulator._process
    assert process is not None
    assert port_in_use(port)
    emulator.stop()
    assert process.returncode == 0, "SIGTERM ends the server with a normal exit"
    assert not port_in_use(port)
    assert not emulator.running
    emulator.stop()  # a second stop is harmless


def test_the_emulator_does_not_outlive_its_owner() -> None:
    """A test run killed outright (no cleanup at all) leaves no server behind."""
    owner = subprocess.Popen(
        [
            sys.executable, "-c",
            "import time\n"
            "from todo_local.emulator import Emulator\n"
            "emulator = Emulator().start()\n"
            "print(emulator.port, flush=True)\n"
            "time.sleep(300)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert owner.stdout is not None
        port = int(owner.stdout.readline())
        assert port_in_use(port)
    finally:
        owner.kill()
        owner.wait()
    deadline = time.monotonic() + 30
    while port_in_use(port) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not port_in_use(port)


def test_the_configured_emulator_python_is_used(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(PYTHON_ENV, "/nowhere/python")
    assert emulator_python() == "/nowhere/python"
    with pytest.raises(EmulatorError, match="/nowhere/python"):
        Emulator(log_path=str(tmp_path / "log")).start(timeout=5)


def test_without_an_emulator_the_error_says_how_to_get_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(PYTHON_ENV, raising=False)
    monkeypatch.setattr(
        importlib.util, "find_spec",
        lambda name, *args: None if name == "todo_emulator" else find_spec(name, *args),
    )
    with pytest.raises(EmulatorError, match=PYTHON_ENV):
        emulator_python()

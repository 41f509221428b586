"""Fixtures shared by every suite; the CLI helpers they build on are in tests/support.py."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

#: The environment variable choosing the AWS integration API generation of the ``aws`` subtype.
AWS_API_ENV = "DD_INTEGRATIONS_AWS_API"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "aws_api(version): the AWS integration API generation a test runs (v1 or v2)")


@pytest.fixture(autouse=True)
def aws_api(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The AWS integration API generation CLI runs use (``DD_INTEGRATIONS_AWS_API``, also in child processes).

    The tests written for the v1 generation run it explicitly, unchanged: ``v1`` unless a test (or module) is marked
    ``@pytest.mark.aws_api("v2")``. The CLI's own default (v2) is tested with the variable removed."""
    marker = request.node.get_closest_marker("aws_api")
    version = marker.args[0] if marker else "v1"
    monkeypatch.setenv(AWS_API_ENV, version)
    return version


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh working directory the CLI runs in (its ``resources/`` state lands here)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def live_pid() -> Iterator[int]:
    """The pid of another live process, running until the test ends."""
    proc = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    yield proc.pid
    assert proc.stdin is not None
    proc.stdin.close()
    proc.wait()


@pytest.fixture
def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid

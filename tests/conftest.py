"""Fixtures shared by every suite; the CLI helpers they build on are in tests/support.py."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh working directory the CLI runs in (its ``resources/`` state lands here)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path

"""Fixtures shared by the HTTP client tests: a scripted local server and a fake clock/sleep pair."""

from __future__ import annotations

import pytest

from tests.unit.http_support import FakeTime, scripted_server


@pytest.fixture
async def server():
    async with scripted_server() as s:
        yield s


@pytest.fixture
def fake():
    return FakeTime()

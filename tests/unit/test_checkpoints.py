"""Destination-state checkpoints are written in a worker thread from a copy taken when they are due: the event loop
runs on meanwhile, they never overlap, and close() waits for the one being written (the final save comes last)."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

import datadog_sync.state as state_module
from datadog_sync.checkpoints import Checkpoints
from datadog_sync.state import StateStore


class HeldWrites:
    """Every state file write waits for ``release``; ``started`` counts the writes begun."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        self.release = threading.Event()
        self.started = 0
        self._begun = threading.Semaphore(0)
        real = state_module.atomic_write

        def held(path: Path, data: bytes) -> None:
            self.started += 1
            self._begun.release()
            assert self.release.wait(10), "the test never released the write"
            real(path, data)

        monkeypatch.setattr(state_module, "atomic_write", held)

    async def begun(self) -> None:
        """Wait (in a thread, the loop stays free) until one more write has begun."""
        assert await asyncio.to_thread(self._begun.acquire, True, 10), "no write began"


@pytest.fixture
def store(tmp_path: Path) -> StateStore:
    store = StateStore(tmp_path / "source", tmp_path / "destination")
    store.destination["things"] = {"a": {"v": 1}}
    return store


def written(store: StateStore) -> dict:
    return json.loads((store.destination_path / "things.json").read_text())


async def test_a_checkpoint_writes_the_state_as_it_was_due_while_the_loop_runs_on(store, monkeypatch):
    writes = HeldWrites(monkeypatch)
    checkpoints = Checkpoints(SimpleNamespace(state=store), ["things"])
    saving = asyncio.create_task(checkpoints.save())
    await writes.begun()
    # The file is being written, and the loop is free: the run goes on changing state meanwhile.
    store.destination["things"]["b"] = {"v": 2}
    store.destination["things"]["a"] = {"v": 3}
    assert not saving.done()
    writes.release.set()
    await saving
    assert written(store) == {"a": {"v": 1}}


async def test_checkpoints_never_overlap_and_each_writes_its_own_copy(store, monkeypatch):
    writes = HeldWrites(monkeypatch)
    checkpoints = Checkpoints(SimpleNamespace(state=store), ["things"])
    first = asyncio.create_task(checkpoints.save())
    await writes.begun()
    store.destination["things"]["b"] = {"v": 2}
    second = asyncio.create_task(checkpoints.save())
    for _ in range(5):
        await asyncio.sleep(0)
    assert writes.started == 1 and not second.done(), "the second waits for the first"
    writes.release.set()
    await asyncio.gather(first, second)
    assert writes.started == 2
    assert written(store) == {"a": {"v": 1}, "b": {"v": 2}}


async def test_close_waits_for_a_checkpoint_whose_caller_was_cancelled(store, monkeypatch):
    writes = HeldWrites(monkeypatch)
    checkpoints = Checkpoints(SimpleNamespace(state=store), ["things"])
    saving = asyncio.create_task(checkpoints.save())
    await writes.begun()
    saving.cancel()  # Ctrl-C: the run stops waiting, the thread goes on writing
    with pytest.raises(asyncio.CancelledError):
        await saving
    closing = asyncio.create_task(checkpoints.close())
    for _ in range(5):
        await asyncio.sleep(0)
    assert not closing.done(), "the run's final save must not start before the checkpoint is written"
    writes.release.set()
    await closing
    assert written(store) == {"a": {"v": 1}}


async def test_a_checkpoint_that_cannot_be_written_raises_to_its_caller(store, tmp_path):
    (tmp_path / "destination").write_text("a file where the state directory should be")
    checkpoints = Checkpoints(SimpleNamespace(state=store), ["things"])
    with pytest.raises(state_module.StateFileError):
        await checkpoints.save()
    await checkpoints.close()


@pytest.mark.parametrize("entries", [{}, {"a": 1}, {"aws:1": {"é": ["ü", None, 1.5, True]}, "aws:2": {"b": {}}}])
def test_state_encoded_entry_by_entry_is_the_compact_json_of_the_whole(entries):
    from datadog_sync.state_files import encode

    assert encode("destination", "things", entries) == json.dumps(
        entries, ensure_ascii=False, separators=(",", ":")
    ).encode("utf-8")

"""The run lock (datadog_sync/lock.py) on a real directory, with real processes as holders."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

from datadog_sync.lock import LOCK_FILE, FileLockStore, LockError, RunLock, read_holder


def holder_file(directory, *, pid, host=None, command="sync", owner="alice") -> bytes:
    """A lock file as another run would have written it."""
    data = json.dumps(
        {"owner": owner, "host": host or socket.gethostname(), "pid": pid, "started_at": "2026-01-02T03:04:05Z",
         "command": command}  # fmt: skip
    ).encode()
    (directory / LOCK_FILE).write_bytes(data)
    return data


def lock(tmp_path, command="import") -> RunLock:
    return RunLock(FileLockStore(tmp_path), f"destination state directory {tmp_path}", command)


def test_acquire_writes_who_holds_it_and_release_removes_it(tmp_path):
    run = lock(tmp_path, "migrate")
    run.acquire()
    content = json.loads((tmp_path / LOCK_FILE).read_text())
    assert content["pid"] == os.getpid() and content["host"] == socket.gethostname()
    assert content["command"] == "migrate" and content["owner"] and content["started_at"].endswith("Z")
    run.release()
    assert not (tmp_path / LOCK_FILE).exists()
    run.release()  # twice is harmless


def test_a_live_holder_makes_the_second_run_fail_naming_it(tmp_path, live_pid):
    data = holder_file(tmp_path, pid=live_pid)
    with pytest.raises(LockError) as info:
        lock(tmp_path).acquire()
    message = str(info.value)
    assert f"`datadog-sync sync` run by alice on host {socket.gethostname()} (pid {live_pid})" in message
    assert "wait for it to finish" in message and str(tmp_path / LOCK_FILE) in message
    assert (tmp_path / LOCK_FILE).read_bytes() == data, "the holder's lock is untouched"


def test_our_own_pid_counts_as_alive(tmp_path):
    holder_file(tmp_path, pid=os.getpid())
    with pytest.raises(LockError, match=f"pid {os.getpid()}"):
        lock(tmp_path).acquire()


def test_a_dead_holder_on_this_host_is_taken_over_with_a_warning(tmp_path, dead_pid):
    holder_file(tmp_path, pid=dead_pid)
    warnings = []
    run = lock(tmp_path)
    run.acquire(warn=warnings.append)
    assert json.loads((tmp_path / LOCK_FILE).read_text())["pid"] == os.getpid()
    (warning,) = warnings
    assert f"(pid {dead_pid})" in warning and "its process is gone" in warning
    run.release()
    assert not (tmp_path / LOCK_FILE).exists()


def test_another_host_needs_force_unlock(tmp_path, dead_pid):
    holder_file(tmp_path, pid=dead_pid, host="ci-runner-7")
    with pytest.raises(LockError) as info:
        lock(tmp_path).acquire()
    assert "on host ci-runner-7" in str(info.value) and "--force-unlock" in str(info.value)
    warnings = []
    lock(tmp_path).acquire(force=True, warn=warnings.append)
    assert "ci-runner-7" in warnings[0] and "--force-unlock" in warnings[0]
    assert json.loads((tmp_path / LOCK_FILE).read_text())["host"] == socket.gethostname()


@pytest.mark.parametrize("content", [b"", b"{not json", b'{"pid": "12"}'])
def test_an_unreadable_lock_is_not_guessed_at(tmp_path, content):
    (tmp_path / LOCK_FILE).write_bytes(content)
    with pytest.raises(LockError, match="unknown holder .*--force-unlock"):
        lock(tmp_path).acquire()
    assert read_holder(FileLockStore(tmp_path)) == (content, None)
    lock(tmp_path).acquire(force=True)
    assert json.loads((tmp_path / LOCK_FILE).read_text())["pid"] == os.getpid()


def test_release_never_removes_another_runs_lock(tmp_path, live_pid):
    run = lock(tmp_path)
    run.acquire()
    data = holder_file(tmp_path, pid=live_pid)  # e.g. someone forced the lock away from us meanwhile
    run.release()
    assert (tmp_path / LOCK_FILE).read_bytes() == data
    assert sorted(p.name for p in tmp_path.iterdir()) == [LOCK_FILE]


def test_remove_if_only_removes_the_expected_content(tmp_path):
    store = FileLockStore(tmp_path)
    assert store.create(b"mine") and not store.create(b"yours")
    assert store.remove_if(b"yours") is False and store.read() == b"mine"
    assert store.remove_if(b"mine") is True and store.read() is None
    assert store.remove_if(b"mine") is False


class _RacedStore(FileLockStore):
    """Another run creates its lock right after remove_if moved a lock that was not ours aside."""

    def _put_back(self, aside):
        assert FileLockStore(self.path.parent).create(b"new run")
        super()._put_back(aside)


def test_putting_back_a_lock_never_overwrites_one_created_meanwhile(tmp_path):
    store = _RacedStore(tmp_path)
    assert store.create(b"old run")
    assert store.remove_if(b"ours") is False
    assert store.read() == b"new run", "the lock created meanwhile stays"
    assert sorted(os.listdir(tmp_path)) == [LOCK_FILE], "no set-aside copy is left behind"


def test_putting_back_without_hard_links_still_never_overwrites(tmp_path, monkeypatch):
    def no_link(*_args):
        raise PermissionError("hard links are not supported here")

    monkeypatch.setattr(os, "link", no_link)
    store = FileLockStore(tmp_path)
    assert store.create(b"old run")  # O_EXCL fallback
    assert store.remove_if(b"ours") is False and store.read() == b"old run"
    raced = _RacedStore(tmp_path)
    assert raced.remove_if(b"ours") is False and raced.read() == b"new run"
    assert sorted(os.listdir(tmp_path)) == [LOCK_FILE]


def test_two_processes_racing_for_the_lock_one_wins(tmp_path):
    """Several real processes acquire at the same time: exactly one holds the lock, the others are told who."""
    script = (
        "import sys; from pathlib import Path; from datadog_sync.lock import FileLockStore, LockError, RunLock\n"
        "lock = RunLock(FileLockStore(Path(sys.argv[1])), 'state', 'sync')\n"
        "try:\n    lock.acquire()\nexcept LockError as exc:\n    print('LOST', exc); sys.exit(3)\n"
        "print('WON'); sys.stdout.flush(); sys.stdin.read(); lock.release()\n"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(tmp_path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    firsts = [proc.stdout.readline() for proc in procs]  # each says WON (and waits) or LOST (and exits)
    for proc in procs:
        proc.stdin.close()
        proc.wait()
    winners = [proc for proc, line in zip(procs, firsts, strict=True) if line.startswith("WON")]
    assert len(winners) == 1
    assert all(f"pid {winners[0].pid}" in line for line in firsts if line.startswith("LOST"))
    assert not (tmp_path / LOCK_FILE).exists()

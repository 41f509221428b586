"""The run lock when state is in a bucket: a lease object made with a conditional create, on each backend."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from datadog_sync.emulator import make_aws_org
from datadog_sync.emulator.testing import cli_env, emulated_orgs
from tests.storage.test_remote_state import DEST_STATE, SOURCE_STATE, run, writes

LOCK = "resources/destination/.datadog-sync.lock"


@pytest.fixture
def emu():
    with emulated_orgs(source_state=make_aws_org(3, seed=5, key_account_share=0)) as emulator:
        yield emulator


def lease(*, host="ci-runner-7", expires_in: float, command="sync") -> bytes:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + expires_in))
    holder = {
        "owner": "alice",
        "host": host,
        "pid": 4242,
        "started_at": "2026-01-02T03:04:05Z",
        "command": command,
        "expires_at": stamp,
    }
    return json.dumps(holder).encode()


def test_a_second_run_is_refused_at_once_and_nothing_is_lost(workdir, emu, bucket):
    assert run(emu, bucket, "import").exit_code == 0
    # The first run is a real `datadog-sync sync` process whose first destination request never gets an answer:
    # accepting its connection proves it holds the lock (taken before any request) and is busy.
    silent = socket.create_server(("127.0.0.1", 0))
    silent.settimeout(300)  # a safety net if the first run never connects (a bug), not a timing assumption
    env = {
        **os.environ,
        **cli_env(emu),
        **bucket.env,
        "DD_DESTINATION_API_URL": f"http://127.0.0.1:{silent.getsockname()[1]}",
        "DD_HTTP_CLIENT_TIMEOUT": "600",
        "DD_HTTP_CLIENT_RETRY_TIMEOUT": "0",
        "DD_SHOW_PROGRESS_BAR": "false",
    }
    first = subprocess.Popen(
        [sys.executable, "-m", "datadog_sync", "sync", "--resources=integrations", *bucket.args],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        conn, _ = silent.accept()
        holder = json.loads(bucket.get(LOCK))
        assert holder["pid"] == first.pid and holder["command"] == "sync" and holder["expires_at"]
        before = bucket.objects()

        emu.clear_requests()
        second = run(emu, bucket, "sync")
        assert second.exit_code == 1
        assert f"is locked by `datadog-sync sync` run by {holder['owner']} on host {socket.gethostname()}" in (
            second.stderr
        )
        assert f"(pid {first.pid})" in second.stderr and bucket.url(LOCK) in second.stderr
        assert emu.requests("destination") == [], "the second run sent nothing"
        assert bucket.objects() == before, "and wrote nothing, the lock included"

        first.send_signal(signal.SIGINT)
        conn.close()  # whatever the first run still waits for fails now
        silent.close()
        _, stderr = first.communicate(timeout=300)
    finally:
        if first.poll() is None:
            first.kill()
            first.communicate()
    assert LOCK not in bucket.keys(), f"the interrupted run released its lock: {stderr}"
    assert bucket.get(SOURCE_STATE) == before[SOURCE_STATE]

    result = run(emu, bucket, "sync")
    assert result.exit_code == 0, result.stderr
    assert len(json.loads(bucket.get(DEST_STATE))) == 3, "the next run does all the work"


def test_a_live_lease_needs_force_unlock_and_an_expired_one_is_taken_over(workdir, emu, bucket):
    bucket.put(LOCK, lease(expires_in=3600))
    result = run(emu, bucket, "sync")
    assert result.exit_code == 1
    assert "locked by `datadog-sync sync` run by alice on host ci-runner-7 (pid 4242)" in result.stderr
    assert "--force-unlock" in result.stderr
    assert writes(emu) == [] and json.loads(bucket.get(LOCK))["host"] == "ci-runner-7"

    result = run(emu, bucket, "diffs")
    assert "is locked by `datadog-sync sync` run by alice" in result.stderr, "diffs warns"
    assert json.loads(bucket.get(LOCK))["host"] == "ci-runner-7", "and takes no lock"

    result = run(emu, bucket, "sync", "--force-unlock")
    assert result.exit_code == 0, result.stderr
    assert "took over the lock" in result.stderr and "(--force-unlock)" in result.stderr
    assert LOCK not in bucket.keys()

    bucket.put(LOCK, lease(expires_in=-60, command="migrate"))
    result = run(emu, bucket, "sync")
    assert result.exit_code == 0, result.stderr
    assert "took over the lock" in result.stderr and "its lease expired" in result.stderr
    assert LOCK not in bucket.keys()


def test_a_lease_is_renewed_only_while_it_is_ours(workdir, bucket, monkeypatch):
    from datadog_sync.lock import ObjectLockStore, RunLock
    from datadog_sync.storage import StorageConfig, open_store

    for name, value in bucket.env.items():
        monkeypatch.setenv(name, value)
    config = {
        "s3": {},
        "gcs": {},
        "azure": {"azure_storage_connection_string": bucket.env.get("AZURE_STORAGE_CONNECTION_STRING")},
    }
    store = open_store(StorageConfig(type=bucket.kind, bucket=bucket.name, **config[bucket.kind]))
    lock = RunLock(ObjectLockStore(store, "resources/destination"), "destination state", "sync", lease_seconds=60)
    lock.acquire()
    first = json.loads(bucket.get(LOCK))
    lock.lease_seconds = 3600  # a later expiry, whatever the clock says
    assert lock.renew()
    renewed = json.loads(bucket.get(LOCK))
    assert renewed["expires_at"] > first["expires_at"]
    assert {k: v for k, v in renewed.items() if k != "expires_at"} == {
        k: v for k, v in first.items() if k != "expires_at"
    }

    bucket.put(LOCK, lease(expires_in=3600))  # another run took it (--force-unlock)
    assert not lock.renew()
    lock.release()
    assert json.loads(bucket.get(LOCK))["host"] == "ci-runner-7", "and its lock is left alone"


def test_a_run_renews_its_lease_while_it_works(workdir, bucket, monkeypatch):
    import threading

    from datadog_sync import runner
    from tests.e2e.test_apply_guarantees import role_accounts
    from tests.support import wait_for

    monkeypatch.setattr(runner, "LEASE_RENEW_EVERY", 0.05)
    with emulated_orgs(source_state=role_accounts(2, seed=6)) as emu:
        assert run(emu, bucket, "import").exit_code == 0
        emu.set_knobs(hold_after_writes=0)  # the run holds its lock while its first write waits
        results: list = []
        sync = threading.Thread(target=lambda: results.append(run(emu, bucket, "sync")))
        sync.start()
        try:
            wait_for(lambda: emu.counters()["held"] >= 1 or not sync.is_alive(), "a held write")
            first = json.loads(bucket.get(LOCK))
            # Renewed every 50 ms: the expiry (to the second) moves on within about a second.
            wait_for(lambda: json.loads(bucket.get(LOCK) or b"{}").get("expires_at") != first["expires_at"], "renewal")
            renewed = json.loads(bucket.get(LOCK))
            assert renewed["expires_at"] > first["expires_at"] and renewed["pid"] == first["pid"]
        finally:
            emu.set_knobs(hold_after_writes=None)
            sync.join()
    assert results[0].exit_code == 0, results[0].stderr
    assert LOCK not in bucket.keys()


@pytest.mark.parametrize("how", ["taken", "unrenewable"])
def test_a_run_that_loses_its_lease_stops_before_writing_more(workdir, bucket, monkeypatch, how):
    import threading

    from datadog_sync import runner
    from datadog_sync.lock import RunLock
    from datadog_sync.storage.base import ObjectStore, StorageError
    from tests.e2e.test_apply_guarantees import role_accounts
    from tests.support import wait_for

    monkeypatch.setattr(runner, "LEASE_RENEW_EVERY", 0.05)
    stopped = threading.Event()  # set once the run refuses writes; it cancels its work in the same loop step
    stop_writes = getattr(ObjectStore, "stop_writes", None)

    def spy(self, reason):
        stop_writes(self, reason)
        stopped.set()

    monkeypatch.setattr(ObjectStore, "stop_writes", spy, raising=False)

    def unrenewable(self):
        self.lease_seconds = runner.LEASE_SECONDS  # the lease it holds now ends at once
        self._holder = self._new_holder()
        raise StorageError("cannot write the lock: connection refused")

    with emulated_orgs(source_state=role_accounts(4, seed=6)) as emu:
        assert run(emu, bucket, "import").exit_code == 0
        emu.set_knobs(hold_after_writes=1)  # one account is created, then the run waits at its next write
        results: list = []
        sync = threading.Thread(target=lambda: results.append(run(emu, bucket, "sync")))
        sync.start()
        try:
            wait_for(lambda: emu.counters()["held"] >= 1 or not sync.is_alive(), "a held write")
            assert sync.is_alive()
            other = lease(expires_in=3600)

            def lost() -> bool:
                if stopped.is_set() or not sync.is_alive():
                    return True
                if how == "taken":
                    # Another run took the lock (--force-unlock). Put again until seen: gcp-storage-emulator ignores
                    # preconditions, so a renewal between its read and its write can overwrite it there.
                    bucket.put(LOCK, other)
                return False

            if how == "unrenewable":  # the bucket is unreachable for renewals until the lease (ending now) is over
                monkeypatch.setattr(runner, "LEASE_SECONDS", 0.001)
                monkeypatch.setattr(RunLock, "renew", unrenewable)
            wait_for(lost, "the run finding its lease lost")
            assert stopped.is_set()
            before = bucket.objects()
        finally:
            emu.set_knobs(hold_after_writes=None)  # the held write is answered: the run goes on if it may
            sync.join()
        sent = writes(emu)
    result = results[0]
    assert result.exit_code == 1, result.stderr
    if how == "taken":
        assert "was taken by another run: `datadog-sync sync` run by alice on host ci-runner-7 (pid 4242)" in (
            result.stderr
        )
        assert json.loads(bucket.get(LOCK))["host"] == "ci-runner-7", "the other run's lock is left alone"
    else:
        assert "could not be renewed before its lease ended" in result.stderr, result.stderr
        before.pop(LOCK, None)  # still its own: released (a conditional delete) as on every exit
        assert LOCK not in bucket.keys()
    assert "Applied: " in result.output, "what was applied is reported"
    assert len(sent) <= 2, "the applied write and the one in flight, no other"
    assert bucket.objects() == before, "nothing more reached the bucket: no state save, no hand-off upload"


def test_a_live_lease_is_trusted_even_from_a_host_of_the_same_name(workdir, emu, bucket):
    # CI containers often share a host name: a pid that is not alive here may be alive in the lease holder's.
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    live = json.loads(lease(host=socket.gethostname(), expires_in=3600))
    bucket.put(LOCK, json.dumps({**live, "pid": gone.pid}).encode())
    result = run(emu, bucket, "sync")
    assert result.exit_code == 1
    assert f"on host {socket.gethostname()} (pid {gone.pid})" in result.stderr and "--force-unlock" in result.stderr
    assert writes(emu) == [] and json.loads(bucket.get(LOCK))["pid"] == gone.pid

    # Expiry is read with this clock against the holder's: a lease just past its end is kept for a margin.
    bucket.put(LOCK, lease(expires_in=-5))
    result = run(emu, bucket, "sync")
    assert result.exit_code == 1 and "is locked by" in result.stderr
    assert writes(emu) == [] and json.loads(bucket.get(LOCK))["host"] == "ci-runner-7"

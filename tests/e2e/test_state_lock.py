"""The run lock and state-directory checks through the real CLI, against the emulator and real processes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys

import pytest

from datadog_sync.emulator import make_aws_org
from datadog_sync.emulator.testing import cli_env, emulated_orgs
from datadog_sync.lock import LOCK_FILE
from tests.support import invoke_emulated as invoke

DEST_LOCK = "resources/destination/" + LOCK_FILE
SOURCE_LOCK = "resources/source/" + LOCK_FILE


def write_lock(workdir, relpath, *, pid, host=None, command="sync"):
    path = workdir / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    content = {
        "owner": "alice",
        "host": host or socket.gethostname(),
        "pid": pid,
        "started_at": "2026-01-02T03:04:05Z",
        "command": command,
    }
    path.write_text(json.dumps(content))
    return path


@pytest.fixture
def emu():
    with emulated_orgs(source_state=make_aws_org(3, seed=5, key_account_share=0)) as emulator:
        yield emulator


def test_a_second_run_fails_at_once_naming_the_first_which_releases_the_lock_on_ctrl_c(workdir, emu):
    # The first run is a real `datadog-sync sync` process whose first request never gets an answer: accepting
    # its connection proves it holds the lock (taken before any request) and is busy.
    silent = socket.create_server(("127.0.0.1", 0))
    silent.settimeout(300)  # a safety net if the first run never connects (a bug), not a timing assumption
    env = {
        **os.environ,
        **cli_env(emu),
        "DD_DESTINATION_API_URL": f"http://127.0.0.1:{silent.getsockname()[1]}",
        "DD_HTTP_CLIENT_TIMEOUT": "600",
        "DD_HTTP_CLIENT_RETRY_TIMEOUT": "0",
        "DD_SHOW_PROGRESS_BAR": "false",
    }
    first = subprocess.Popen(
        [sys.executable, "-m", "datadog_sync", "sync", "--resources=integrations"],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        conn, _ = silent.accept()
        holder = json.loads((workdir / DEST_LOCK).read_text())
        assert holder["pid"] == first.pid and holder["command"] == "sync"

        second = invoke(emu, "sync")
        assert second.exit_code == 1
        assert f"`datadog-sync sync` run by {holder['owner']} on host {socket.gethostname()}" in second.stderr
        assert f"(pid {first.pid})" in second.stderr and "wait for it to finish" in second.stderr
        assert emu.requests("destination") == [], "the second run sent nothing"
        assert json.loads((workdir / DEST_LOCK).read_text()) == holder, "and left the lock alone"

        first.send_signal(signal.SIGINT)
        conn.close()  # whatever the first run still waits for fails now
        silent.close()
        _, stderr = first.communicate()
    finally:
        silent.close()
        if first.poll() is None:
            first.kill()
            first.wait()
    assert first.returncode != 0, stderr
    assert "Traceback" not in stderr
    assert not (workdir / DEST_LOCK).exists(), "Ctrl-C released the lock"
    result = invoke(emu, "sync")
    assert result.exit_code == 0, result.stderr


def test_a_lock_left_by_a_dead_process_on_this_host_is_taken_over(workdir, emu, dead_pid):
    write_lock(workdir, DEST_LOCK, pid=dead_pid)
    assert invoke(emu, "import").exit_code == 0
    result = invoke(emu, "sync")
    assert result.exit_code == 0, result.stderr
    assert "took over the lock of the destination state directory" in result.stderr
    assert f"(pid {dead_pid})" in result.stderr and "its process is gone" in result.stderr
    assert not (workdir / DEST_LOCK).exists()
    assert len(emu.dump("destination")["aws"]["accounts"]) == 3


def test_a_lock_from_another_host_needs_force_unlock(workdir, emu, dead_pid):
    lock = write_lock(workdir, DEST_LOCK, pid=dead_pid, host="ci-runner-7", command="migrate")
    result = invoke(emu, "sync")
    assert result.exit_code == 1
    assert "locked by `datadog-sync migrate` run by alice on host ci-runner-7" in result.stderr
    assert "--force-unlock" in result.stderr and "Traceback" not in result.output
    assert emu.requests() == [] and lock.exists()

    result = invoke(emu, "sync", "--force-unlock")
    assert result.exit_code == 0, result.stderr
    assert "ci-runner-7" in result.stderr and "(--force-unlock)" in result.stderr
    assert not lock.exists()


def test_lock_is_released_after_success_failure_and_an_aborted_prompt(workdir, emu):
    assert invoke(emu, "import").exit_code == 0
    assert not (workdir / SOURCE_LOCK).exists()
    assert invoke(emu, "sync", DD_DESTINATION_API_KEY="wrong").exit_code == 1
    assert not (workdir / DEST_LOCK).exists()
    assert invoke(emu, "sync").exit_code == 0
    result = invoke(emu, "reset", input="")  # end of input at the confirmation: click aborts the run
    assert result.exit_code == 1 and "Aborted" in result.output
    assert not (workdir / DEST_LOCK).exists()


def test_which_commands_lock_which_directory(workdir, emu, live_pid):
    """import locks source state; sync and reset destination; migrate both; diffs none (it warns)."""
    assert invoke(emu, "import").exit_code == 0
    dest_lock = write_lock(workdir, DEST_LOCK, pid=live_pid)
    assert invoke(emu, "import").exit_code == 0, "import does not write destination state"
    for command in ("sync", "migrate", "reset"):
        result = invoke(emu, command, "--yes" if command == "reset" else "--cleanup=False")
        assert result.exit_code == 1 and f"(pid {live_pid})" in result.stderr, command
    result = invoke(emu, "diffs")
    assert result.exit_code == 0
    assert "is locked by `datadog-sync sync` run by alice" in result.stderr
    assert "Plan: 3 to create" in result.stdout
    dest_lock.unlink()

    write_lock(workdir, SOURCE_LOCK, pid=live_pid, command="import")
    for command in ("import", "migrate"):
        result = invoke(emu, command)
        assert result.exit_code == 1 and "source state directory" in result.stderr, command
    assert invoke(emu, "sync").exit_code == 0, "sync only reads source state"


PROC = os.path.isdir("/proc/self")  # Linux: nothing can be created in /proc, not even by root


@pytest.mark.parametrize(
    "kind",
    [
        "under-a-file",
        pytest.param("cannot-be-created", marks=pytest.mark.skipif(not PROC, reason="needs /proc")),
        pytest.param("exists-read-only", marks=pytest.mark.skipif(not PROC, reason="needs /proc")),
    ],
)
@pytest.mark.parametrize("command,origin", [("sync", "destination"), ("import", "source"), ("reset", "destination")])
def test_an_unwritable_state_directory_fails_before_any_request(workdir, emu, command, origin, kind):
    # chmod does not stop root, so these paths cannot be written by anyone.
    if kind == "under-a-file":
        (workdir / "a-file").write_text("")
        path = str(workdir / "a-file" / "state")
    else:
        path = "/proc/self/datadog-sync-state" if kind == "cannot-be-created" else "/proc/self"
    env = {f"DD_{origin.upper()}_RESOURCES_PATH": path}
    result = invoke(emu, command, *(["--yes"] if command == "reset" else []), **env)
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), "no traceback"
    assert f"{path}: " in result.stderr and f"Use a writable --{origin}-resources-path" in result.stderr
    assert emu.requests() == [], "no request before the check"

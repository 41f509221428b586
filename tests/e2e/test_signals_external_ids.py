"""An interruption between an account's create and its later writes (tag filters, logs) never loses the
announcement of its new external ID (issue 9, items 4 and 14): a real `sync` process is stopped while the account's
first child write is held by the emulator. SIGTERM: the interrupted run itself warns and writes the hand-off;
SIGKILL: the next run, adopting the account from the journal, announces the ID as new."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from datadog_sync.emulator import make_aws_org
from datadog_sync.emulator.testing import cli_env, emulated_orgs
from tests.support import signalled_sync

CLI = [sys.executable, "-m", "datadog_sync"]


def one_account_with_children() -> dict:
    """One role account with tag filters and logs: its create is one write, its children come after."""
    state = make_aws_org(1, seed=3, key_account_share=0)
    (account,) = state["aws"]["accounts"]
    account["tag_filters"] = account.get("tag_filters") or {"sqs": "env:prod"}
    return state


def handoff_of(tmp_path: Path) -> dict:
    return json.loads((tmp_path / "resources/destination/handoff/aws-external-ids.json").read_text())


def emulator_ids(emu) -> dict[str, str]:
    return {a["account_id"]: a["external_id"] for a in emu.dump("destination")["aws"]["accounts"] if "role_name" in a}


def sync(tmp_path: Path, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*CLI, "sync", "--resources=integrations"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )


def interrupted_sync(emu, tmp_path: Path, env: dict, signum: int) -> tuple[int, str, str]:
    """A sync whose second write (the account's first child write, after its create) is held; then ``signum``."""
    return signalled_sync(emu, tmp_path, env, signum, after_writes=1)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_an_interrupted_create_announces_its_new_external_id(tmp_path, signum):
    env = {**os.environ, "DD_SHOW_PROGRESS_BAR": "false", "PYTHONUNBUFFERED": "1"}
    source = one_account_with_children()
    (account,) = source["aws"]["accounts"]
    assert account["tag_filters"] or account["logs"]["lambdas"], "the held write must be a child write"
    with emulated_orgs(source_state=source) as emu:
        env.update(cli_env(emu))
        imported = subprocess.run(
            [*CLI, "import", "--resources=integrations"], cwd=tmp_path, env=env, capture_output=True, timeout=300
        )
        assert imported.returncode == 0
        returncode, stdout, stderr = interrupted_sync(emu, tmp_path, env, signum)
        issued = emulator_ids(emu)[account["account_id"]]
        assert issued, "the create was answered: Datadog holds the account's new external ID"
        if signum == signal.SIGTERM:
            assert returncode == 1 and "Traceback" not in stderr, stderr
            assert "SIGTERM received: stopping" in stderr
            assert "1 failed" in stdout, stdout
        else:
            assert returncode == -signal.SIGKILL
            rerun = sync(tmp_path, env)
            assert rerun.returncode == 0, rerun.stderr
            stdout, stderr = rerun.stdout, rerun.stderr
        assert "1 AWS role account(s) got a new external ID" in stderr, stderr
        assert f"new external ID {issued}" in stderr
        (entry,) = handoff_of(tmp_path)["accounts"]
        assert entry["external_id"] == issued and entry["new_in_last_sync"] is True
        state = json.loads((tmp_path / "resources/destination/integrations.json").read_text())
        assert [obj["external_id"] for obj in state.values()] == [issued]
        # Announced once: the next run (which writes the account's remaining settings) does not repeat it.
        again = sync(tmp_path, env)
        assert again.returncode == 0, again.stderr
        assert "got a new external ID" not in again.stderr
        assert [a["external_id"] for a in handoff_of(tmp_path)["accounts"]] == [issued]

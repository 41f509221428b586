"""SIGTERM behaves like Ctrl-C: a real `sync` process, stopped mid-sync at a deterministic point, saves its state
and still prints the `Applied:` summary and the external-ID hand-off."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from datadog_sync.emulator import make_aws_org
from datadog_sync.emulator.testing import cli_env, emulated_orgs
from tests.support import signalled_sync

ACCOUNTS = 6
DONE_BEFORE_SIGNAL = 3


def one_write_per_account(n: int) -> dict:
    """Role accounts without tag filters or logs: one create each, so N writes are N accounts created."""
    state = make_aws_org(n, seed=2, key_account_share=0)
    for account in state["aws"]["accounts"]:
        account["tag_filters"], account["logs"] = {}, {"lambdas": [], "services": []}
    return state


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_mid_sync_saves_state_and_prints_the_summary_and_handoff(tmp_path, signum):
    env = {**os.environ, "DD_SHOW_PROGRESS_BAR": "false", "PYTHONUNBUFFERED": "1"}
    with emulated_orgs(source_state=one_write_per_account(ACCOUNTS)) as emu:
        env.update(cli_env(emu))
        cli = [sys.executable, "-m", "datadog_sync"]
        imported = subprocess.run(
            [*cli, "import", "--resources=integrations"], cwd=tmp_path, env=env, capture_output=True, timeout=300
        )
        assert imported.returncode == 0
        # The 4th write (and anything after it) waits unanswered: the run is mid-sync, 3 accounts created.
        code, stdout, stderr = signalled_sync(emu, tmp_path, env, signum, after_writes=DONE_BEFORE_SIGNAL)

    assert code == 1, stderr
    name = signal.Signals(signum).name
    assert f"{name} received: stopping" in stderr and "Traceback" not in stderr
    assert f"Applied: {DONE_BEFORE_SIGNAL} created, 0 updated, 0 deleted, 0 unchanged, 0 failed, 0 skipped." in stdout
    handoff = tmp_path / "resources" / "destination" / "handoff" / "aws-external-ids.json"
    assert f"{DONE_BEFORE_SIGNAL} AWS role account(s) got a new external ID" in stderr
    assert f"trust-policy snippets: {handoff}" in stderr
    issued = [a for a in json.loads(handoff.read_text())["accounts"] if a["new_in_last_sync"]]
    assert len(issued) == DONE_BEFORE_SIGNAL
    state = json.loads((tmp_path / "resources" / "destination" / "integrations.json").read_text())
    assert len(state) == DONE_BEFORE_SIGNAL and all(obj["external_id"] for obj in state.values())

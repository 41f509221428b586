"""Whatever happens to a sync (lost responses, a concurrent writer, SIGKILL / SIGTERM / Ctrl-C, then a re-run),
the hand-off file and destination state end up agreeing with the external IDs Datadog holds.

The CLI runs as a real process against the emulator. Faults are the emulator's scripted one-shot rules, and a run
is interrupted while the emulator holds one of its requests (a ``hang`` rule, seen in the emulator's counters),
so each test interrupts the same request every time: nothing depends on timing.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from datadog_sync.emulator import make_aws_org
from datadog_sync.emulator.testing import cli_env, emulated_orgs

ACCOUNTS = 4
CREATE = {"method": "POST", "path": "/api/v1/integration/aws", "org": "destination"}
ROTATE = {"method": "PUT", "path": "/api/v1/integration/aws/generate_new_external_id", "org": "destination"}
WAIT = 120.0  # an upper bound for a stuck run, never reached by a passing one


def env(emu) -> dict[str, str]:
    return {**os.environ, **cli_env(emu), "DD_SHOW_PROGRESS_BAR": "false", "DD_VERIFY_DDR_STATUS": "false"}


def start(emu, workdir: Path, command: str = "sync") -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "datadog_sync", command, "--resources=integrations"],
        cwd=workdir,
        env=env(emu),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run(emu, workdir: Path, command: str = "sync") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "datadog_sync", command, "--resources=integrations"],
        cwd=workdir,
        env=env(emu),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=WAIT,
    )


def interrupted(emu, workdir: Path, rule: dict, signum: int) -> None:
    """Run ``sync`` until the emulator holds the request ``rule`` names, send ``signum``, then let it end."""
    emu.reset_counters()
    emu.set_knobs(script=[{**rule, "fault": "hang"}])
    proc = start(emu, workdir)
    try:
        deadline = time.monotonic() + WAIT
        while emu.counters()["scripted_faults"] < 1:
            assert proc.poll() is None, f"the run ended before the held request: {proc.communicate()}"
            assert time.monotonic() < deadline, "the held request never came"
            time.sleep(0.02)
        proc.send_signal(signum)
        if signum != signal.SIGKILL:
            emu.set_knobs(script=[])  # a graceful stop may wait for the request in flight: answer it (504)
        proc.communicate(timeout=WAIT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    emu.set_knobs(script=[])


def assert_converged(emu, workdir: Path, adopted: tuple[str, ...] = ()) -> None:
    """Destination state == hand-off file == Datadog for every role account; ``adopted`` accounts (made by
    another writer) are known to have an unknown external ID and are listed for a deliberate rotation."""
    roles = [a for a in emu.dump("destination")["aws"]["accounts"] if a.get("role_name")]
    held = {a["account_id"]: a["external_id"] for a in roles}
    assert len(held) == len(roles) == ACCOUNTS, "one destination account per source account"
    root = workdir / "resources" / "destination"
    state = json.loads((root / "integrations.json").read_text())
    handoff = json.loads((root / "handoff" / "aws-external-ids.json").read_text())
    known = {a: i for a, i in held.items() if a not in adopted}
    assert {o["account_id"]: o.get("external_id") for o in state.values()} == {**known, **dict.fromkeys(adopted)}
    assert {a["account_id"]: a["external_id"] for a in handoff["accounts"]} == known
    unknown = sorted(
        f"arn:aws:iam::{a['account_id']}:role/{a['role_name']}" for a in roles if a["account_id"] in adopted
    )
    assert handoff["roles_with_unknown_external_id"] == unknown


def writes(emu) -> list[dict]:
    return [r for r in emu.requests("destination") if r["method"] != "GET"]


@pytest.fixture
def orgs(tmp_path):
    with emulated_orgs(source_state=make_aws_org(ACCOUNTS, seed=5, key_account_share=0)) as emu:
        assert run(emu, tmp_path, "import").returncode == 0
        yield emu


@pytest.mark.parametrize(
    "signum", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT], ids=["SIGKILL", "SIGTERM", "SIGINT"]
)
def test_a_run_interrupted_while_a_create_answer_is_outstanding_converges_on_re_run(orgs, tmp_path, signum):
    # The second create is applied and held: the first account's ID is journaled, the second's never arrives.
    interrupted(orgs, tmp_path, {**CREATE, "skip": 1}, signum)
    assert len(orgs.dump("destination")["aws"]["accounts"]) >= 2
    rerun = run(orgs, tmp_path)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert_converged(orgs, tmp_path)
    orgs.clear_requests()
    again = run(orgs, tmp_path)
    assert again.returncode == 0 and writes(orgs) == [], "converged: one more sync writes nothing"
    assert_converged(orgs, tmp_path)


def test_a_re_run_killed_while_rotating_an_external_id_converges_on_the_next(orgs, tmp_path):
    interrupted(orgs, tmp_path, {**CREATE, "skip": 1}, signal.SIGKILL)
    # The re-run asks for a new external ID for the account whose create answer was lost; that answer is lost too.
    interrupted(orgs, tmp_path, ROTATE, signal.SIGKILL)
    last = run(orgs, tmp_path)
    assert last.returncode == 0, last.stdout + last.stderr
    assert_converged(orgs, tmp_path)


def test_lost_answers_conflicts_and_a_concurrent_writer_converge_in_one_run(orgs, tmp_path):
    lost, conflict, limited, rival = sorted(a["account_id"] for a in orgs.dump("source")["aws"]["accounts"])
    orgs.set_knobs(
        script=[
            {**CREATE, "account_id": lost, "fault": "lost"},  # applied, answer lost: rotated
            {**CREATE, "account_id": conflict, "fault": "conflict"},  # refused: retried
            {**CREATE, "account_id": limited, "fault": "rate_limited"},  # refused: retried
            {**CREATE, "account_id": limited, "fault": "lost"},  # then applied, answer lost: rotated
            {**CREATE, "account_id": rival, "fault": "rival"},  # another writer's create won: adopted
        ]
    )
    result = run(orgs, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert orgs.counters()["scripted_faults"] == 5
    rotated = sorted(r["body"]["account_id"] for r in writes(orgs) if r["path"] == ROTATE["path"])
    assert rotated == sorted([lost, limited])
    assert_converged(orgs, tmp_path, adopted=(rival,))
    assert "rotate it deliberately" in result.stderr
    orgs.set_knobs(script=[])
    again = run(orgs, tmp_path)
    assert again.returncode == 0
    assert_converged(orgs, tmp_path, adopted=(rival,))

"""Three things that save work or keep state honest, each proved through the real CLI against the emulator:
the import prefilter (no per-account read for an account a filter drops), the state checkpoint while `sync`
applies, and `reset` dropping the destination state of what it deleted."""

from __future__ import annotations

import threading

import pytest

from datadog_sync import applier
from datadog_sync.emulator import make_aws_org
from datadog_sync.emulator.testing import emulated_orgs
from tests.support import invoke_emulated, read_state, wait_for

FILTERING = "/api/v1/integration/aws/filtering"


def role_accounts(n: int, seed: int) -> dict:
    """Role accounts without tag filters or logs: creating one is exactly one write."""
    state = make_aws_org(n, seed=seed, key_account_share=0)
    for account in state["aws"]["accounts"]:
        account["tag_filters"], account["logs"] = {}, {"lambdas": [], "services": []}
    return state


def test_import_filter_on_a_listed_attribute_skips_the_per_account_reads(workdir):
    source = make_aws_org(4, seed=3, key_account_share=0)
    kept = source["aws"]["accounts"][0]["account_id"]
    with emulated_orgs(source_state=source) as emu:
        result = invoke_emulated(emu, "import", f"--filter=Type=integrations;Name=account_id;Value={kept}")
        assert result.exit_code == 0, result.output
        reads = [r for r in emu.requests("source") if r["method"] == "GET" and r["path"] == FILTERING]
    # Only the kept account's tag filters are read: the other three were dropped from the list item.
    assert [r["query"] for r in reads] == [{"account_id": kept}]
    assert list(read_state(workdir, "source", "integrations")) == [f"aws:{kept}"]


ACCOUNTS, HELD_AFTER = 6, 3


@pytest.mark.parametrize("trigger", ["count", "clock"])
def test_sync_checkpoints_destination_state_while_it_applies(workdir, monkeypatch, trigger):
    # One trigger at a time. By count: after every applied change, so the file is exact the moment a write is held.
    # By clock: often, and the test waits for the file (a missing checkpoint fails at the wait's limit).
    monkeypatch.setattr(applier, "CHECKPOINT_EVERY", 1 if trigger == "count" else 10**9)
    monkeypatch.setattr(applier, "CHECKPOINT_INTERVAL", 3600.0 if trigger == "count" else 0.01)
    with emulated_orgs(source_state=role_accounts(ACCOUNTS, seed=4)) as emu:
        assert invoke_emulated(emu, "import").exit_code == 0
        # One account at a time: when the 4th write is held, exactly 3 accounts are created and applied.
        emu.set_knobs(hold_after_writes=HELD_AFTER)
        results: list = []
        sync = threading.Thread(
            target=lambda: results.append(invoke_emulated(emu, "sync", "--max-workers-per-type=integrations=1"))
        )
        sync.start()
        try:
            wait_for(lambda: emu.counters()["held"] >= 1 or not sync.is_alive(), "a held write")
            assert sync.is_alive(), results and results[0].output
            if trigger == "clock":
                wait_for(lambda: len(read_state(workdir, "destination", "integrations")) == HELD_AFTER, "a checkpoint")
            mid_run = read_state(workdir, "destination", "integrations")
            assert sync.is_alive() and emu.counters()["held"] >= 1, "still mid-run"
        finally:
            emu.set_knobs(hold_after_writes=None)
            sync.join()
    assert len(mid_run) == HELD_AFTER and all(obj["external_id"] for obj in mid_run.values())
    (result,) = results
    assert result.exit_code == 0, result.output
    assert len(read_state(workdir, "destination", "integrations")) == ACCOUNTS


def test_the_last_change_is_saved_by_the_final_save_alone(workdir, monkeypatch):
    import datadog_sync.state as state_module

    saved: list[str] = []
    real = state_module.atomic_write

    def spy(path, data):
        if path.parent.name == "destination" and path.name == "integrations.json":
            saved.append(path.name)
        real(path, data)

    monkeypatch.setattr(applier, "CHECKPOINT_EVERY", 1)
    monkeypatch.setattr(applier, "CHECKPOINT_INTERVAL", 3600.0)
    monkeypatch.setattr(state_module, "atomic_write", spy)
    with emulated_orgs(source_state=role_accounts(3, seed=6)) as emu:
        assert invoke_emulated(emu, "import").exit_code == 0
        result = invoke_emulated(emu, "sync", "--max-workers-per-type=integrations=1")
    assert result.exit_code == 0, result.output
    # A checkpoint after the 1st and the 2nd change; the 3rd is written by the final save, not twice.
    assert len(saved) == 3
    assert len(read_state(workdir, "destination", "integrations")) == 3


def test_reset_drops_the_destination_state_of_what_it_deleted(workdir):
    source = role_accounts(3, seed=5)
    ids = sorted(a["account_id"] for a in source["aws"]["accounts"])
    with emulated_orgs(source_state=source) as emu:
        assert invoke_emulated(emu, "migrate").exit_code == 0
        assert sorted(read_state(workdir, "destination", "integrations")) == [f"aws:{i}" for i in ids]
        # Reset one account (by filter), then the rest: each time state keeps exactly what still exists.
        one = invoke_emulated(emu, "reset", "--yes", f"--filter=Type=integrations;Name=account_id;Value={ids[0]}")
        assert one.exit_code == 0, one.output
        assert sorted(read_state(workdir, "destination", "integrations")) == [f"aws:{i}" for i in ids[1:]]
        rest = invoke_emulated(emu, "reset", "--yes")
        assert rest.exit_code == 0, rest.output
        assert emu.dump("destination")["aws"]["accounts"] == []
    assert read_state(workdir, "destination", "integrations") == {}

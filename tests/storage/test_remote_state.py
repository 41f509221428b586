"""Full command runs with state in a bucket, on each backend's real server, against the Datadog emulator."""

from __future__ import annotations

import json

import pytest

from datadog_sync.emulator import make_aws_org
from datadog_sync.emulator.testing import emulated_orgs
from tests.support import invoke_emulated

SOURCE_STATE = "resources/source/integrations.json"
DEST_STATE = "resources/destination/integrations.json"
HANDOFF = "resources/destination/handoff/aws-external-ids.json"
JOURNAL = "resources/destination/handoff/aws-external-ids.journal"


@pytest.fixture
def emu():
    with emulated_orgs(source_state=make_aws_org(3, seed=5, key_account_share=0)) as emulator:
        yield emulator


def run(emu, bucket, *args, **env):
    return invoke_emulated(emu, *args, *bucket.args, **{**bucket.env, **env})


def journal_lines(bucket) -> list[dict]:
    """The journal as a run would load it: the whole object, then the line objects of runs not yet closed."""
    objects = bucket.objects()
    lines = [objects.get(JOURNAL, b"")] + [objects[k] for k in sorted(objects) if k.startswith(JOURNAL + "~")]
    return [json.loads(line) for line in b"".join(lines).decode().splitlines()]


def writes(emu, org="destination"):
    return [r for r in emu.requests(org) if r["method"] not in ("GET", "HEAD")]


def test_import_sync_and_a_resync_that_writes_nothing(workdir, emu, bucket):
    result = run(emu, bucket, "import")
    assert result.exit_code == 0, result.stderr
    assert f"state is in {bucket.url('resources/source')}" in result.stderr
    source = json.loads(bucket.get(SOURCE_STATE))
    assert len(source) == 3 and all(key.startswith("aws:") for key in source)
    assert not (workdir / SOURCE_STATE).exists(), "state went to the bucket, not to the working directory"

    result = run(emu, bucket, "sync")
    assert result.exit_code == 0, result.stderr
    destination = json.loads(bucket.get(DEST_STATE))
    assert sorted(destination) == sorted(source)
    handoff = json.loads(bucket.get(HANDOFF))
    assert sorted(a["state_key"] for a in handoff["accounts"]) == sorted(source)
    journal = bucket.get(JOURNAL).decode().splitlines()
    assert {json.loads(line)["external_id"] for line in journal if "external_id" in line} == {
        a["external_id"] for a in handoff["accounts"]
    }, "every external ID issued is in the bucket's journal"
    assert not [k for k in bucket.keys() if "~" in k], "written whole at the end, its line objects deleted"
    assert json.loads((workdir / HANDOFF).read_text()) == handoff, "and the operator has a local copy"
    assert ".datadog-sync.lock" not in " ".join(bucket.keys()), "the lock is released"

    before = bucket.objects()
    emu.clear_requests()
    result = run(emu, bucket, "sync")
    assert result.exit_code == 0, result.stderr
    assert writes(emu) == [], "a re-sync changes nothing in the destination"
    after = bucket.objects()
    assert after[DEST_STATE] == before[DEST_STATE] and after[SOURCE_STATE] == before[SOURCE_STATE]

    result = run(emu, bucket, "diffs", "--exit-code")
    assert result.exit_code == 0, result.stdout + result.stderr


def test_migrate_per_file_then_reset_with_a_backup(workdir, emu, bucket):
    result = run(emu, bucket, "migrate", "--resource-per-file")
    assert result.exit_code == 0, result.stderr
    per_file = bucket.keys("resources/destination/integrations.")
    assert len(per_file) == 3 and all(k.startswith("resources/destination/integrations.aws.") for k in per_file)
    assert len(bucket.keys("resources/source/integrations.aws.")) == 3

    result = run(emu, bucket, "reset", "--resource-per-file", "--yes")
    assert result.exit_code == 0, result.stderr
    assert "Reset: 3 deleted, 0 failed, 0 skipped." in result.stdout
    (backup,) = [k for k in bucket.keys("resources/destination/.backup/") if k.endswith("-reset/integrations.json")]
    assert bucket.url(backup.rpartition("/")[0]) in result.stderr, "the log names the backup"
    assert len(json.loads(bucket.get(backup))) == 3
    assert bucket.keys("resources/destination/integrations.") == [], "reset emptied destination state"
    assert json.loads(bucket.get(HANDOFF))["accounts"] == [], "and the hand-off in the bucket"
    assert emu.dump("destination")["aws"]["accounts"] == []


def test_a_corrupt_object_stops_the_run_naming_it_and_is_kept(workdir, emu, bucket):
    assert run(emu, bucket, "migrate").exit_code == 0
    bucket.put(DEST_STATE, b'{"aws:1": ')
    before = bucket.objects()
    emu.clear_requests()
    result = run(emu, bucket, "sync")
    assert result.exit_code == 1
    assert f"state file {bucket.url(DEST_STATE)}: is not valid JSON" in result.stderr
    assert bucket.objects() == before, "nothing was overwritten"
    assert writes(emu) == []


def test_a_missing_bucket_is_a_clear_error_before_anything(workdir, emu, server):
    from tests.storage.conftest import Bucket

    missing = Bucket(server, "no-such-bucket-here")
    for command in ("import", "sync", "diffs"):
        result = run(emu, missing, command)
        assert result.exit_code == 1, result.stderr
        assert "no-such-bucket-here does not exist" in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
    assert writes(emu) == [] and writes(emu, "source") == []
    assert missing.objects() == {}
    assert not (workdir / "resources").exists() or not any((workdir / "resources").rglob("*.json"))


@pytest.mark.parametrize("server", ["s3"], indirect=True)
def test_wrong_s3_credentials_are_refused_clearly(workdir, emu, server, monkeypatch):
    from moto import settings

    from tests.storage.conftest import Bucket

    bucket = Bucket(server, "state-badkey").create()
    bad_secret = "wrongSecretAccessKey0123456789abcdefWXYZ"
    # moto's server accepts any credentials until this many requests were made; at 0 it checks every request's
    # signature against the access keys it knows (https://docs.getmoto.org/en/latest/docs/iam.html). Its
    # server runs in this process, so the setting applies from the next request on.
    monkeypatch.setattr(settings, "INITIAL_NO_AUTH_ACTION_COUNT", 0)
    for command in ("import", "sync"):
        result = run(
            emu, bucket, command, "-v", AWS_ACCESS_KEY_ID="AKIAWRONGKEY00000000", AWS_SECRET_ACCESS_KEY=bad_secret
        )
        assert result.exit_code == 1, result.stderr
        assert "refused with these AWS credentials (InvalidAccessKeyId" in result.stderr, result.stderr
        assert f"s3://{bucket.name}" in result.stderr or bucket.name in result.stderr
        assert "Traceback" not in result.stderr
        assert bad_secret not in result.output + result.stderr, "the secret is never printed"
    monkeypatch.setattr(settings, "INITIAL_NO_AUTH_ACTION_COUNT", float("inf"))
    assert bucket.objects() == {} and writes(emu) == [] and writes(emu, "source") == []


@pytest.mark.parametrize("server", ["gcs"], indirect=True)
def test_a_broken_gcs_key_file_is_named_as_such(workdir, emu, server):
    # gcp-storage-emulator never reads the Authorization header, so wrong GCS credentials cannot be refused by it:
    # what can be tested is a key file that is not one.
    from tests.storage.conftest import Bucket

    bucket = Bucket(server, "state-badfile").create()
    broken = workdir / "key.json"
    broken.write_text('{"type": "service_account", "private_key": "')
    for key_file in (broken, workdir / "missing.json"):
        result = run(emu, bucket, "sync", f"--gcs-service-account-key-file={key_file}")
        assert result.exit_code == 1, result.stderr
        assert f"the --gcs-service-account-key-file {key_file} cannot be read or is not a valid" in result.stderr
        assert "pass --gcs-service-account-key-file" not in result.stderr, "it was passed"
    assert bucket.objects() == {} and writes(emu) == []


@pytest.mark.parametrize("server", ["azure"], indirect=True)  # gcp-storage-emulator accepts any credentials
def test_wrong_azure_credentials_are_refused_clearly(workdir, emu, server):
    from tests.storage.conftest import Bucket

    bucket = Bucket(server, "state-badkey").create()
    bad_key = "A" * 86 + "=="
    good = server.extra["connection_string"]
    conn = good.replace(good.split(";")[2], f"AccountKey={bad_key}")
    result = run(emu, bucket, "sync", "-v", AZURE_STORAGE_CONNECTION_STRING=conn)
    assert result.exit_code == 1
    assert "the Azure credentials were refused" in result.stderr
    assert bad_key not in result.output + result.stderr, "the key is never printed"
    assert bucket.objects() == {} and writes(emu) == []


def test_checkpoints_and_the_journal_reach_the_bucket_while_sync_applies(workdir, monkeypatch, bucket):
    import threading

    from datadog_sync import applier
    from tests.e2e.test_apply_guarantees import role_accounts
    from tests.support import wait_for

    monkeypatch.setattr(applier, "CHECKPOINT_EVERY", 1)  # after every applied change: exact when a write is held
    monkeypatch.setattr(applier, "CHECKPOINT_INTERVAL", 3600.0)
    with emulated_orgs(source_state=role_accounts(5, seed=4)) as emu:
        assert run(emu, bucket, "import").exit_code == 0
        emu.set_knobs(hold_after_writes=2)  # one account at a time: 2 created when the 3rd write is held
        results: list = []
        sync = threading.Thread(
            target=lambda: results.append(run(emu, bucket, "sync", "--max-workers-per-type=integrations=1"))
        )
        sync.start()
        try:
            wait_for(lambda: emu.counters()["held"] >= 1 or not sync.is_alive(), "a held write")
            assert sync.is_alive(), results and results[0].stderr
            mid_run = json.loads(bucket.get(DEST_STATE))
            journal = journal_lines(bucket)
            assert sync.is_alive() and emu.counters()["held"] >= 1, "still mid-run"
        finally:
            emu.set_knobs(hold_after_writes=None)
            sync.join()
    assert len(mid_run) == 2
    issued = {item["external_id"] for item in journal if item.get("external_id")}
    assert {obj["external_id"] for obj in mid_run.values()} <= issued, "a SIGKILL now would lose no external ID"
    assert results[0].exit_code == 0, results[0].stderr
    assert len(json.loads(bucket.get(DEST_STATE))) == 5


def test_switching_layouts_rewrites_the_objects_of_the_other_layout(workdir, emu, bucket):
    assert run(emu, bucket, "migrate").exit_code == 0
    combined = json.loads(bucket.get(DEST_STATE))
    emu.clear_requests()
    result = run(emu, bucket, "migrate", "--resource-per-file")
    assert result.exit_code == 0, result.stderr
    assert writes(emu) == [], "the same state in the other layout: nothing to do"
    assert DEST_STATE not in bucket.keys() and SOURCE_STATE not in bucket.keys()
    per_file = {
        key: value
        for k in bucket.keys("resources/destination/integrations.")
        for key, value in json.loads(bucket.get(k)).items()
    }
    assert per_file == combined


def test_journal_lines_left_by_a_killed_run_are_kept_and_compacted(workdir, emu, bucket):
    # A run killed after journaling leaves its lines as objects (never written whole): the next run loads them
    # after the whole journal, and writes the lot whole when it closes the journal.
    old = {"account_id": "111111111111", "role_name": "Old", "intent": "refused"}
    bucket.put(JOURNAL, (json.dumps({**old, "role_name": "Older"}) + "\n").encode())
    bucket.put(f"{JOURNAL}~000000000000001-abcdef-00000001", (json.dumps(old) + "\n").encode())
    result = run(emu, bucket, "migrate")
    assert result.exit_code == 0, result.stderr
    lines = [json.loads(line) for line in bucket.get(JOURNAL).decode().splitlines()]
    assert [item["role_name"] for item in lines[:2]] == ["Older", "Old"], "in order, before this run's lines"
    assert len([item for item in lines if item.get("external_id")]) == 3
    assert not [k for k in bucket.keys() if "~" in k]
    assert (workdir / JOURNAL).read_text().splitlines()[:2] == bucket.get(JOURNAL).decode().splitlines()[:2]

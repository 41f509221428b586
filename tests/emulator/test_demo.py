"""The one-command demo runs the CLI on the v2 AWS API by default and shows v2-only settings arriving in the
destination; it keeps its working directory for a newcomer to look at."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from datadog_sync.emulator import demo
from datadog_sync.emulator.aws_v2_model import attributes
from datadog_sync.emulator.seed import make_aws_org, make_secrets_file, with_v2_settings
from datadog_sync.emulator.state import AwsAccount
from datadog_sync.emulator.testing import emulated_orgs

ROLE = {"account_id": "111111111111", "role_name": "r", "external_id": "e" * 32}


def rows(out: str) -> dict[str, tuple[int, int]]:
    """The demo's v2-only settings table: label -> (source accounts with it, arrived in the destination)."""
    found = re.findall(r"^  (\S.*?)\s+(\d+) -> (\d+)$", out, flags=re.MULTILINE)
    return {label: (int(holders), int(arrived)) for label, holders, arrived in found}


def test_demo_on_v2_carries_the_v2_only_settings_into_the_destination(tmp_path: Any, capsys: Any) -> None:
    workdir = tmp_path / "demo"
    # 10 accounts: one of them a key account (GovCloud partition), so every v2-only setting is there at least once.
    assert demo.main(["--accounts", "10", "--timeout", "120", "--workdir", str(workdir)]) == 0
    out = capsys.readouterr().out
    assert "exit codes: import=0, diffs=0, sync=0, diffs=0" in out
    assert " --integrations-aws-api=v2\n" in out
    verdict = "destination matches source (as GET /api/v2/integration/aws/accounts shows them; "
    assert verdict + "ignoring external ids, secrets, timestamps and list order)" in out
    table = rows(out)
    assert set(table) == {f"{path} {meaning}" for path, meaning, _ in demo.V2_ONLY}
    assert all(holders > 0 and arrived == holders for holders, arrived in table.values()), table
    total = sum(holders for holders, _ in table.values())
    assert f"all {total} v2-only settings arrived in the destination" in out

    # v2: import is one list request; sync one write per account; the re-run of diffs reads once and writes nothing.
    per_command = re.findall(
        r"^\[source (\d+) AWS API request\(s\), (\d+) write\(s\); destination (\d+) AWS API "
        r"request\(s\), (\d+) write\(s\)\]$",
        out,
        flags=re.MULTILINE,
    )
    assert [tuple(map(int, counts)) for counts in per_command] == [
        (1, 0, 0, 0),
        (0, 0, 1, 0),
        (0, 0, 1 + 10, 10),
        (0, 0, 1, 0),
    ]

    # What the emulator holds (read through its own v2 view, not the CLI's state) shows a setting only v2 has.
    source = json.loads((workdir / "resources/source/integrations.json").read_text())
    destination = json.loads((workdir / "resources/destination/integrations.json").read_text())
    assert len(source) == 10 and set(destination) == set(source)
    example = next(
        k for k, v in source.items() if v["traces_config"]["xray_services"] == {"include_only": ["AWS/AppSync"]}
    )
    account_id = example.removeprefix("aws:")
    for org in ("source", "destination"):
        assert f'  e.g. {org} {account_id} traces_config.xray_services: {{"include_only": ["AWS/AppSync"]}}' in out
    # Every account, the key account too, is kept under its AWS account id.
    assert all(key == f"aws:{obj['aws_account_id']}" for key, obj in destination.items())
    key_accounts = [obj for obj in destination.values() if "access_key_id" in obj["auth_config"]]
    assert [obj["aws_partition"] for obj in key_accounts] == ["aws-us-gov"]
    # Each role account's new external ID, kept in destination state, is handed off for its IAM trust policy.
    handoff = json.loads((workdir / "resources/destination/handoff/aws-external-ids.json").read_text())
    issued = {item["state_key"]: item["external_id"] for item in handoff["accounts"] if item["new_in_last_sync"]}
    roles = {key: obj["external_id"] for key, obj in destination.items() if "role_name" in obj["auth_config"]}
    assert len(roles) == 9 and issued == roles
    assert f"== working directory (kept): {workdir.resolve()}" in out
    assert "  resources/destination/integrations.json\n" in out and "rm -r " in out


def test_demo_on_v1_shows_what_the_v1_api_leaves_behind(tmp_path: Any, capsys: Any) -> None:
    workdir = tmp_path / "demo"
    argv = ["--accounts", "3", "--timeout", "120", "--workdir", str(workdir), "--integrations-aws-api", "v1"]
    assert demo.main(argv) == 0
    out = capsys.readouterr().out
    assert "exit codes: import=0, diffs=0, sync=0, diffs=0" in out
    assert " --integrations-aws-api=v1\n" in out
    assert "destination DIFFERS FROM source (as GET /api/v2/integration/aws/accounts shows them;" in out
    table = rows(out)
    total = sum(holders for holders, _ in table.values())
    assert total > 0 and all(arrived == 0 for _, arrived in table.values()), table
    assert (
        f"{total} of {total} v2-only settings did NOT arrive in the destination (the v1 API cannot carry them)" in out
    )


def test_the_verdict_ignores_only_what_each_org_assigns_itself() -> None:
    server = {"config_id": "0" * 8 + "-0000-4000-8000-" + "0" * 12, "created_at": "t", "modified_at": "t"}
    other = {**ROLE, "external_id": "f" * 32, "created_at": "u", "modified_at": "u"}
    same = {**ROLE, "host_tags": ["b", "a"], **server}
    assert demo.canonical(demo.v2_view({"aws": {"accounts": [same]}})) == demo.canonical(
        demo.v2_view({"aws": {"accounts": [{**other, "host_tags": ["a", "b"]}]}})
    )
    for changed in (
        {"aws_partition": "aws-cn"},
        {"v2": {"automute_enabled": False}},
        {"v2": {"xray_services": {"include_all": True}}},
        {"role_name": "s"},
    ):
        assert demo.canonical(demo.v2_view({"aws": {"accounts": [ROLE]}})) != demo.canonical(
            demo.v2_view({"aws": {"accounts": [{**ROLE, **changed}]}})
        )


def test_a_v2_only_setting_counts_as_arrived_only_with_the_same_value() -> None:
    source = demo.v2_view({"aws": {"accounts": [{**ROLE, "v2": {"xray_services": {"include_only": ["a", "b"]}}}]}})
    same = demo.v2_view({"aws": {"accounts": [{**ROLE, "v2": {"xray_services": {"include_only": ["b", "a"]}}}]}})
    other = demo.v2_view({"aws": {"accounts": [{**ROLE, "v2": {"xray_services": {"include_only": ["a"]}}}]}})

    def xray(src: dict, dst: dict) -> tuple[int, int]:
        return {label: (n, k) for label, n, k in demo.v2_only_settings(src, dst)}["traces_config.xray_services set"]

    assert xray(source, same) == (1, 1)
    assert xray(source, other) == (1, 0)
    assert xray(source, {}) == (1, 0)
    # A server default is not a setting: an account that never set X-Ray is not counted.
    assert xray(demo.v2_view({"aws": {"accounts": [ROLE]}}), {}) == (0, 0)


def test_the_v2_seed_is_deterministic_valid_and_gives_every_account_a_v2_only_setting() -> None:
    plain = make_aws_org(12, seed=4, key_account_share=0.25)
    state = with_v2_settings(plain)
    assert state == with_v2_settings(make_aws_org(12, seed=4, key_account_share=0.25))
    assert plain == make_aws_org(12, seed=4, key_account_share=0.25)  # the input is left alone
    assert make_secrets_file(state) == make_secrets_file(plain)
    with emulated_orgs(source_state=state) as emu:
        view = demo.v2_view(emu.dump("source"))
    assert len(view) == 12
    for attrs in view.values():
        assert any(is_set(demo._get(attrs, path)) for path, _, is_set in demo.V2_ONLY), attrs
        key = "access_key_id" in attrs["auth_config"]
        assert attrs["aws_partition"] == ("aws-us-gov" if key else "aws")
        lambdas = attrs["logs_config"]["lambda_forwarder"]["lambdas"]
        assert all(arn.startswith("arn:aws-us-gov:" if key else "arn:aws:") for arn in lambdas)


def test_the_v2_seed_reads_as_the_official_v2_models(tmp_path: Any) -> None:
    pytest.importorskip("datadog_api_client")
    from datadog_api_client import ApiClient, Configuration
    from datadog_api_client.v2.model.aws_account_response import AWSAccountResponse

    state = with_v2_settings(make_aws_org(8, key_account_share=0.25))
    with emulated_orgs(source_state=state) as emu:
        accounts = emu.dump("source")["aws"]["accounts"]
    for account in accounts:
        attrs = attributes(AwsAccount.from_json(account))
        body = {"data": {"id": account["config_id"], "type": "account", "attributes": attrs}}
        model = ApiClient(Configuration()).deserialize(json.dumps(body), (AWSAccountResponse,), True)
        assert not model.data.attributes._unparsed


def test_demo_refuses_a_working_directory_that_is_not_empty(tmp_path: Any, capsys: Any) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(SystemExit) as exit_info:
        demo.main(["--workdir", str(tmp_path)])
    assert exit_info.value.code == 2
    assert f"--workdir {tmp_path} must be a new or empty directory" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]

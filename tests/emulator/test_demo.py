"""The one-command demo runs the CLI on the v2 AWS API by default and shows v2-only settings arriving in the
destination; it migrates GCP and Azure too and writes each cloud's hand-off; it keeps its working directory for a
newcomer to look at."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from datadog_sync.emulator import demo
from datadog_sync.emulator.aws_v2_model import attributes
from datadog_sync.emulator.cloud_seed import make_azure_org, make_gcp_org
from datadog_sync.emulator.gcp_model import default_delegate
from datadog_sync.emulator.seed import make_aws_org, make_secrets_file, with_v2_settings
from datadog_sync.emulator.state import AwsAccount
from datadog_sync.emulator.testing import emulated_orgs

ROLE = {"account_id": "111111111111", "role_name": "r", "external_id": "e" * 32}


def rows(out: str) -> dict[str, tuple[int, int]]:
    """The demo's v2-only settings table: label -> (source accounts with it, arrived in the destination)."""
    found = re.findall(r"^  (\S.*?)\s+(\d+) -> (\d+)$", out, flags=re.MULTILINE)
    return {label: (int(holders), int(arrived)) for label, holders, arrived in found}


def per_command(out: str, cloud: str) -> list[tuple[int, ...]]:
    """The demo's request lines of one cloud, one per command: (source requests, source writes, destination
    requests, destination writes)."""
    found = re.findall(
        rf"^\[{cloud}: source (\d+) request\(s\), (\d+) write\(s\); destination (\d+) request\(s\), (\d+) write\(s\)\]$",
        out,
        flags=re.MULTILINE,
    )
    return [tuple(map(int, counts)) for counts in found]


def test_demo_on_v2_carries_the_v2_only_settings_into_the_destination(tmp_path: Any, capsys: Any) -> None:
    workdir = tmp_path / "demo"
    # 10 accounts: one of them a key account (GovCloud partition), so every v2-only setting is there at least once.
    assert demo.main(["--accounts", "10", "--timeout", "120", "--workdir", str(workdir)]) == 0
    out = capsys.readouterr().out
    assert "exit codes: import=0, diffs=0, sync=0, diffs=0" in out
    assert " --integrations-aws-api=v2\n" in out
    verdict = "AWS: destination matches source (as GET /api/v2/integration/aws/accounts shows them; "
    assert verdict + "ignoring external ids, secrets, timestamps and list order)" in out
    table = rows(out)
    assert set(table) == {f"{path} {meaning}" for path, meaning, _ in demo.V2_ONLY}
    assert all(holders > 0 and arrived == holders for holders, arrived in table.values()), table
    total = sum(holders for holders, _ in table.values())
    assert f"all {total} v2-only settings arrived in the destination" in out

    # v2: import is one list request; sync one write per account; the re-run of diffs reads once and writes nothing.
    assert per_command(out, "AWS") == [
        (1, 0, 0, 0),
        (0, 0, 1, 0),
        (0, 0, 1 + 10, 10),
        (0, 0, 1, 0),
    ]

    # What the emulator holds (read through its own v2 view, not the CLI's state) shows a setting only v2 has.
    source, destination = (
        {
            k: v
            for k, v in json.loads((workdir / f"resources/{org}/integrations.json").read_text()).items()
            if k[:4] == "aws:"
        }
        for org in ("source", "destination")
    )
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
    assert "AWS: destination DIFFERS FROM source (as GET /api/v2/integration/aws/accounts shows them;" in out
    # GCP and Azure do not depend on the AWS API generation.
    assert "GCP: destination matches source (" in out and "Azure: destination matches source (" in out
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


def test_demo_migrates_gcp_and_azure_and_writes_each_hand_off(tmp_path: Any, capsys: Any) -> None:
    workdir = tmp_path / "demo"
    argv = ["--accounts", "2", "--gcp-accounts", "4", "--azure-accounts", "3", "--workdir", str(workdir)]
    assert demo.main([*argv, "--timeout", "120"]) == 0
    out = capsys.readouterr().out
    assert "exit codes: import=0, diffs=0, sync=0, diffs=0" in out
    for cloud in ("AWS", "GCP", "Azure"):
        assert f"{cloud}: destination matches source (as GET /api/v" in out, cloud
    assert "DIFFERS" not in out

    # GCP: import and each plan list both API generations (a plan also reads the principal); sync writes once per
    # service account (3 STS POSTs, 1 v1 POST) and reads the key integration back; the last diffs writes nothing.
    assert per_command(out, "GCP") == [(2, 0, 0, 0), (0, 0, 3, 0), (0, 0, 3 + 4 + 1, 4), (0, 0, 3, 0)]
    # Azure: one listing per plan; sync one POST per app registration and one listing to read them back.
    assert per_command(out, "Azure") == [(1, 0, 0, 0), (0, 0, 1, 0), (0, 0, 1 + 3 + 1, 3), (0, 0, 1, 0)]

    # Each cloud arrives: destination state holds every source entry, under the same key.
    source = json.loads((workdir / "resources/source/integrations.json").read_text())
    destination = json.loads((workdir / "resources/destination/integrations.json").read_text())
    assert set(destination) == set(source)
    kinds = {prefix: sorted(k for k in source if k.startswith(prefix)) for prefix in ("aws:", "gcp:", "azure:")}
    assert [len(keys) for keys in kinds.values()] == [2, 4, 3]
    keyed = [k for k in kinds["gcp:"] if destination[k].get("project_id")]
    assert len(keyed) == 1

    # The GCP hand-off: the destination's own principal (not the source's), a gcloud grant per STS account.
    handoff = workdir / "resources/destination/handoff"
    gcp = json.loads((handoff / "gcp-sts-principal.json").read_text())
    principal = default_delegate("destination")
    assert gcp["datadog_principal"] == principal != default_delegate("source")
    sts = sorted(set(kinds["gcp:"]) - set(keyed))
    assert sorted(item["state_key"] for item in gcp["service_accounts"]) == sts
    for item in gcp["service_accounts"]:
        assert item["new_in_last_sync"] and item["gcloud"].startswith(
            f"gcloud iam service-accounts add-iam-policy-binding {item['client_email']} "
            f"--member=serviceAccount:{principal} --role=roles/iam.serviceAccountTokenCreator"
        )
        assert f"  {item['gcloud']}\n" in out
    assert (
        f"GCP: the destination org's Datadog principal {principal} (the source's is {default_delegate('source')}" in out
    )
    key_email = destination[keyed[0]]["client_email"]
    assert "GCP v1 key integration(s): 1 created with the JSON key from integrations-secrets.json" in out
    assert f"no grant needed: {key_email}\n" in out and key_email not in json.dumps(gcp)

    # The AWS hand-off: both role accounts' new external IDs, shown with their role ARN.
    aws = json.loads((handoff / "aws-external-ids.json").read_text())
    for item in aws["accounts"]:
        assert f"  {item['role_arn']}: sts:ExternalId {item['external_id']}\n" in out

    # Azure: the client secrets came from the secrets file, and no secret is in state, hand-offs or output.
    secrets = json.loads((workdir / "integrations-secrets.json").read_text())
    assert sorted(f"azure:{pair}" for pair in secrets["azure"]) == kinds["azure:"]
    assert set(secrets["gcp"]) == {key_email}
    assert "Azure: 3 app registration(s) created with the client secret from integrations-secrets.json" in out
    written = [p.read_text() for p in workdir.rglob("*") if p.is_file() and p.name != "integrations-secrets.json"]
    values = [*secrets["azure"].values(), secrets["gcp"][key_email]["private_key_id"]]
    assert not [v for v in values if any(v in text for text in [*written, out])]
    assert "secrets: none of integrations-secrets.json's (" in out


def test_the_gcp_and_azure_verdicts_ignore_only_what_each_org_assigns_itself() -> None:
    state = {**make_gcp_org(3, key_account_share=0.34), **make_azure_org(2)}
    gcp, azure = demo.gcp_view(state, "source"), demo.azure_view(state)
    assert sorted(view["api"] for view in gcp.values()) == ["v1", "v2", "v2"]
    assert all("private_key" not in view and "id" not in view for view in gcp.values())
    assert all("client_secret" not in view for view in azure.values())

    # Per-org values (ids, accessible projects, errors, warnings) and list order are no difference.
    other = json.loads(json.dumps(state))
    for account in other["gcp"]["accounts"]:
        account.pop("id")
        account["accessible_projects"] = ["elsewhere"]
        account["region_filter_configs"].reverse()
    for account in other["azure"]["accounts"]:
        account["errors"], account["warnings"] = ["Invalid credentials."], ["w"]
        account["client_secret"] = "another-secret"
    assert demo.differing(gcp, demo.gcp_view(other, "destination")) == []
    assert demo.differing(azure, demo.azure_view(other)) == []

    # A changed setting, or an account missing, is.
    changed = json.loads(json.dumps(state))
    changed["gcp"]["accounts"][0]["automute"] = not changed["gcp"]["accounts"][0]["automute"]
    changed["azure"]["accounts"][1]["host_filters"] = "env:elsewhere"
    del changed["gcp"]["accounts"][2]
    emails = [a["client_email"] for a in state["gcp"]["accounts"]]
    assert demo.differing(gcp, demo.gcp_view(changed)) == sorted([emails[0], emails[2]])
    second = state["azure"]["accounts"][1]
    assert demo.differing(azure, demo.azure_view(changed)) == [f"{second['tenant_name']}:{second['client_id']}"]


def test_the_demo_seeds_both_kinds_of_gcp_account() -> None:
    assert [demo.gcp_key_share(n) for n in (0, 1)] == [0.0, 0.0]
    for n in (2, 4, 9, 40):
        keys = sum(
            "private_key" in a for a in make_gcp_org(n, key_account_share=demo.gcp_key_share(n))["gcp"]["accounts"]
        )
        assert keys == max(1, n // 4) and keys < n

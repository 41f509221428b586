"""Realistic, reproducible seed data for an emulated org's AWS integration (demo, benchmarks, soak tests): accounts
as v1 sees them (`make_aws_org`), plus v2-only settings (`with_v2_settings`)."""

from __future__ import annotations

import copy
import random
import string
from typing import Any

from datadog_sync.emulator.state import FILTER_NAMESPACES, LOG_SERVICE_IDS, NAMESPACE_RULES

ROLE_NAMES = ("DatadogIntegrationRole", "DatadogAWSIntegrationRole", "datadog-integration-role")
REGIONS = (
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "eu-west-1",
    "eu-central-1",
    "ap-southeast-1",
    "ap-northeast-1",
    "sa-east-1",
    "ca-central-1",
)
TEAMS = ("payments", "search", "platform", "data", "identity", "edge")
ENVS = ("prod", "staging", "dev")
TAG_FILTERS = ("env:prod", "team:{team}", "!env:dev", "datadog:monitored", "service:api-*", "env:prod,team:{team}")
# Real `errors[]` entries look like this (recorded: TestAccDatadogIntegrationAWS cassette, terraform-provider-datadog);
# some seeded accounts carry one.
ASSUME_ROLE_ERROR = (
    "Datadog is not authorized to perform action sts:AssumeRole\nAccount affected: {account}\n"
    "Regions affected: every region\nError was last seen 4m ago"
)


def make_aws_org(n_accounts: int, seed: int = 0, key_account_share: float = 0.1) -> dict[str, Any]:
    """A state dict (docs/emulator.md) with `n_accounts` accounts, about `key_account_share` of them key accounts.

    The same arguments always give the same state.
    """
    if n_accounts < 0 or not 0 <= key_account_share <= 1:
        raise ValueError("n_accounts must be >= 0 and key_account_share within [0, 1]")
    rng = random.Random(seed)
    n_keys = round(n_accounts * key_account_share)
    key_slots = set(rng.sample(range(n_accounts), n_keys))
    used_ids: set[str] = set()
    accounts = [_account(rng, i in key_slots, _unique_account_id(rng, used_ids)) for i in range(n_accounts)]
    return {"aws": {"installed": True, "accounts": accounts}}


def make_secrets_file(state: dict[str, Any], with_account_ids: bool = False) -> dict[str, dict[str, Any]]:
    """`{"aws": {access_key_id: secret_access_key}}` for the key accounts of a state dict.

    With `with_account_ids`, entries whose account has a numeric account id use the CLI's object form
    `{"secret_access_key": ..., "account_id": ...}`: the API never returns that id, yet /logs is keyed by it.
    """
    accounts = [a for a in state.get("aws", {}).get("accounts", []) if a.get("access_key_id")]
    out: dict[str, Any] = {}
    for account in accounts:
        secret = account["secret_access_key"]
        if with_account_ids and account.get("account_id"):
            out[account["access_key_id"]] = {"secret_access_key": secret, "account_id": account["account_id"]}
        else:
            out[account["access_key_id"]] = secret
    return {"aws": out}


def _unique_account_id(rng: random.Random, used: set[str]) -> str:
    while True:
        account_id = str(rng.randrange(10**11, 10**12))
        if account_id not in used:
            used.add(account_id)
            return account_id


def _account(rng: random.Random, key_account: bool, account_id: str) -> dict[str, Any]:
    team, env = rng.choice(TEAMS), rng.choice(ENVS)
    account: dict[str, Any] = {"account_id": account_id}
    if key_account:
        account["access_key_id"] = "AKIA" + "".join(rng.choices(string.ascii_uppercase + string.digits, k=16))
        account["secret_access_key"] = "".join(rng.choices(string.ascii_letters + string.digits + "+/", k=40))
    else:
        account["role_name"] = rng.choice(ROLE_NAMES)
        account["external_id"] = f"{rng.getrandbits(128):032x}"
    extended = rng.random() < 0.5
    account.update(
        {
            "host_tags": [f"env:{env}", f"team:{team}"] + ([f"account:{team}-{env}"] if rng.random() < 0.5 else []),
            "filter_tags": rng.sample(
                ["datadog:monitored", f"env:{env}", "!ephemeral:true", "role:web-*"], k=rng.randint(0, 2)
            ),
            "account_specific_namespace_rules": {
                ns: rng.random() < 0.5 for ns in rng.sample(NAMESPACE_RULES, k=rng.randint(0, 4))
            },
            "excluded_regions": sorted(rng.sample(REGIONS, k=rng.randint(0, 3))),
            "metrics_collection_enabled": rng.random() < 0.9,
            "resource_collection_enabled": rng.random() < 0.3,
            "extended_resource_collection_enabled": extended,
            "cspm_resource_collection_enabled": extended and rng.random() < 0.5,
            "errors": [ASSUME_ROLE_ERROR.format(account=account_id)] if rng.random() < 0.15 else [],
            "tag_filters": {
                ns: rng.choice(TAG_FILTERS).format(team=team)
                for ns in rng.sample(FILTER_NAMESPACES, k=rng.randint(0, 3))
            },
        }
    )
    region = rng.choice(REGIONS)
    lambdas = [
        f"arn:aws:lambda:{region}:{account_id}:function:datadog-forwarder-{name}"
        for name in rng.sample(["Forwarder", "LogsForwarder", f"{team}-forwarder"], k=rng.randint(0, 2))
    ]
    services = sorted(rng.sample(sorted(LOG_SERVICE_IDS), k=rng.randint(1, 3))) if lambdas else []
    account["logs"] = {"lambdas": lambdas, "services": services}
    return account


#: X-Ray services and a metric name filter as the v2 API records them (terraform-provider-datadog cassette
#: `TestAccIntegrationAwsAccount_RoleBased`; datadog-api-client-python cassette
#: `test_update_an_aws_integration_returns_aws_account_object_response`).
XRAY_CHOICES: tuple[dict[str, Any], ...] = ({"include_only": ["AWS/AppSync"]}, {"include_all": True})
METRIC_NAME_FILTER = {"namespace": "AWS/EC2", "include_only": ["CPUUtilization", "NetworkIn"]}


def with_v2_settings(state: dict[str, Any]) -> dict[str, Any]:
    """A copy of a `make_aws_org` state whose accounts also hold settings only the v2 API has (docs/emulator.md,
    "v2 fields"): every account at least one of X-Ray services, automute off, log-source tag filters and metric
    name filters (in turn, so a few accounts show them all), custom metrics and alarms on some; key accounts
    move to the `aws-us-gov` partition (GovCloud is what key auth is for). Deterministic, like `make_aws_org`."""
    out = copy.deepcopy(state)
    for i, account in enumerate(out.get("aws", {}).get("accounts", [])):
        v2: dict[str, Any] = {}
        if i % 3 != 2:
            v2["xray_services"] = copy.deepcopy(XRAY_CHOICES[i % 3])
        if i % 2 == 0:
            v2["automute_enabled"] = False
        if i % 2 == 1:
            sources = account.get("logs", {}).get("services") or ["s3"]
            team = next((t[len("team:") :] for t in account.get("host_tags", []) if t.startswith("team:")), "data")
            v2["log_tag_filters"] = [{"source": sources[0], "tags": [f"team:{team}", "env:prod"]}]
        if i % 4 == 2:
            v2["metric_name_filters"] = [copy.deepcopy(METRIC_NAME_FILTER)]
        if i % 5 == 3:
            v2["collect_custom_metrics"] = True
        if i % 5 == 4:
            v2["collect_cloudwatch_alarms"] = True
        account["v2"] = v2
        if account.get("access_key_id"):
            account["aws_partition"] = "aws-us-gov"
            logs = account.get("logs", {})
            logs["lambdas"] = [arn.replace("arn:aws:", "arn:aws-us-gov:", 1) for arn in logs.get("lambdas", [])]
    return out

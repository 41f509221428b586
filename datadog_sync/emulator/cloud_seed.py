"""Realistic, reproducible seed data for an org's GCP and Azure integrations (tests, demo, benchmarks).

The values look like the recorded ones (terraform-provider-datadog cassettes `TestAccIntegrationGcpStsBasic`,
`TestAccDatadogIntegrationAzure`): service-account emails, tags, filters, namespace configs, tenant and client UUIDs.
"""

from __future__ import annotations

import random
import string
import uuid
from typing import Any

PROJECTS = ("payments-prod", "search-prod", "data-platform", "edge-staging", "identity-dev", "ml-training")
NAMESPACES = ("pubsub", "aiplatform", "appengine", "cloudsql", "compute", "storage")
PROVIDERS = ("Microsoft.Compute", "Microsoft.Web", "Microsoft.Sql", "Microsoft.Storage")
# Real `errors[]` entries look like this (recorded: TestAccDatadogIntegrationAzure_import cassette).
AZURE_ERROR = "Invalid credentials. Datadog could not authenticate with Azure."


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _tags(rng: random.Random) -> list[str]:
    return [f"env:{rng.choice(('prod', 'staging', 'dev'))}", f"team:{rng.choice(('data', 'edge', 'platform'))}"][
        : rng.randint(0, 2)
    ]


def make_gcp_org(n_accounts: int, seed: int = 0, key_account_share: float = 0.0) -> dict[str, Any]:
    """A state dict (docs/emulator.md) with `n_accounts` GCP service accounts, about `key_account_share` of them
    v1 key accounts (with a JSON key), the rest STS. The same arguments always give the same state."""
    if n_accounts < 0 or not 0 <= key_account_share <= 1:
        raise ValueError("n_accounts must be >= 0 and key_account_share within [0, 1]")
    rng = random.Random(seed)
    key_slots = set(rng.sample(range(n_accounts), round(n_accounts * key_account_share)))
    accounts = []
    for i in range(n_accounts):
        project = f"{rng.choice(PROJECTS)}-{i}"
        rc = rng.random() < 0.7
        account: dict[str, Any] = {
            "id": _uuid(rng),
            "client_email": f"datadog-{i}@{project}.iam.gserviceaccount.com",
            "account_tags": _tags(rng),
            "automute": rng.random() < 0.5,
            "resource_collection_enabled": rc,
            "is_cspm_enabled": rc and rng.random() < 0.3,
            "is_security_command_center_enabled": rng.random() < 0.2,
            "region_filter_configs": rng.sample(("us-east1", "europe-west1", "asia-east1"), rng.randint(0, 2)),
            "metric_namespace_configs": [
                {"id": ns, "disabled": rng.random() < 0.5, "filters": []} for ns in rng.sample(NAMESPACES, 2)
            ],
            "monitored_resource_configs": [
                {"type": "gce_instance", "filters": [f"env:{rng.choice(('prod', 'staging'))}"]}
            ][: rng.randint(0, 1)],
        }
        if i in key_slots:
            key_id = "".join(rng.choices("0123456789abcdef", k=40))
            secret = "".join(rng.choices(string.ascii_letters + string.digits, k=64))
            account.update(
                project_id=project,
                type="service_account",
                private_key_id=key_id,
                private_key=f"-----BEGIN PRIVATE KEY-----\n{secret}\n-----END PRIVATE KEY-----\n",
                client_id=str(rng.randrange(10**20, 10**21)),
            )
        accounts.append(account)
    return {"gcp": {"accounts": accounts}}


def make_azure_org(n_accounts: int, seed: int = 0) -> dict[str, Any]:
    """A state dict with `n_accounts` Azure app registrations (a few tenants shared by several clients)."""
    if n_accounts < 0:
        raise ValueError("n_accounts must be >= 0")
    rng = random.Random(seed)
    tenants = [_uuid(rng) for _ in range(max(1, n_accounts // 4))]
    accounts = []
    for i in range(n_accounts):
        rc = rng.random() < 0.8
        accounts.append(
            {
                "tenant_name": tenants[i % len(tenants)],
                "client_id": _uuid(rng),
                "client_secret": "".join(rng.choices(string.ascii_letters + string.digits + ".-_~", k=40)),
                "host_filters": ",".join(_tags(rng)),
                "app_service_plan_filters": rng.choice(("", "tier:premium")),
                "container_app_filters": "",
                "automute": rng.random() < 0.5,
                "resource_collection_enabled": rc,
                "cspm_enabled": rc and rng.random() < 0.3,
                "custom_metrics_enabled": rng.random() < 0.3,
                "metrics_enabled": True,
                "metrics_enabled_default": rng.random() < 0.9,
                "usage_metrics_enabled": rng.random() < 0.9,
                "resource_provider_configs": [
                    {"namespace": p, "metrics_enabled": rng.random() < 0.5} for p in rng.sample(PROVIDERS, 2)
                ][: rng.randint(0, 2)],
                "errors": [AZURE_ERROR] if rng.random() < 0.1 else [],
            }
        )
    return {"azure": {"accounts": accounts}}


def make_cloud_secrets(state: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The secrets a sync needs for a state dict, in the form of the CLI's integrations secrets file:
    `{"gcp": {client_email: JSON key}, "azure": {"tenant_name:client_id": client_secret}}` (only non-empty parts)."""
    out: dict[str, dict[str, Any]] = {}
    for account in state.get("gcp", {}).get("accounts", []):
        if account.get("private_key"):
            fields = ("type", "project_id", "private_key_id", "private_key", "client_email", "client_id")
            out.setdefault("gcp", {})[account["client_email"]] = {k: account[k] for k in fields if k in account}
    for account in state.get("azure", {}).get("accounts", []):
        out.setdefault("azure", {})[f"{account['tenant_name']}:{account['client_id']}"] = account["client_secret"]
    return out

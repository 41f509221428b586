"""Realistic, reproducible seed data for an org's service integrations and the monitors that notify them (tests,
demo, benchmarks), and the matching secrets file.

Values look like the recorded ones (cassettes named in services_v1.py, services_v2.py, services_accounts.py and
services_confluent_okta.py): webhook URLs and payloads, PagerDuty routing keys, Slack `#channels`, Opsgenie regions,
Teams tenant/team/channel ids, Fastly and Confluent sub-resources. Monitors name the handles as documented on
https://docs.datadoghq.com/monitors/notify/ (`@webhook-<name>`, `@pagerduty-<service>`, `@slack-<account>-<channel>`)
and as seen in public configs (`@opsgenie-<service>`, `@teams-<handle>`).
"""

from __future__ import annotations

import hashlib
import random
import string
import uuid
from typing import Any

TEAMS = ("payments", "search", "platform", "identity", "edge", "data")
SLACK_ACCOUNTS = ("Datadog", "ops-workspace")


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _hex(rng: random.Random, n: int = 32) -> str:
    return "".join(rng.choices("0123456789abcdef", k=n))


def _token(rng: random.Random, n: int = 32) -> str:
    return "".join(rng.choices(string.ascii_letters + string.digits, k=n))


def make_service_org(
    n_webhooks: int = 0,
    n_pagerduty: int = 0,
    n_opsgenie: int = 0,
    n_slack_channels: int = 0,
    n_teams_handles: int = 0,
    n_fastly: int = 0,
    n_cloudflare: int = 0,
    n_confluent: int = 0,
    n_okta: int = 0,
    n_custom_variables: int = 0,
    monitors: bool = True,
    seed: int = 0,
) -> dict[str, Any]:
    """A state dict (docs/emulator.md, Service integrations) with that many objects of each kind, and, when
    `monitors`, one monitor per notification handle (webhook, PagerDuty service, Slack channel, Opsgenie service, Teams
    handle) naming it in its message. Half the custom variables are secret. Teams handles alternate between Workflows
    handles and tenant-based handles of one connected tenant. The same arguments always give the same state."""
    counts = (n_webhooks, n_pagerduty, n_opsgenie, n_slack_channels, n_teams_handles, n_fastly, n_cloudflare)
    if min((*counts, n_confluent, n_okta, n_custom_variables)) < 0:
        raise ValueError("counts must be >= 0")
    rng = random.Random(seed)
    services: dict[str, Any] = {}
    handles: list[str] = []
    if n_custom_variables:
        services["custom_variables"] = [
            {"name": f"VAR_{i}_{rng.choice(TEAMS).upper()}", "value": _token(rng, 24), "is_secret": i % 2 == 1}
            for i in range(n_custom_variables)
        ]
    if n_webhooks:
        services["webhooks"] = []
        for i in range(n_webhooks):
            name = f"{rng.choice(TEAMS)}-hook-{i}"
            hook: dict[str, Any] = {"name": name, "url": f"https://hooks.example.com/{name}/{_hex(rng, 12)}"}
            if rng.random() < 0.3:
                hook.update(payload='{"text": "$EVENT_TITLE"}', encode_as=rng.choice(("json", "form")))
            if rng.random() < 0.2:
                hook["custom_headers"] = '{"X-Team": "' + name.split("-")[0] + '"}'
            services["webhooks"].append(hook)
            handles.append(f"@webhook-{name}")
    if n_pagerduty:
        names = [f"{rng.choice(TEAMS)}_service_{i}" for i in range(n_pagerduty)]
        services["pagerduty"] = {
            "subdomain": "example",
            "schedules": ["https://example.pagerduty.com/schedules/X123VF"],
            "api_token": _token(rng, 20),
            "services": [{"service_name": n, "service_key": _hex(rng)} for n in names],
        }
        handles += [f"@pagerduty-{n}" for n in names]
    if n_slack_channels:
        slack: dict[str, list[dict[str, Any]]] = {}
        for i in range(n_slack_channels):
            account, channel = SLACK_ACCOUNTS[i % len(SLACK_ACCOUNTS)], f"#{rng.choice(TEAMS)}-alerts-{i}"
            slack.setdefault(account, []).append({"name": channel, "display": {"snapshot": rng.random() < 0.7}})
            handles.append(f"@slack-{account}-{channel[1:]}")
        services["slack"] = slack
    if n_opsgenie:
        services["opsgenie"] = []
        for i in range(n_opsgenie):
            name, region = f"{rng.choice(TEAMS)}-og-{i}", rng.choice(("us", "eu", "custom"))
            service: dict[str, Any] = {"id": _uuid(rng), "name": name, "region": region, "opsgenie_api_key": _uuid(rng)}
            service["custom_url"] = f"https://opsgenie.example.com/{i}" if region == "custom" else None
            services["opsgenie"].append(service)
            handles.append(f"@opsgenie-{name}")
    if n_teams_handles:
        tenant_id, team_id = _uuid(rng), _uuid(rng)
        channels = [
            {"channel_id": f"19:{_token(rng, 32)}@thread.tacv2", "channel_name": f"Alerts {i}", "is_primary": i == 0}
            for i in range((n_teams_handles + 1) // 2)
        ]
        services["ms_teams_tenants"] = [
            {
                "tenant_id": tenant_id,
                "tenant_name": "Example, Inc.",
                "teams": [{"team_id": team_id, "team_name": "Operations", "channels": channels}],
            }
        ]
        services["tenant_handles"], services["workflows_handles"] = [], []
        for i in range(n_teams_handles):
            name = f"{rng.choice(TEAMS)}-teams-{i}"
            if i % 2 == 0:
                channel_id = str(channels[i // 2]["channel_id"])
                services["tenant_handles"].append(
                    {
                        "id": _uuid(rng),
                        "name": name,
                        "tenant_id": tenant_id,
                        "team_id": team_id,
                        "channel_id": channel_id,
                    }
                )
            else:
                url = f"https://prod-{i}.westus.logic.azure.com:443/workflows/{_hex(rng)}"
                services["workflows_handles"].append({"id": _uuid(rng), "name": name, "url": url})
            handles.append(f"@teams-{name}")
    if n_fastly:
        services["fastly"] = [
            {
                "id": hashlib.md5(f"fastly-{i}".encode()).hexdigest(),
                "name": f"fastly-{rng.choice(TEAMS)}-{i}",
                "api_key": _token(rng),
                "services": [{"id": _token(rng, 22), "tags": [f"team:{rng.choice(TEAMS)}"]}][: rng.randint(0, 1)],
            }
            for i in range(n_fastly)
        ]
    if n_cloudflare:
        services["cloudflare"] = [
            {
                "id": hashlib.md5(f"cloudflare-{i}".encode()).hexdigest(),
                "name": f"cloudflare-{rng.choice(TEAMS)}-{i}",
                "api_key": _token(rng, 40),  # an API token: no email needed
                "email": "",
                "resources": rng.sample(["web", "dns", "lb", "worker"], rng.randint(0, 2)),
                "zones": [],
            }
            for i in range(n_cloudflare)
        ]
    if n_confluent:
        services["confluent_cloud"] = [
            {
                "id": _hex(rng),
                "api_key": f"CONFLUENTKEY{i:04d}{_token(rng, 4).upper()}",
                "api_secret": _token(rng, 64),
                "tags": [f"team:{rng.choice(TEAMS)}"],
                "resources": [
                    {"id": f"lkc-{_token(rng, 6).lower()}", "resource_type": "kafka", "tags": ["env:prod"]},
                ][: rng.randint(0, 1)],
            }
            for i in range(n_confluent)
        ]
    if n_okta:
        services["okta"] = [
            {
                "id": _uuid(rng),
                "name": f"okta-{rng.choice(TEAMS)}-{i}",
                "domain": f"https://example-{i}.okta.com/",
                "auth_method": "oauth",
                "client_id": _token(rng, 20),
                "client_secret": _token(rng, 40),
            }
            for i in range(n_okta)
        ]
    state: dict[str, Any] = {"services": services}
    if monitors and handles:
        state["monitors"] = [
            {
                "id": 1000 + i,
                "name": f"[{handle.split('-', 1)[0][1:]}] alert {i}",
                "message": f"Something is wrong. Notify {handle}",
                "tags": [f"team:{rng.choice(TEAMS)}"],
            }
            for i, handle in enumerate(handles)
        ]
    return state


def make_service_secrets(state: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The secrets a sync needs for a state dict, as sections of the CLI's integrations secrets file (issue 14):
    `webhooks` {secret custom variable: value}, `pagerduty` {service_name: service_key}, `opsgenie` {name: api key},
    `ms_teams` {Workflows handle name: url}, `fastly` / `cloudflare` / `okta` {account name: key or client secret},
    `confluent_cloud` {api_key: api_secret}. Only non-empty sections."""
    services = state.get("services", {})
    out: dict[str, dict[str, Any]] = {}
    for var in services.get("custom_variables", []):
        if var.get("is_secret"):
            out.setdefault("webhooks", {})[var["name"]] = var["value"]
    for service in services.get("pagerduty", {}).get("services", []):
        out.setdefault("pagerduty", {})[service["service_name"]] = service["service_key"]
    for service in services.get("opsgenie", []):
        out.setdefault("opsgenie", {})[service["name"]] = service["opsgenie_api_key"]
    for handle in services.get("workflows_handles", []):
        out.setdefault("ms_teams", {})[handle["name"]] = handle["url"]
    for key in ("fastly", "cloudflare"):
        for account in services.get(key, []):
            out.setdefault(key, {})[account["name"]] = account["api_key"]
    for account in services.get("confluent_cloud", []):
        out.setdefault("confluent_cloud", {})[account["api_key"]] = account["api_secret"]
    for account in services.get("okta", []):
        out.setdefault("okta", {})[account["name"]] = account.get("client_secret") or account.get("api_key")
    return out

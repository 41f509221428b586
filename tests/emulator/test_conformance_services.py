"""Replays every interaction of the recorded service-integration cassettes (webhooks, PagerDuty, Slack, Opsgenie,
Microsoft Teams, Fastly, Cloudflare, Confluent Cloud, Okta) against the emulator, like test_conformance_gcp_azure.py.

One fresh org per cassette file, interactions in recorded order, status and body shape compared, error bodies equal,
and the values of every answer about one object equal to the recorded ones, ids aside. Three additions make the replay
org look like the recording org: its `api_date` is the recording day; what the recording org already held besides
the cassette's own objects (the PagerDuty services and schedules of its legacy GET, the Microsoft tenant, team and
channel its Teams answers name) is seeded; and the ids the recording's creates and updates answered are mapped to the
emulator's as they come.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from datadog_sync.emulator import Emulator, OrgSpec
from tests.emulator.test_conformance import MISSING, REFERENCE, load_interactions, shape_mismatch
from tests.emulator.test_conformance_gcp_azure import api_date, without_ids

FOLDER = REFERENCE / "cassettes" / "services"
FAMILIES = (
    "cloudflare",
    "confluent-cloud",
    "fastly",
    "microsoft-teams",
    "okta",
    "opsgenie",
    "pagerduty",
    "slack",
    "webhooks",
)
EXPECTED = 279  # interactions recorded under cassettes/services
#: Deliberate deviations (docs/emulator.md, Service integrations): the 6 `GET https://ip-ranges.datadoghq.com/` of the
#: two Slack cassettes (another host, not an API: the terraform provider's start-up check), 3 in each.
EXPECTED_MATCHES = 273
IP_RANGES = "GET /:"


def recording_org(interactions: list[dict[str, Any]], date: str) -> dict[str, Any]:
    """The `services` seed that gives the replay org what the recording org held before the cassette started."""
    services: dict[str, Any] = {"api_date": date}
    created = {json.loads(r["body"]).get("service_name") for r in interactions if r["body"] and r["method"] == "POST"}
    for rec in interactions:
        body = rec["response"]
        if rec["method"] == "GET" and rec["path"] == "/api/v1/integration/pagerduty" and isinstance(body, dict):
            services["pagerduty"] = {
                "subdomain": body.get("subdomain", ""),
                "schedules": body.get("schedules", []),
                "api_token": "recorded",
                "services": [
                    {"service_name": s["service_name"], "service_key": "recorded"}
                    for s in body.get("services", [])
                    if s["service_name"] not in created
                ],
            }
            break
    tenants: dict[str, dict[str, Any]] = {}
    for rec in interactions:
        data = (rec["response"] or {}).get("data") if isinstance(rec["response"], dict) else None
        items = data if isinstance(data, list) else [data] if isinstance(data, dict) else []
        for item in items:
            attrs = item.get("attributes", {})
            if item.get("type") == "ms-teams-tenant-based-handle-info":
                tenant = tenants.setdefault(attrs["tenant_id"], {"tenant_id": attrs["tenant_id"], "teams": {}})
                tenant["tenant_name"] = attrs["tenant_name"]
                team = tenant["teams"].setdefault(attrs["team_id"], {"team_id": attrs["team_id"], "channels": {}})
                team["team_name"] = attrs["team_name"]
                channel = team["channels"].setdefault(attrs["channel_id"], {"channel_id": attrs["channel_id"]})
                channel["channel_name"] = attrs["channel_name"]
            if item.get("type") == "ms-teams-channel-info":
                tenant_name, team_name, channel_name = aiohttp.helpers.URL(rec["path"]).parts[
                    -3:
                ]  # type: ignore[attr-defined]
                tenant = tenants.setdefault(attrs["tenant_id"], {"tenant_id": attrs["tenant_id"], "teams": {}})
                tenant["tenant_name"] = tenant_name
                team = tenant["teams"].setdefault(attrs["team_id"], {"team_id": attrs["team_id"], "channels": {}})
                team["team_name"] = team_name
                channel = team["channels"].setdefault(item["id"], {"channel_id": item["id"]})
                channel.update(channel_name=channel_name, is_primary=attrs["is_primary"])
    if tenants:
        services["ms_teams_tenants"] = [
            {**t, "teams": [{**team, "channels": list(team["channels"].values())} for team in t["teams"].values()]}
            for t in tenants.values()
        ]
    return services


def value_problem(body: Any, recorded: Any) -> str | None:
    """Answers about one object must equal the recorded values, ids aside; listed objects the recording also listed
    (by name) must too. Lists from the recording org also hold objects of other runs: those are not compared."""
    if isinstance(recorded, dict) and isinstance(recorded.get("data"), list):
        ours = {_key(item): item for item in body["data"]}
        for item in recorded["data"]:
            twin = ours.get(_key(item))
            if twin is not None and without_ids(twin) != without_ids(item):
                return f"listed {twin} != recorded {item}"
        return None
    if isinstance(recorded, dict) and "services" in recorded and "api_token" in recorded:  # legacy PagerDuty GET
        return None  # the recording org's services change between runs; shapes are compared
    if isinstance(recorded, list):
        return None
    if without_ids(body) != without_ids(recorded):
        return f"values {body} != recorded {recorded}"
    return None


def _key(item: dict[str, Any]) -> Any:
    attrs = item.get("attributes", {})
    return attrs.get("name", attrs.get("api_key", item.get("id")))


def problem_of(status: int, body: Any, text: str, rec: dict[str, Any]) -> str | None:
    if status != rec["status"]:
        return f"status {status} != recorded {rec['status']} ({text[:300]})"
    if rec["status"] >= 400:
        return None if body == rec["response"] else f"error body {body} != recorded {rec['response']}"
    if rec["response"] is None:
        return None if body is None else f"recorded no body, got {text[:200]}"
    return shape_mismatch(body, rec["response"]) or value_problem(body, rec["response"])


async def replay(folder: Path) -> tuple[int, int, list[str]]:
    files = sorted(folder.rglob("*.yaml"))
    orgs = [OrgSpec(f"org{i}", f"api-{i}", f"app-{i}") for i in range(len(files))]
    total, matched, failures = 0, 0, []
    async with Emulator(orgs) as emu, aiohttp.ClientSession() as session:
        for org, path in zip(orgs, files, strict=True):
            interactions = load_interactions(path)
            emu.seed(org.name, {"services": recording_org(interactions, api_date(path))})
            headers = {"DD-API-KEY": org.api_key, "DD-APPLICATION-KEY": org.app_key, "Content-Type": "application/json"}
            ids: dict[str, str] = {}  # recorded id -> the emulator's
            for n, rec in enumerate(interactions):
                total += 1
                url, data = emu.url + rec["path"], rec["body"]
                for recorded_id, ours in ids.items():
                    url, data = url.replace(recorded_id, ours), data and data.replace(recorded_id, ours)
                async with session.request(rec["method"], url, data=data, headers=headers) as resp:
                    text = await resp.text()
                    status, body = resp.status, json.loads(text) if text else None
                recorded = rec["response"]
                if status in (200, 201) and isinstance(recorded, dict) and isinstance(recorded.get("data"), dict):
                    if isinstance(body, dict) and isinstance(body.get("data"), dict) and "id" in body["data"]:
                        ids.setdefault(recorded["data"]["id"], body["data"]["id"])
                problem = problem_of(status, body, text, rec)
                if problem:
                    failures.append(f"{path.relative_to(folder)}#{n} {rec['method']} {rec['path']}: {problem}")
                else:
                    matched += 1
    return total, matched, failures


async def test_replays_every_recorded_service_integration_interaction() -> None:
    if not FOLDER.is_dir():
        pytest.skip(MISSING.replace(str(REFERENCE / "cassettes" / "v1"), str(FOLDER)))
    assert sorted(p.name for p in FOLDER.iterdir() if p.is_dir()) == sorted(FAMILIES)
    total, matched, failures = await replay(FOLDER)
    print(f"conformance services: {matched}/{total} interactions match")
    for failure in failures:
        print("  mismatch:", failure)
    assert total == EXPECTED, "the reference cassettes changed; review EXPECTED* and docs/emulator.md"
    assert matched >= EXPECTED_MATCHES, "\n".join(failures)
    assert all(IP_RANGES in f for f in failures), "\n".join(failures)

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

from datadog_sync.emulator import Emulator
from tests.emulator.replay import (
    answer_problem,
    api_date,
    load_interactions,
    replay,
    report,
    shape_mismatch,
    without_ids,
)
from tests.emulator.test_conformance import MISSING, REFERENCE

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
    return answer_problem(status, body, text, rec, success_problem)


def success_problem(body: Any, recorded: Any) -> str | None:
    if recorded is None:
        return None if body is None else f"recorded no body, got {json.dumps(body)[:200]}"
    return shape_mismatch(body, recorded) or value_problem(body, recorded)


def seeded_recording_org(emu: Emulator, org: str, path: Path) -> list[dict[str, Any]]:
    interactions = load_interactions(path)
    emu.seed(org, {"services": recording_org(interactions, api_date(path))})
    return interactions


def learn_answered_id(rec: dict[str, Any], status: int, body: Any, ids: dict[str, str]) -> None:
    """The id a create or update answered (the Okta PATCH's new one included), first answer kept."""
    recorded = rec["response"]
    if status in (200, 201) and isinstance(recorded, dict) and isinstance(recorded.get("data"), dict):
        if isinstance(body, dict) and isinstance(body.get("data"), dict) and "id" in body["data"]:
            ids.setdefault(recorded["data"]["id"], body["data"]["id"])


async def test_replays_every_recorded_service_integration_interaction() -> None:
    if not FOLDER.is_dir():
        pytest.skip(MISSING.replace(str(REFERENCE / "cassettes" / "v1"), str(FOLDER)))
    assert sorted(p.name for p in FOLDER.iterdir() if p.is_dir()) == sorted(FAMILIES)
    files = sorted(FOLDER.rglob("*.yaml"))
    total, matched, failures = await replay(
        files, lambda path: str(path.relative_to(FOLDER)), seeded_recording_org, problem_of, learn_answered_id
    )
    report("conformance services", total, matched, failures)
    assert total == EXPECTED, "the reference cassettes changed; review EXPECTED* and docs/emulator.md"
    assert matched >= EXPECTED_MATCHES, "\n".join(failures)
    assert all(IP_RANGES in f for f in failures), "\n".join(failures)

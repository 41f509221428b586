"""Replays every interaction of the real GCP and Azure cassettes against the emulator, like test_conformance.py.

One fresh org per cassette file, interactions in recorded order, status and body shape compared (error bodies must be
equal). Three additions, each making the replay org look like the recording org: the org's `api_date` is the
recording date (the `.frozen` / `.freeze` file beside the cassette), so it shows the fields the API showed that day;
its GCP principal is the one the recording answered; and the GCP account ids the recording's creates answered are
mapped to the emulator's as they come. Answers about one account (a GCP create or update, and each element of a list
that names an account the recording also listed) must then equal the recorded values, ids aside.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

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

FOLDERS = {name: REFERENCE / "cassettes" / name for name in ("gcp", "azure")}
EXPECTED = {"gcp": 114, "azure": 44}  # interactions recorded
#: The deliberate deviations (docs/emulator.md, GCP and Azure): the logs-archive calls of the two logs-archive
#: cassettes (another API, not emulated): 5 in TestAccDatadogLogsArchiveGCS_basic, 5 in ..._LogsArchiveAzure_basic.
EXPECTED_MATCHES = {"gcp": 109, "azure": 39}


def recorded_delegate(interactions: list[dict[str, Any]]) -> str | None:
    for rec in interactions:
        data = (rec["response"] or {}).get("data") if isinstance(rec["response"], dict) else None
        if isinstance(data, dict) and data.get("type") == "gcp_sts_delegate":
            return data["attributes"]["delegate_account_email"]
    return None


def azure_bystander(interactions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """An app registration the recording org held besides the cassette's own (recorded lists come from shared
    orgs): the replay org holds it too, so that deleting the cassette's last pair leaves the org installed."""
    sent = {identity(json.loads(rec["body"])) for rec in interactions if rec["body"]}
    for rec in interactions:
        if rec["method"] == "GET" and rec["path"].endswith("/azure") and isinstance(rec["response"], list):
            others = [item for item in rec["response"] if identity(item) not in sent]
            return [{**others[0], "client_secret": "bystander"}] if others else []
    return []


def identity(item: Any) -> Any:
    """What names an account in a listing: the GCP client email (v2 under `attributes`) or the Azure pair."""
    if not isinstance(item, dict):
        return None
    item = item.get("attributes", item)
    if "tenant_name" in item:
        return (item["tenant_name"], item.get("client_id"))
    return item.get("client_email")


def value_problem(body: Any, recorded: Any) -> str | None:
    data = recorded.get("data") if isinstance(recorded, dict) else None
    if isinstance(data, dict) and data.get("type") in ("gcp_service_account", "gcp_sts_delegate"):
        if without_ids(body) != without_ids(recorded):
            return f"values {body} != recorded {recorded}"
        return None
    listed = data if isinstance(data, list) else recorded if isinstance(recorded, list) else None
    ours = body.get("data") if isinstance(body, dict) else body
    if listed is None or not isinstance(ours, list):
        return None
    by_identity = {identity(item): item for item in listed}
    for item in ours:
        twin = by_identity.get(identity(item))
        if twin is not None and without_ids(item) != without_ids(twin):
            return f"listed {item} != recorded {twin}"
    return None


def problem_of(status: int, body: Any, text: str, rec: dict[str, Any]) -> str | None:
    return answer_problem(status, body, text, rec, success_problem)


def success_problem(body: Any, recorded: Any) -> str | None:
    return shape_mismatch(body, recorded) or value_problem(body, recorded)


def recording_org(emu: Emulator, org: str, path: Path) -> list[dict[str, Any]]:
    """Seeds the org as the recording org was that day (its api_date, GCP principal and Azure bystander)."""
    interactions = load_interactions(path) if yaml.safe_load(path.read_text()).get("interactions") else []
    date = api_date(path)
    emu.seed(org, {"gcp": {"api_date": date, "delegate": recorded_delegate(interactions)}})
    emu.seed(org, {**emu.dump(org), "azure": {"api_date": date, "accounts": azure_bystander(interactions)}})
    return interactions


def learn_gcp_account_id(rec: dict[str, Any], status: int, body: Any, ids: dict[str, str]) -> None:
    recorded_data = (rec["response"] or {}).get("data") if isinstance(rec["response"], dict) else None
    if isinstance(recorded_data, dict) and recorded_data.get("type") == "gcp_service_account" and status == 201:
        ids[recorded_data["id"]] = body["data"]["id"]


@pytest.mark.parametrize("name", sorted(FOLDERS))
async def test_replays_every_recorded_gcp_and_azure_interaction(name: str) -> None:
    folder = FOLDERS[name]
    if not folder.is_dir():
        pytest.skip(MISSING.replace(str(REFERENCE / "cassettes" / "v1"), str(folder)))
    files = sorted(folder.rglob("*.yaml"))
    total, matched, failures = await replay(
        files, lambda path: str(path.relative_to(folder)), recording_org, problem_of, learn_gcp_account_id
    )
    report(f"conformance {name}", total, matched, failures)
    assert total == EXPECTED[name], "the reference cassettes changed; review EXPECTED* and docs/emulator.md"
    assert matched >= EXPECTED_MATCHES[name], "\n".join(failures)
    assert all("/logs/config/archives" in f for f in failures), "\n".join(failures)


def test_value_comparison_ignores_ids_only() -> None:
    recorded = {"data": [{"id": "a", "attributes": {"client_email": "e", "automute": False}}]}
    assert (
        value_problem({"data": [{"id": "b", "attributes": {"client_email": "e", "automute": False}}]}, recorded) is None
    )
    assert value_problem({"data": [{"id": "b", "attributes": {"client_email": "e", "automute": True}}]}, recorded)
    assert value_problem(
        [{"tenant_name": "t", "client_id": "c", "x": 1}], [{"tenant_name": "t", "client_id": "c", "x": 2}]
    )
    assert (
        value_problem([{"tenant_name": "t", "client_id": "other", "x": 1}], [{"tenant_name": "t", "client_id": "c"}])
        is None
    )

"""Replays every interaction of the real v1 AWS cassettes against the emulator and compares status and body shape.

One fresh org per cassette file, interactions in recorded order. The recordings come from shared orgs holding
other accounts, so a recorded list may have more elements than the emulator's; each emulator element must match
the shape of at least one recorded element. Error bodies must match exactly (same ids are replayed).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest
import yaml

from datadog_sync.emulator import Emulator, OrgSpec

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = Path(os.environ.get("DD_SYNC_REFERENCE") or ROOT.parent / "shared" / "reference")
CASSETTES = REFERENCE / "cassettes" / "v1"
EXPECTED_INTERACTIONS = 119
EXPECTED_MATCHES = 119  # every recorded v1 interaction; docs/emulator.md lists the deliberate deviations

#: Shown in the default test summary (``-rs`` in pyproject's addopts): a silent skip would pass for conformance.
MISSING = (
    f"reference cassettes not found at {CASSETTES}: the emulator's conformance with real recorded traffic was "
    "NOT checked; README.md (Running the tests) says how to get them"
)


def load_interactions(path: Path) -> list[dict[str, Any]]:
    """Normalise vcrpy and go-vcr v2 cassettes to {method, path, body, status, response}."""
    data = yaml.safe_load(path.read_text())
    out = []
    for item in data["interactions"]:
        req, resp = item["request"], item["response"]
        url = urlsplit(req.get("uri") or req["url"])
        if isinstance(resp.get("status"), dict):  # vcrpy
            status, text = resp["status"]["code"], resp["body"]["string"]
        else:  # go-vcr v2
            status, text = resp["code"], resp["body"]
        out.append(
            {
                "method": req["method"],
                "path": url.path + (f"?{url.query}" if url.query else ""),
                "body": req.get("body") or None,
                "status": status,
                "response": json.loads(text) if text.strip() else None,
            }
        )
    return out


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return type(value).__name__


def shape_mismatch(got: Any, recorded: Any, where: str = "$") -> str | None:
    """None if `got` has the shape of `recorded`, else a description of the first difference."""
    if isinstance(recorded, dict):
        if not isinstance(got, dict):
            return f"{where}: expected object, got {json_type(got)}"
        if got.keys() != recorded.keys():
            return f"{where}: keys {sorted(got)} != recorded {sorted(recorded)}"
        for key in recorded:
            problem = shape_mismatch(got[key], recorded[key], f"{where}.{key}")
            if problem:
                return problem
        return None
    if isinstance(recorded, list):
        if not isinstance(got, list):
            return f"{where}: expected array, got {json_type(got)}"
        if not recorded:
            return None if not got else f"{where}: recorded [] but got {len(got)} elements"
        for i, element in enumerate(got):
            problems = [shape_mismatch(element, r, f"{where}[{i}]") for r in recorded]
            if all(problems):
                return problems[0]
        return None
    if json_type(got) != json_type(recorded):
        return f"{where}: expected {json_type(recorded)}, got {json_type(got)}"
    return None


def cassette_files() -> list[Path]:
    return sorted(CASSETTES.glob("*/*.yaml"))


@pytest.mark.skipif(not CASSETTES.is_dir(), reason=MISSING)
async def test_replays_every_recorded_v1_interaction() -> None:
    files = cassette_files()
    orgs = [OrgSpec(f"org{i}", f"api-{i}", f"app-{i}") for i in range(len(files))]
    total, matched, failures = 0, 0, []
    async with Emulator(orgs) as emu, aiohttp.ClientSession() as session:
        for org, path in zip(orgs, files, strict=True):
            headers = {"DD-API-KEY": org.api_key, "DD-APPLICATION-KEY": org.app_key, "Content-Type": "application/json"}
            for n, rec in enumerate(load_interactions(path)):
                total += 1
                url = emu.url + rec["path"]
                async with session.request(rec["method"], url, data=rec["body"], headers=headers) as resp:
                    text = await resp.text()
                    status, body = resp.status, json.loads(text) if text else None
                problem = None
                if status != rec["status"]:
                    problem = f"status {status} != recorded {rec['status']} ({text})"
                elif rec["status"] >= 400 and body != rec["response"]:
                    problem = f"error body {body} != recorded {rec['response']}"
                else:
                    problem = shape_mismatch(body, rec["response"])
                if problem is None and isinstance(body, dict) and "external_id" in body:
                    if not re.fullmatch(r"[0-9a-f]{32}", body["external_id"]):
                        problem = f"external_id {body['external_id']!r} is not 32 hex characters"
                if problem:
                    failures.append(f"{path.parent.name}/{path.name}#{n} {rec['method']} {rec['path']}: {problem}")
                else:
                    matched += 1
    print(f"conformance: {matched}/{total} interactions match")
    for failure in failures:
        print("  mismatch:", failure)
    assert total == EXPECTED_INTERACTIONS, "the reference cassettes changed; review EXPECTED_* and docs/emulator.md"
    assert matched >= EXPECTED_MATCHES, "\n".join(failures)


def test_shape_comparison_catches_differences() -> None:
    recorded = {"accounts": [{"account_id": "1", "errors": []}, {"access_key_id": "A", "errors": ["x"]}]}
    assert shape_mismatch({"accounts": []}, recorded) is None
    assert shape_mismatch({"accounts": [{"access_key_id": "B", "errors": []}]}, recorded) is None
    assert shape_mismatch({"accounts": [{"account_id": 1, "errors": []}]}, recorded)
    assert shape_mismatch({"accounts": [{"account_id": "1"}]}, recorded)
    assert shape_mismatch({"filters": [{"tag_filter_str": "a"}]}, {"filters": [{"tag_filter_str": None}]})
    assert shape_mismatch([1], []) is not None


def test_missing_cassettes_are_named_in_the_default_test_summary(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
    env["DD_SYNC_REFERENCE"] = str(tmp_path / "absent")
    test = f"{Path(__file__).relative_to(ROOT)}::test_replays_every_recorded_v1_interaction"
    argv = [sys.executable, "-m", "pytest", "-q", "--no-cov", "-p", "no:cacheprovider", test]
    proc = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 skipped" in proc.stdout
    assert f"SKIPPED [1] {test.split('::')[0]}" in proc.stdout
    assert f"reference cassettes not found at {tmp_path / 'absent'}" in proc.stdout and "NOT checked" in proc.stdout


CASSETTES_V2 = REFERENCE / "cassettes" / "v2"
EXPECTED_V2_INTERACTIONS = 101
EXPECTED_V2_MATCHES = 100  # all but the ccm_config DELETE; docs/emulator.md lists the deliberate deviations
#: Values that differ by nature between two servers: ids, timestamps, generated external IDs and names.
VOLATILE = {"id", "created_at", "modified_at", "external_id", "event_source_name"}


def _body(text: str | None) -> Any:
    return json.loads(text) if text else None


def recorded_external_ids(interactions: list[dict[str, Any]]) -> list[str]:
    """External IDs the recorded requests send: the recording org had generated them, so the replay org has too."""
    found = []
    for rec in interactions:
        attrs = ((_body(rec["body"]) or {}).get("data") or {}).get("attributes") or {}
        external_id = (attrs.get("auth_config") or {}).get("external_id")
        if external_id:
            found.append(external_id)
    return sorted(set(found))


def without_volatile(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_volatile(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [without_volatile(v) for v in value]
    return value


def v2_problem(status: int, body: Any, text: str, rec: dict[str, Any]) -> str | None:
    if status != rec["status"]:
        return f"status {status} != recorded {rec['status']} ({text})"
    if rec["status"] >= 400:
        return None if body == rec["response"] else f"error body {body} != recorded {rec['response']}"
    problem = shape_mismatch(body, rec["response"])
    data = (rec["response"] or {}).get("data")
    # One account (or ccm config) answered for a request replayed as recorded: every value must match too.
    if problem is None and isinstance(data, dict) and data.get("type") in ("account", "ccm_config"):
        if without_volatile(body) != without_volatile(rec["response"]):
            problem = f"values {without_volatile(body)} != recorded {without_volatile(rec['response'])}"
    return problem


@pytest.mark.skipif(not CASSETTES_V2.is_dir(), reason=MISSING.replace(str(CASSETTES), str(CASSETTES_V2)))
async def test_replays_every_recorded_v2_interaction() -> None:
    """Like the v1 replay, plus: config ids (per org) are mapped from the recorded ones to the emulator's as they
    are created, and the external IDs the recorded requests send are seeded as generated by the replay org."""
    files = sorted(CASSETTES_V2.glob("*/*.yaml"))
    orgs = [OrgSpec(f"org{i}", f"api-{i}", f"app-{i}") for i in range(len(files))]
    total, matched, failures = 0, 0, []
    async with Emulator(orgs) as emu, aiohttp.ClientSession() as session:
        for org, path in zip(orgs, files, strict=True):
            interactions = load_interactions(path)
            emu.seed(org.name, {"aws": {"external_ids": recorded_external_ids(interactions)}})
            headers = {"DD-API-KEY": org.api_key, "DD-APPLICATION-KEY": org.app_key, "Content-Type": "application/json"}
            ids: dict[str, str] = {}  # recorded config id -> the emulator's
            for n, rec in enumerate(interactions):
                total += 1
                url = emu.url + rec["path"]
                for recorded_id, ours in ids.items():
                    url = url.replace(recorded_id, ours)
                async with session.request(rec["method"], url, data=rec["body"], headers=headers) as resp:
                    text = await resp.text()
                    status, body = resp.status, _body(text)
                problem = v2_problem(status, body, text, rec)
                recorded_data = (rec["response"] or {}).get("data")
                if isinstance(recorded_data, dict) and recorded_data.get("type") == "account" and status == 200:
                    ids[recorded_data["id"]] = body["data"]["id"]
                if problem:
                    failures.append(f"{path.parent.name}/{path.name}#{n} {rec['method']} {rec['path']}: {problem}")
                else:
                    matched += 1
    print(f"conformance v2: {matched}/{total} interactions match")
    for failure in failures:
        print("  mismatch:", failure)
    assert total == EXPECTED_V2_INTERACTIONS, "the reference cassettes changed; review EXPECTED_V2_* and docs"
    assert matched >= EXPECTED_V2_MATCHES, "\n".join(failures)

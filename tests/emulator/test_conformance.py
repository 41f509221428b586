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

import pytest

from datadog_sync.emulator import Emulator
from tests.emulator.replay import answer_problem, load_interactions, load_only, replay, report, shape_mismatch

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


def cassette_files() -> list[Path]:
    return sorted(CASSETTES.glob("*/*.yaml"))


def v1_problem(status: int, body: Any, text: str, rec: dict[str, Any]) -> str | None:
    return answer_problem(status, body, text, rec, v1_answer_problem)


def v1_answer_problem(body: Any, recorded: Any) -> str | None:
    problem = shape_mismatch(body, recorded)
    if problem is None and isinstance(body, dict) and "external_id" in body:
        if not re.fullmatch(r"[0-9a-f]{32}", body["external_id"]):
            problem = f"external_id {body['external_id']!r} is not 32 hex characters"
    return problem


def cassette_label(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


@pytest.mark.skipif(not CASSETTES.is_dir(), reason=MISSING)
async def test_replays_every_recorded_v1_interaction() -> None:
    total, matched, failures = await replay(cassette_files(), cassette_label, load_only, v1_problem)
    report("conformance", total, matched, failures)
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
    return answer_problem(status, body, text, rec, v2_answer_problem)


def v2_answer_problem(body: Any, recorded: Any) -> str | None:
    problem = shape_mismatch(body, recorded)
    data = (recorded or {}).get("data")
    # One account (or ccm config) answered for a request replayed as recorded: every value must match too.
    if problem is None and isinstance(data, dict) and data.get("type") in ("account", "ccm_config"):
        if without_volatile(body) != without_volatile(recorded):
            problem = f"values {without_volatile(body)} != recorded {without_volatile(recorded)}"
    return problem


def seeded_external_ids(emu: Emulator, org: str, path: Path) -> list[dict[str, Any]]:
    interactions = load_interactions(path)
    emu.seed(org, {"aws": {"external_ids": recorded_external_ids(interactions)}})
    return interactions


def learn_config_id(rec: dict[str, Any], status: int, body: Any, ids: dict[str, str]) -> None:
    recorded_data = (rec["response"] or {}).get("data")
    if isinstance(recorded_data, dict) and recorded_data.get("type") == "account" and status == 200:
        ids[recorded_data["id"]] = body["data"]["id"]


@pytest.mark.skipif(not CASSETTES_V2.is_dir(), reason=MISSING.replace(str(CASSETTES), str(CASSETTES_V2)))
async def test_replays_every_recorded_v2_interaction() -> None:
    """Like the v1 replay, plus: config ids (per org) are mapped from the recorded ones to the emulator's as they
    are created, and the external IDs the recorded requests send are seeded as generated by the replay org."""
    files = sorted(CASSETTES_V2.glob("*/*.yaml"))
    total, matched, failures = await replay(files, cassette_label, seeded_external_ids, v2_problem, learn_config_id)
    report("conformance v2", total, matched, failures)
    assert total == EXPECTED_V2_INTERACTIONS, "the reference cassettes changed; review EXPECTED_V2_* and docs"
    assert matched >= EXPECTED_V2_MATCHES, "\n".join(failures)

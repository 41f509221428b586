"""Replaying recorded cassettes against the emulator, shared by the conformance tests (test_conformance*.py).

One fresh org per cassette file, interactions in recorded order; each test says how an org is prepared for its
cassette (`Prepare`), which recorded ids map to the emulator's (`Learn`) and what makes an answer differ (`Check`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import yaml

from datadog_sync.emulator import Emulator, OrgSpec

Interaction = dict[str, Any]
#: Seeds the org (by name) for a cassette and returns the interactions to replay.
Prepare = Callable[[Emulator, str, Path], list[Interaction]]
#: Records `recorded id -> the emulator's` from an answer (status, parsed body) to an interaction.
Learn = Callable[[Interaction, int, Any, dict[str, str]], None]
#: What differs between an answer (status, parsed body, text) and the recorded interaction, or None.
Check = Callable[[int, Any, str, Interaction], str | None]


def load_interactions(path: Path) -> list[Interaction]:
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


def api_date(cassette: Path) -> str:
    """The recording day, from the `.frozen` (vcrpy) or `.freeze` (go-vcr) file beside the cassette."""
    for suffix in (".frozen", ".freeze"):
        stamp = cassette.with_suffix(suffix)
        if stamp.exists():
            return stamp.read_text().strip()[:10]
    raise AssertionError(f"no recording time beside {cassette}")


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


def without_ids(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: without_ids(v) for k, v in value.items() if k != "id"}
    if isinstance(value, list):
        return [without_ids(v) for v in value]
    return value


def answer_problem(
    status: int, body: Any, text: str, rec: Interaction, success: Callable[[Any, Any], str | None]
) -> str | None:
    """The recorded status, an error body equal to the recorded one, and a success answer that passes
    `success(body, recorded answer)`."""
    if status != rec["status"]:
        return f"status {status} != recorded {rec['status']} ({text[:300]})"
    if rec["status"] >= 400:
        return None if body == rec["response"] else f"error body {body} != recorded {rec['response']}"
    return success(body, rec["response"])


def load_only(emu: Emulator, org: str, path: Path) -> list[Interaction]:
    """A `Prepare` that seeds nothing."""
    return load_interactions(path)


def learn_nothing(rec: Interaction, status: int, body: Any, ids: dict[str, str]) -> None:
    """A `Learn` for cassettes whose ids the replay org can answer as recorded."""


async def replay(
    files: list[Path], label: Callable[[Path], str], prepare: Prepare, check: Check, learn: Learn = learn_nothing
) -> tuple[int, int, list[str]]:
    """(interactions, matching answers, one line per mismatch named `label(file)#n METHOD path`). Recorded ids
    learnt so far are replaced by the emulator's in later paths and bodies."""
    orgs = [OrgSpec(f"org{i}", f"api-{i}", f"app-{i}") for i in range(len(files))]
    total, matched, failures = 0, 0, []
    async with Emulator(orgs) as emu, aiohttp.ClientSession() as session:
        for org, path in zip(orgs, files, strict=True):
            interactions = prepare(emu, org.name, path)
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
                learn(rec, status, body, ids)
                problem = check(status, body, text, rec)
                if problem:
                    failures.append(f"{label(path)}#{n} {rec['method']} {rec['path']}: {problem}")
                else:
                    matched += 1
    return total, matched, failures


def report(title: str, total: int, matched: int, failures: list[str]) -> None:
    """`<title>: matched/total interactions match`, then each mismatch (shown with `pytest -s`)."""
    print(f"{title}: {matched}/{total} interactions match")
    for failure in failures:
        print("  mismatch:", failure)

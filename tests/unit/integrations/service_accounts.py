"""Helpers of the account-based service subtypes' CLI tests (fastly, cloudflare, confluent_cloud, okta): seeding the
emulator with ``make_service_org``, the matching secrets file, the writes each org received."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from datadog_sync.emulator.service_seed import make_service_secrets
from tests.support import secrets_file_env

BASE = "/api/v2/integrations"


def services(**sections: Any) -> dict:
    """An emulator state with these ``services`` sections (deep-copied)."""
    return {"services": json.loads(json.dumps(sections))}


def secrets_env(workdir: Path, state: dict, drop: tuple[str, ...] = ()) -> dict[str, str]:
    """A secrets file with what ``state`` needs (minus the ``drop``ped keys), as the CLI's env variable."""
    data = make_service_secrets(state)
    for section in data.values():
        for key in drop:
            section.pop(key, None)
    return secrets_file_env(workdir, data)


def requests(emu, integration: str, org: str = "destination") -> list[tuple[str, str]]:
    prefix = f"{BASE}/{integration}/"
    return [(r["method"], r["path"][len(prefix) - 1 :]) for r in emu.requests(org) if r["path"].startswith(prefix)]


def writes(emu, integration: str, org: str = "destination") -> list[dict]:
    prefix = f"{BASE}/{integration}/"
    return [r for r in emu.requests(org) if r["method"] != "GET" and r["path"].startswith(prefix)]


def live(emu, section: str, key: str = "name", org: str = "destination") -> dict[str, dict]:
    return {a[key]: a for a in (emu.dump(org).get("services") or {}).get(section) or []}


def outcomes(stdout: str) -> list[dict]:
    events = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    return [e for e in events if e.get("type") == "outcome"]

"""The emulator's in-memory world: orgs, knobs, RNG, rate limiter, counters and the request log.

Everything here runs on the emulator's event loop thread; the thread runner (server.py) marshals calls onto it.
"""

from __future__ import annotations

import asyncio
import copy
import random
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from datadog_sync.emulator.azure_model import AzureIntegration
from datadog_sync.emulator.gcp_model import GcpIntegration
from datadog_sync.emulator.knobs import Counters, FixedWindowRateLimiter, Knobs
from datadog_sync.emulator.permissions import DEFAULT_PERMISSIONS, READ_ONLY_PERMISSIONS
from datadog_sync.emulator.services_model import ServiceIntegrations, check_monitors
from datadog_sync.emulator.state import DDR_PASSIVE, AwsIntegration, InvalidField, Org

REQUEST_LOG_LIMIT = 100_000  # oldest entries are dropped beyond this, so long soaks stay bounded in memory


@dataclass
class OrgSpec:
    """How to create an emulated org.

    `permissions` defaults to all of DEFAULT_PERMISSIONS, or READ_ONLY_PERMISSIONS when `read_only` is set.
    `state` is an optional seed in the state JSON format (docs/emulator.md).
    """

    name: str
    api_key: str
    app_key: str
    permissions: Iterable[str] | None = None
    read_only: bool = False
    app_key_scopes: list[str] | None = None
    ddr_status: int | None = DDR_PASSIVE
    state: dict[str, Any] | None = None

    @classmethod
    def parse(cls, text: str, read_only: bool = False) -> OrgSpec:
        """Parse the command line form NAME:API_KEY:APP_KEY."""
        parts = text.split(":")
        if len(parts) != 3 or not all(parts):
            raise ValueError(f"expected NAME:API_KEY:APP_KEY, got {text!r}")
        return cls(parts[0], parts[1], parts[2], read_only=read_only)


class UnknownOrg(KeyError):
    pass


class EmulatorCore:
    def __init__(self, orgs: Iterable[OrgSpec], knobs: Knobs | None = None) -> None:
        self.knobs = knobs or Knobs()
        self.knobs.validate()
        self.rng = random.Random(self.knobs.seed)
        self._id_rng = random.Random(self.knobs.seed)
        self.limiter = FixedWindowRateLimiter()
        self.counters = Counters()
        self.request_log: deque[dict[str, Any]] = deque(maxlen=REQUEST_LOG_LIMIT)
        self.orgs: dict[str, Org] = {}
        self._hung: asyncio.Event | None = None  # scripted "hang" requests wait on it
        for spec in orgs:
            self.add_org(spec)

    # --- orgs ---------------------------------------------------------------------------------------------------

    def add_org(self, spec: OrgSpec) -> Org:
        if spec.name in self.orgs:
            raise ValueError(f"org {spec.name!r} already exists")
        if any(o.api_key == spec.api_key and o.app_key == spec.app_key for o in self.orgs.values()):
            raise ValueError(f"org {spec.name!r} reuses the key pair of another org")
        if spec.permissions is not None:
            perms = set(spec.permissions)
        else:
            perms = set(READ_ONLY_PERMISSIONS if spec.read_only else DEFAULT_PERMISSIONS)
        org = Org(spec.name, spec.api_key, spec.app_key)
        org.update_settings(
            {"permissions": sorted(perms), "app_key_scopes": spec.app_key_scopes, "ddr_status": spec.ddr_status}
        )
        self.orgs[spec.name] = org
        if spec.state is not None:
            try:
                self.seed(spec.name, spec.state)
            except InvalidField:
                del self.orgs[spec.name]
                raise
        return org

    def org(self, name: str) -> Org:
        try:
            return self.orgs[name]
        except KeyError:
            raise UnknownOrg(name) from None

    def org_by_keys(self, api_key: str | None, app_key: str | None) -> Org | None:
        return next((o for o in self.orgs.values() if o.api_key == api_key and o.app_key == app_key), None)

    def org_by_api_key(self, api_key: str | None) -> Org | None:
        return next((o for o in self.orgs.values() if o.api_key == api_key), None)

    # --- state --------------------------------------------------------------------------------------------------

    def seed(self, name: str, state: dict[str, Any]) -> None:
        """Replace the org's data with `state` (validated fully before anything changes)."""
        if not isinstance(state, dict) or set(state) - {"aws", "gcp", "azure", "services", "monitors"}:
            raise InvalidField("state must be an object whose keys are among aws, gcp, azure, services, monitors")
        org = self.org(name)
        aws = AwsIntegration.from_json(state.get("aws"), self.new_external_id)
        gcp, azure = GcpIntegration.from_json(state.get("gcp"), name), AzureIntegration.from_json(state.get("azure"))
        services, monitors = ServiceIntegrations.from_json(state.get("services")), check_monitors(state.get("monitors"))
        org.aws, org.gcp, org.azure, org.services, org.monitors = aws, gcp, azure, services, monitors

    def dump(self, name: str) -> dict[str, Any]:
        org = self.org(name)
        out: dict[str, Any] = {"aws": org.aws.to_json()}
        fresh = Org(name, "", "")  # GCP and Azure show only when they differ from a new org's (AWS-only dumps stay)
        for key, store, empty in (("gcp", org.gcp, fresh.gcp), ("azure", org.azure, fresh.azure)):
            if store.to_json() != empty.to_json():
                out[key] = store.to_json()
        if org.services.to_json():  # like GCP and Azure: shown only when not empty
            out["services"] = org.services.to_json()
        if org.monitors:
            out["monitors"] = copy.deepcopy(org.monitors)
        return out

    def wipe(self, name: str) -> None:
        self.org(name).aws = AwsIntegration()
        self.org(name).wipe_clouds()

    def new_external_id(self) -> str:
        return f"{self._id_rng.getrandbits(128):032x}"

    # --- knobs, log, counters -------------------------------------------------------------------------------------

    def hung(self) -> asyncio.Event:
        if self._hung is None:
            self._hung = asyncio.Event()
        return self._hung

    def set_knobs(self, changes: dict[str, Any]) -> Knobs:
        self.knobs = self.knobs.updated(changes)
        if "script" in changes and self._hung is not None:  # a new script releases the hung requests
            self._hung.set()
            self._hung = None
        if "seed" in changes:
            self.rng.seed(self.knobs.seed)
            self._id_rng.seed(self.knobs.seed)
        if {"rate_limit", "rate_period"} & set(changes):
            self.limiter.reset()
        return self.knobs

    def requests(self, org: str | None = None) -> list[dict[str, Any]]:
        return [dict(e) for e in self.request_log if org is None or e["org"] == org]

    def clear_requests(self, org: str | None = None) -> None:
        if org is None:
            self.request_log.clear()
        else:
            kept = [e for e in self.request_log if e["org"] != org]
            self.request_log.clear()
            self.request_log.extend(kept)

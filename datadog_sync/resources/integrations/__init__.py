"""The ``integrations`` resource: cloud integrations, one subtype per provider (``aws`` first).

State keys are ``<subtype>:<natural id>`` (``aws:123456789012``, ``aws:AKIA...``) and every stored object carries
its subtype in ``name``, so ``--filter 'Type=integrations;Name=name;Value=aws'`` selects a subtype. The type is a
generic composite (``datadog_sync.resources.composite``); a subtype (gcp, azure) is one package plus one
``register_subtype`` line below. ``aws`` has two API generations behind one registered class: the v2 accounts API
(default) and, with ``--integrations-aws-api=v1``, the deprecated v1 API (its Lambda ARN endpoints stop working on
2027-02-20).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from datadog_sync.resources.base import ResourceError
from datadog_sync.resources.composite import CompositeResource, SubtypeResource
from datadog_sync.resources.integrations.aws import AwsV2Subtype
from datadog_sync.resources.integrations.azure import AzureSubtype
from datadog_sync.resources.integrations.cloudflare import CloudflareSubtype
from datadog_sync.resources.integrations.confluent_cloud import ConfluentCloudSubtype
from datadog_sync.resources.integrations.fastly import FastlySubtype
from datadog_sync.resources.integrations.gcp import GcpSubtype
from datadog_sync.resources.integrations.handles import MonitorHandles, UsesMonitors
from datadog_sync.resources.integrations.ms_teams import MsTeamsSubtype
from datadog_sync.resources.integrations.okta import OktaSubtype
from datadog_sync.resources.integrations.opsgenie import OpsgenieSubtype
from datadog_sync.resources.integrations.pagerduty import PagerDutySubtype
from datadog_sync.resources.integrations.report import UnroutedReport
from datadog_sync.resources.integrations.secrets import IntegrationSecrets, SecretsFileError, load_secrets
from datadog_sync.resources.integrations.slack import SlackSubtype
from datadog_sync.resources.integrations.webhooks import WebhooksSubtype

if TYPE_CHECKING:  # pragma: no cover
    from datadog_sync.context import RunContext
    from datadog_sync.http.client import Client
    from datadog_sync.planner import Change


class IntegrationsResource(CompositeResource):
    resource_type: ClassVar[str] = "integrations"

    _secrets: IntegrationSecrets | None = None

    @property
    def secrets(self) -> IntegrationSecrets:
        """The secrets file, read once per run; each subtype gets its own section."""
        if self._secrets is None:
            try:
                path = getattr(self.ctx.config, "integrations_secrets_file", None)
                self._secrets = load_secrets(path, warn=self.log.warning, parsers=secrets_parsers(self.ctx.config))
            except SecretsFileError as exc:
                raise ResourceError(str(exc)) from None
        return self._secrets

    def __init__(self, ctx: RunContext):
        super().__init__(ctx)
        #: The source's monitors' handles, read once per run (discovery and the end-of-run report).
        self.monitors = MonitorHandles()
        self.report = UnroutedReport(self)

    def new_subtype(self, part: type[SubtypeResource]) -> SubtypeResource:
        sub = part(self.ctx, self.secrets.section(part.subtype))
        if isinstance(sub, UsesMonitors):
            sub.monitors = self.monitors
        return sub

    async def current_destination(
        self, client: Client | None, source: Mapping[str, dict], destination_state: Mapping[str, dict]
    ) -> dict[str, dict]:
        if self.ctx.config.command not in ("sync", "migrate"):
            return await super().current_destination(client, source, destination_state)
        # The source's monitors (for the end-of-run report) are read while the destination is listed.
        reading = asyncio.ensure_future(self.report.read_monitors())
        try:
            current = await super().current_destination(client, source, destination_state)
        except BaseException:
            reading.cancel()
            raise
        await reading
        return current

    def after_sync(self, changes: list[Change], unread: frozenset[str]) -> None:
        self.report.emit(changes, unread)


def secrets_parsers(config: Any = None) -> dict[str, Callable[[Any, Path | None], Any]]:
    """Secrets-file section -> parser, for every registered subtype that has secrets (the class a run with
    ``config`` selects, e.g. the AWS API generation; without one, the registered class)."""
    classes = {
        name: cls.variant(config) if config is not None else cls
        for name, cls in IntegrationsResource.subtype_classes.items()
    }
    return {name: cls.parse_secrets for name, cls in classes.items() if cls.has_secrets}


#: ``aws``: the v2 accounts API by default; its ``variant`` is the v1 class with ``--integrations-aws-api=v1``.
IntegrationsResource.register_subtype(AwsV2Subtype)
IntegrationsResource.register_subtype(GcpSubtype)
IntegrationsResource.register_subtype(AzureSubtype)
IntegrationsResource.register_subtype(WebhooksSubtype)
IntegrationsResource.register_subtype(PagerDutySubtype)
IntegrationsResource.register_subtype(OpsgenieSubtype)
IntegrationsResource.register_subtype(SlackSubtype)
IntegrationsResource.register_subtype(MsTeamsSubtype)
IntegrationsResource.register_subtype(FastlySubtype)
IntegrationsResource.register_subtype(CloudflareSubtype)
IntegrationsResource.register_subtype(ConfluentCloudSubtype)
IntegrationsResource.register_subtype(OktaSubtype)

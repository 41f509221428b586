"""The ``integrations`` resource: cloud integrations, one subtype per provider (``aws`` first).

State keys are ``<subtype>:<natural id>`` (``aws:123456789012``, ``aws:AKIA...``) and every stored object carries
its subtype in ``name``, so ``--filter 'Type=integrations;Name=name;Value=aws'`` selects a subtype. The type is a
generic composite (``datadog_sync.resources.composite``); a subtype (gcp, azure) is one package plus one
``register_subtype`` line below. ``aws`` has two API generations behind one registered class: the v2 accounts API
(default) and, with ``--integrations-aws-api=v1``, the deprecated v1 API (its Lambda ARN endpoints stop working on
2027-02-20).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from datadog_sync.resources.base import ResourceError
from datadog_sync.resources.composite import CompositeResource, SubtypeResource
from datadog_sync.resources.integrations.aws import AwsV2Subtype
from datadog_sync.resources.integrations.secrets import IntegrationSecrets, SecretsFileError, load_secrets


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

    def new_subtype(self, part: type[SubtypeResource]) -> SubtypeResource:
        return part(self.ctx, self.secrets.section(part.subtype))


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

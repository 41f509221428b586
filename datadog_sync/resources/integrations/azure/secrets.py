"""The ``azure`` section of the integrations secrets file: the client secret of each app registration, which the API
never returns, keyed by ``<tenant_name>:<client_id>``::

    {"azure": {"<tenant_name>:<client_id>": "<client secret>"}}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datadog_sync.redact import register_secret
from datadog_sync.resources.integrations.secrets import ENV_VAR, OPTION, SecretsFileError


@dataclass(frozen=True)
class AzureSecrets:
    #: The secrets file, None when none was given.
    path: Path | None = None
    secrets: Mapping[str, str] = field(default_factory=dict, repr=False)

    def client_secret(self, pair_id: str) -> str | None:
        return self.secrets.get(pair_id)


def missing_secret_message(pair_id: str) -> str:
    tenant, _, client = pair_id.partition(":")
    return (
        f"no client secret for Azure app registration {client} of tenant {tenant}: the API never returns it. Add "
        f'{{"azure": {{"{pair_id}": "<client secret>"}}}} to the file given with {OPTION} (or {ENV_VAR})'
    )


def parse(section: Any, path: Path | None) -> AzureSecrets:
    where = f"integrations secrets file {path}"
    if section is None:
        return AzureSecrets(path=path)
    if not isinstance(section, dict):
        raise SecretsFileError(f'in the {where}, "azure" must be an object {{"<tenant_name>:<client_id>": "<secret>"}}')
    out: dict[str, str] = {}
    for pair_id, secret in section.items():
        register_secret(secret if isinstance(secret, str) else None)
        tenant, _, client = str(pair_id).partition(":")
        if not tenant or not client:
            raise SecretsFileError(
                f'in the {where}, azure entry "{pair_id}" must be keyed "<tenant_name>:<client_id>" (both non-empty)'
            )
        if not isinstance(secret, str) or not secret:
            raise SecretsFileError(
                f'in the {where}, azure entry "{pair_id}" must be a non-empty string (the app registration\'s client '
                "secret)"
            )
        out[str(pair_id)] = secret
    return AzureSecrets(path=path, secrets=out)

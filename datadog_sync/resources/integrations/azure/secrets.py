"""The ``azure`` section of the integrations secrets file: the client secret of each app registration, which the API
never returns, keyed by ``<tenant_name>:<client_id>``::

    {"azure": {"<tenant_name>:<client_id>": "<client secret>"}}
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from datadog_sync.resources.integrations.secrets import KeyedSecrets, parse_keyed

#: The parsed section: ``get(pair_id)`` is the client secret.
AzureSecrets = KeyedSecrets
KEY_DOC, VALUE_DOC = "<tenant_name>:<client_id>", "client secret"


def empty() -> AzureSecrets:
    return KeyedSecrets("azure", KEY_DOC, VALUE_DOC)


def missing_secret_message(secrets: AzureSecrets, pair_id: str) -> str:
    tenant, _, client = pair_id.partition(":")
    return secrets.missing_message(pair_id, f"Azure app registration {client} of tenant {tenant}")


def _key_problem(pair_id: str) -> str | None:
    tenant, _, client = pair_id.partition(":")
    return None if tenant and client else f'must be keyed "{KEY_DOC}" (both non-empty)'


def parse(section: Any, path: Path | None) -> AzureSecrets:
    return parse_keyed(section, path, "azure", KEY_DOC, VALUE_DOC, _key_problem)

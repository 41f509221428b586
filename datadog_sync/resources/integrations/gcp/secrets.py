"""The ``gcp`` section of the integrations secrets file: the JSON keys of v1 service-account-key integrations, which
the API never returns, by service-account email, each as GCP's key file has it::

    {"gcp": {"datadog@payments-prod.iam.gserviceaccount.com": {"type": "service_account", "project_id": "...",
             "private_key_id": "...", "private_key": "-----BEGIN PRIVATE KEY-----...", "client_email": "...",
             "client_id": "...", ...}}}

STS accounts need nothing here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datadog_sync.redact import register_secret
from datadog_sync.resources.integrations.gcp.model import EMAIL, KEY_FIELDS, PROJECT
from datadog_sync.resources.integrations.secrets import ENV_VAR, OPTION, SecretsFileError

#: Masked wherever they could be printed.
SECRET_FIELDS = ("private_key", "private_key_id")


@dataclass(frozen=True)
class GcpSecrets:
    path: Path | None = None
    keys: Mapping[str, Mapping[str, str]] = field(default_factory=dict, repr=False)

    def key(self, client_email: str) -> Mapping[str, str] | None:
        return self.keys.get(client_email)


def missing_key_message(client_email: str) -> str:
    return (
        f"no JSON key for GCP service account {client_email}: the v1 API never returns it. Add "
        f'{{"gcp": {{"{client_email}": {{...the service account\'s JSON key file...}}}}}} to the file given with '
        f"{OPTION} (or {ENV_VAR}), or better, move the account to keyless STS (docs/integrations.md, GCP)"
    )


def parse(section: Any, path: Path | None) -> GcpSecrets:
    where = f"integrations secrets file {path}"
    if section is None:
        return GcpSecrets(path=path)
    if not isinstance(section, dict):
        raise SecretsFileError(f'in the {where}, "gcp" must be an object {{"<client_email>": {{...JSON key...}}}}')
    keys: dict[str, dict[str, str]] = {}
    for email, entry in section.items():
        if isinstance(entry, dict):
            for name in SECRET_FIELDS:
                register_secret(entry.get(name) if isinstance(entry.get(name), str) else None)
        if not isinstance(entry, dict) or not isinstance(entry.get("private_key"), str) or not entry["private_key"]:
            raise SecretsFileError(
                f'in the {where}, gcp entry "{email}" must be the service account\'s JSON key file (an object with '
                'a "private_key")'
            )
        if entry.get(EMAIL) not in (None, email):
            raise SecretsFileError(
                f'in the {where}, gcp entry "{email}" holds the key of another service account ({entry[EMAIL]})'
            )
        bad = sorted(k for k in (*KEY_FIELDS, PROJECT) if entry.get(k) is not None and not isinstance(entry[k], str))
        if bad:
            raise SecretsFileError(f'in the {where}, gcp entry "{email}": {", ".join(bad)} must be strings')
        keys[str(email)] = {k: v for k, v in entry.items() if isinstance(v, str)}
    return GcpSecrets(path=path, keys=keys)

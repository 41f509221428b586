"""The ``aws`` section of the integrations secrets file: secret access keys of key accounts, which the API
never returns, and optionally each key's numeric AWS account id (``/logs`` is keyed by it)::

    {"aws": {"AKIAEXAMPLEKEY1": "<secret>", "AKIAEXAMPLEKEY2": {"secret_access_key": "<secret>", "account_id": "1"}}}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datadog_sync.redact import register_secret
from datadog_sync.resources.integrations.secrets import ENV_VAR, OPTION, SecretsFileError

AWS_ENTRY_KEYS = ("secret_access_key", "account_id")


@dataclass(frozen=True)
class AwsKeySecret:
    secret_access_key: str = field(repr=False)
    #: The numeric AWS account id of a key account: the API never returns it, yet ``/logs`` is keyed by it.
    account_id: str | None = None


@dataclass(frozen=True)
class AwsSecrets:
    #: The secrets file, None when none was given.
    path: Path | None = None
    aws: Mapping[str, AwsKeySecret] = field(default_factory=dict, repr=False)

    def aws_key(self, access_key_id: str) -> AwsKeySecret | None:
        return self.aws.get(access_key_id)

    def aws_account_id(self, access_key_id: str) -> str | None:
        entry = self.aws.get(access_key_id)
        return entry.account_id if entry else None


def missing_aws_secret_message(access_key_id: str) -> str:
    return (
        f"no secret access key for AWS access key id {access_key_id}: the API never returns it. Add "
        f'{{"aws": {{"{access_key_id}": "<secret access key>"}}}} to the file given with {OPTION} '
        f"(or {ENV_VAR})"
    )


def parse(section: Any, path: Path | None) -> AwsSecrets:
    return AwsSecrets(path=path, aws=_aws_section(section, f"integrations secrets file {path}"))


def _aws_section(section: Any, where: str) -> dict[str, AwsKeySecret]:
    if section is None:
        return {}
    if not isinstance(section, dict):
        raise SecretsFileError(f'in the {where}, "aws" must be an object {{"<access key id>": "<secret>"}}')
    out: dict[str, AwsKeySecret] = {}
    for access_key_id, entry in section.items():
        if isinstance(entry, dict):
            secret, account_id = entry.get("secret_access_key"), entry.get("account_id")
            register_secret(secret if isinstance(secret, str) else None)
            unknown = sorted(set(entry) - set(AWS_ENTRY_KEYS))
            if unknown:
                raise SecretsFileError(
                    f'in the {where}, aws entry "{access_key_id}" has unknown key(s) '
                    f'{", ".join(map(repr, unknown))}: the keys are "secret_access_key" and "account_id"'
                )
        else:
            secret, account_id = entry, None
        register_secret(secret if isinstance(secret, str) else None)
        if not isinstance(secret, str) or not secret:
            raise SecretsFileError(
                f'in the {where}, aws entry "{access_key_id}" must be a non-empty string (the secret access key) '
                'or an object {"secret_access_key": "...", "account_id": "..."}'
            )
        if account_id is not None and not (isinstance(account_id, (str, int)) and str(account_id).isdigit()):
            raise SecretsFileError(
                f'in the {where}, aws entry "{access_key_id}": account_id must be the numeric AWS account id'
            )
        out[str(access_key_id)] = AwsKeySecret(secret, str(account_id) if account_id is not None else None)
    return out

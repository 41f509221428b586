"""The integrations secrets file: values the APIs never return, given by the operator.

``--integrations-secrets-file FILE`` (env ``DD_INTEGRATIONS_SECRETS_FILE``) is a JSON object with one section
per subtype, so it can grow to gcp/azure without a new option::

    {
      "aws": {
        "AKIAEXAMPLEKEY1": "<secret access key>",
        "AKIAEXAMPLEKEY2": {"secret_access_key": "<secret access key>", "account_id": "123456789012"}
      }
    }

Every secret value is registered with :mod:`datadog_sync.redact` as soon as it is read, so no log line can
show it. Error messages name the file and the entry, never a value.
"""

from __future__ import annotations

import json
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datadog_sync.redact import register_secret

ENV_VAR = "DD_INTEGRATIONS_SECRETS_FILE"
OPTION = "--integrations-secrets-file"
#: One section per subtype that has secrets; anything else is a typo or a file in the wrong shape.
SECTIONS = ("aws",)
AWS_ENTRY_KEYS = ("secret_access_key", "account_id")


class SecretsFileError(Exception):
    """The secrets file cannot be used; the message names the file and what is wrong with it."""


@dataclass(frozen=True)
class AwsKeySecret:
    secret_access_key: str = field(repr=False)
    #: The numeric AWS account id of a key account: the API never returns it, yet ``/logs`` is keyed by it.
    account_id: str | None = None


@dataclass(frozen=True)
class IntegrationSecrets:
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


def load_secrets(path: str | Path | None, warn: Callable[[str], None] | None = None) -> IntegrationSecrets:
    """Read and check the secrets file (no file configured: no secrets). ``warn`` gets a readable-by-others note."""
    if path is None or str(path) == "":
        return IntegrationSecrets()
    path = Path(path)
    where = f"integrations secrets file {path}"
    try:
        text = path.read_text(encoding="utf-8")
        mode = path.stat().st_mode
    except OSError as exc:
        raise SecretsFileError(f"cannot read the {where}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise SecretsFileError(f"the {where} is not UTF-8 text") from None
    try:
        data = json.loads(text, object_pairs_hook=lambda pairs: _no_duplicates(pairs, where))
    except json.JSONDecodeError as exc:
        # exc.msg and the position only: the exception's own text could quote the file's content.
        raise SecretsFileError(
            f"the {where} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    if not isinstance(data, dict):
        raise SecretsFileError(
            f'the {where} must hold a JSON object such as {{"aws": {{"<access key id>": "<secret>"}}}}'
        )
    for section in data:
        if section not in SECTIONS:
            raise SecretsFileError(
                f'the {where} has an unknown section "{section}": put each entry under its subtype\'s section '
                f'({", ".join(SECTIONS)}), e.g. {{"aws": {{"<access key id>": "<secret>"}}}}'
            )
    secrets = IntegrationSecrets(path=path, aws=_aws_section(data.get("aws"), where))
    if warn is not None and mode & (stat.S_IRGRP | stat.S_IROTH):
        warn(f"the {where} can be read by other users (mode {stat.S_IMODE(mode):o}); restrict it: chmod 600 {path}")
    return secrets


def _no_duplicates(pairs: list[tuple[str, Any]], where: str) -> dict:
    """json's object_pairs_hook: a key given twice would silently keep only the last value."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise SecretsFileError(f'the {where} has the key "{key}" twice in one object: keep one')
        out[key] = value
    return out


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

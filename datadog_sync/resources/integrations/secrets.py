"""The integrations secrets file: values the APIs never return, given by the operator.

``--integrations-secrets-file FILE`` (env ``DD_INTEGRATIONS_SECRETS_FILE``) is a JSON object with one section
per subtype, so it can grow to gcp/azure without a new option::

    {
      "aws": {
        "AKIAEXAMPLEKEY1": "<secret access key>",
        "AKIAEXAMPLEKEY2": {"secret_access_key": "<secret access key>", "account_id": "123456789012"}
      }
    }

Each registered subtype parses its own section (``SubtypeResource.parse_secrets``); a section no subtype
claims is an error (a typo, or a file in the wrong shape). Every secret value is registered with :mod:`datadog_sync.redact` as soon as it is read, so no log line can
show it. Error messages name the file and the entry, never a value.
"""

from __future__ import annotations

import json
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from datadog_sync.diffing import Difference
from datadog_sync.redact import register_secret
from datadog_sync.resources.composite import SubtypeResource

if TYPE_CHECKING:  # pragma: no cover
    from datadog_sync.context import RunContext

ENV_VAR = "DD_INTEGRATIONS_SECRETS_FILE"
OPTION = "--integrations-secrets-file"
#: Section name -> its parser ``(section or None, file path) -> parsed``: one per subtype that has secrets.
Parsers = Mapping[str, Callable[[Any, "Path | None"], Any]]


class SecretsFileError(Exception):
    """The secrets file cannot be used; the message names the file and what is wrong with it."""


@dataclass(frozen=True)
class IntegrationSecrets:
    path: Path | None = None
    #: Section name -> what its subtype parsed (every known section, also when the file lacks it).
    sections: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def section(self, name: str) -> Any:
        return self.sections.get(name)


def load_secrets(
    path: str | Path | None, warn: Callable[[str], None] | None = None, parsers: Parsers | None = None
) -> IntegrationSecrets:
    """Read and check the secrets file (no file configured: no secrets). ``warn`` gets a readable-by-others note.
    ``parsers`` defaults to the registered ``integrations`` subtypes that have secrets."""
    if parsers is None:
        from datadog_sync.resources.integrations import secrets_parsers

        parsers = secrets_parsers()
    if path is None or str(path) == "":
        return IntegrationSecrets(sections={name: parse(None, None) for name, parse in parsers.items()})
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
        if section not in parsers:
            raise SecretsFileError(
                f'the {where} has an unknown section "{section}": put each entry under its subtype\'s section '
                f'({", ".join(parsers)}), e.g. {{"aws": {{"<access key id>": "<secret>"}}}}'
            )
    secrets = IntegrationSecrets(
        path=path, sections={name: parse(data.get(name), path) for name, parse in parsers.items()}
    )
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


@dataclass(frozen=True)
class KeyedSecrets:
    """A secrets-file section holding one string secret per natural key: ``{"<subtype>": {"<key>": "<secret>"}}``
    (Azure client secrets, and the service integrations' API keys, service keys and webhook URLs)."""

    subtype: str
    #: What the keys and values are, for messages: e.g. "<tenant_name>:<client_id>", "client secret".
    key_doc: str
    value_doc: str
    #: The secrets file, None when none was given.
    path: Path | None = None
    secrets: Mapping[str, str] = field(default_factory=dict, repr=False)

    def get(self, key: str) -> str | None:
        return self.secrets.get(key)

    def missing_message(self, key: str, what: str) -> str:
        """Why ``what`` (e.g. "Azure app registration b0b0 of tenant d0d0") is skipped, and the line to add."""
        return (
            f"no {self.value_doc} for {what}: the API never returns it. Add "
            f'{{"{self.subtype}": {{"{key}": "<{self.value_doc}>"}}}} to the file given with {OPTION} (or {ENV_VAR})'
        )


def parse_keyed(
    section: Any,
    path: Path | None,
    subtype: str,
    key_doc: str,
    value_doc: str,
    key_problem: Callable[[str], str | None] = lambda key: None,
) -> KeyedSecrets:
    """Parse a :class:`KeyedSecrets` section; every value is registered for redaction before it is checked."""
    where = f"integrations secrets file {path}"
    if section is None:
        return KeyedSecrets(subtype, key_doc, value_doc, path)
    if not isinstance(section, dict):
        raise SecretsFileError(f'in the {where}, "{subtype}" must be an object {{"{key_doc}": "<{value_doc}>"}}')
    out: dict[str, str] = {}
    for key, secret in section.items():
        register_secret(secret if isinstance(secret, str) else None)
        problem = key_problem(str(key))
        if problem:
            raise SecretsFileError(f'in the {where}, {subtype} entry "{key}" {problem}')
        if not isinstance(secret, str) or not secret:
            raise SecretsFileError(
                f'in the {where}, {subtype} entry "{key}" must be a non-empty string (its {value_doc})'
            )
        out[str(key)] = secret
    return KeyedSecrets(subtype, key_doc, value_doc, path, out)


class UnknownSecret(dict):
    """The destination's object as an adopting plan sees it: found under the source object's natural key with no
    destination state entry, so the write-only secret it holds is unknown, and the secrets file has one. The plan
    updates it once, writing the file's secret, so that the destination matches the source; the next plans find
    the state entry and never rewrite it (no drift of a write-only secret can be seen). The marker rides on the
    type: never stored."""


def secret_unknown(current: Mapping[str, Any]) -> bool:
    """Whether an update of ``current`` is an adoption's one write of the secret (see :class:`UnknownSecret`)."""
    return isinstance(current, UnknownSecret)


class KeyedSecretsSubtype(SubtypeResource):
    """A subtype whose secrets-file section is :class:`KeyedSecrets`: ``{"<subtype>": {key_doc: value_doc}}``.

    **What adoption writes** (the same for every such subtype): an adopted object whose secrets the file gives is
    updated once with them (``adopted_current``); without them it is adopted as it is, keeping the destination's."""

    has_secrets: ClassVar[bool] = True
    #: What the section's keys and values are, for messages (e.g. "<service_name>", "service key").
    key_doc: ClassVar[str]
    value_doc: ClassVar[str]
    #: Where the secret goes in the API's object, as ``diffs`` names it (e.g. "service_key").
    secret_field: ClassVar[str] = ""

    secrets: KeyedSecrets

    def __init__(self, ctx: RunContext, secrets: KeyedSecrets | None = None):
        super().__init__(
            ctx, secrets if secrets is not None else KeyedSecrets(self.subtype, self.key_doc, self.value_doc)
        )

    @classmethod
    def key_problem(cls, key: str) -> str | None:
        """Why a key of the section is not one of this subtype's (None: it is)."""
        return None

    @classmethod
    def parse_secrets(cls, section: Any, path: Path | None) -> KeyedSecrets:
        return parse_keyed(section, path, cls.subtype, cls.key_doc, cls.value_doc, cls.key_problem)

    def adopted_current(self, key: str, desired: dict, current: dict) -> dict:
        """An adopted object whose secrets the file gives: marked, so the plan writes them once (see
        :class:`UnknownSecret`)."""
        names = self.secret_names(desired)
        if names and all(self.secrets.get(name) for name in names):
            return UnknownSecret(current)
        return current

    def secret_path(self, obj: Mapping[str, Any]) -> str:
        """The secret's field in ``obj``'s API object, as ``diffs`` shows it."""
        return self.secret_field

    def secret_differences(self, current: Mapping[str, Any], desired: Mapping[str, Any]) -> list[Difference]:
        """The difference an adoption's one write of the secret makes, shown without any value."""
        if not isinstance(current, UnknownSecret):
            return []
        return [Difference(self.secret_path(desired), "changed", "(unknown: never returned)", "(the secrets file's)")]

    def update_note(self, key: str, desired: dict, current: dict) -> str:
        if isinstance(current, UnknownSecret):
            return f"its {self.value_doc} is never returned, so the secrets file's is written once"
        return ""

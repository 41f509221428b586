"""What one integration subtype (``aws``, later ``gcp``, ``azure``) implements.

:class:`~datadog_sync.resources.integrations.IntegrationsResource` is the one ``integrations`` resource the host
knows; it hands every call to the subtype that owns the key (``<subtype>:<id>``) or object (``name``). A subtype
mirrors the resource hooks for its own objects only, so adding a subtype (or a second API generation of one,
such as AWS v2 accounts) changes neither the host nor the CLI surface.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from datadog_sync.diffing import Difference, compute_diff

if TYPE_CHECKING:  # pragma: no cover
    from datadog_sync.context import ResourceLogger, RunContext
    from datadog_sync.http.client import Client
    from datadog_sync.planner import Change
    from datadog_sync.resources.integrations.secrets import IntegrationSecrets

RESOURCE_TYPE = "integrations"


# ------------------------------------------------------------------------------------------------- schemas
# A subtype declares the JSON types of its stored fields, e.g. {"host_tags": ListOf(str), "logs": Fields({...})},
# so a hand-edited state file with a wrong type is refused instead of coerced (a string sent as a list of letters).
@dataclass(frozen=True)
class ListOf:
    item: Any


@dataclass(frozen=True)
class MapOf:
    value: Any


@dataclass(frozen=True)
class Fields:
    fields: Mapping[str, Any]


_NAMES = {str: "a string", bool: "true or false", int: "a number", float: "a number", list: "a list", dict: "an object"}
_PLURALS = {str: "strings", bool: "true/false values", int: "numbers"}


def _describe(expected: Any) -> str:
    if isinstance(expected, ListOf):
        return f"a list of {_PLURALS.get(expected.item, 'values')}"
    if isinstance(expected, MapOf):
        return f"an object of {_PLURALS.get(expected.value, 'values')}"
    if isinstance(expected, Fields):
        return "an object"
    return _NAMES.get(expected, getattr(expected, "__name__", str(expected)))


def _got(value: Any) -> str:
    return "null" if value is None else _NAMES.get(type(value), type(value).__name__)


def schema_problems(obj: Any, schema: Mapping[str, Any], prefix: str = "") -> list[str]:
    """``"<field>: expected <type>, got <type>"`` for each field of ``obj`` whose value does not fit ``schema``.
    Fields the schema does not name are not checked; ``null`` means "not set" and is accepted everywhere."""
    if not isinstance(obj, Mapping):
        return [f"{prefix.rstrip('.') or 'the entry'}: expected an object, got {_got(obj)}"]
    problems: list[str] = []
    for name, expected in schema.items():
        if obj.get(name) is not None:
            problems += _check(obj[name], expected, f"{prefix}{name}")
    return problems


def _check(value: Any, expected: Any, where: str) -> list[str]:
    if isinstance(expected, Fields):
        return (
            schema_problems(value, expected.fields, f"{where}.")
            if isinstance(value, dict)
            else _bad(where, expected, value)
        )
    if isinstance(expected, ListOf):
        if not isinstance(value, list):
            return _bad(where, expected, value)
        return [p for i, item in enumerate(value) for p in _check(item, expected.item, f"{where}[{i}]")]
    if isinstance(expected, MapOf):
        if not isinstance(value, dict):
            return _bad(where, expected, value)
        return [p for k, item in value.items() for p in _check(item, expected.value, f"{where}.{k}")]
    # bool is an int in Python, and JSON numbers are not strings: compare the exact types.
    return [] if type(value) is expected else _bad(where, expected, value)


def _bad(where: str, expected: Any, value: Any) -> list[str]:
    return [f"{where}: expected {_describe(expected)}, got {_got(value)}"]


class Subtype:
    """Base of a subtype. ``name`` is the key prefix and the stored objects' ``name``."""

    name: ClassVar[str]
    #: Field -> expected JSON type of the stored objects (see :func:`schema_problems`).
    schema: ClassVar[Mapping[str, Any]] = {}

    def __init__(self, ctx: RunContext, log: ResourceLogger, secrets: IntegrationSecrets):
        self.ctx = ctx
        self.log = log
        self.secrets = secrets

    # import
    async def list_resources(self, client: Client) -> list[dict]:
        raise NotImplementedError

    def key_of(self, raw: dict) -> str | None:
        raise NotImplementedError

    def preview(self, raw: dict) -> dict:
        raise NotImplementedError

    async def import_resource(self, raw: dict, client: Client) -> tuple[str, dict]:
        raise NotImplementedError

    # plan
    def problems(self, key: str, obj: Mapping) -> list[str]:
        """What is wrong with a source state entry (empty: it can be planned): the schema, plus subtype rules."""
        return schema_problems(obj, self.schema)

    async def current_destination(
        self, client: Client | None, source: Mapping[str, dict], destination_state: Mapping[str, dict]
    ) -> dict[str, dict]:
        raise NotImplementedError

    def skip_reason(self, key: str, desired: dict, current: dict | None) -> str | None:
        return None

    def diff(self, current: dict, desired: dict) -> list[Difference]:
        return compute_diff(current, desired)

    def redacted(self, obj: dict) -> dict:
        return obj

    # apply
    async def preflight(self, client: Client, changes: list[Change]) -> list[str]:
        return []

    async def create(self, client: Client, key: str, desired: dict) -> dict:
        raise NotImplementedError

    async def update(self, client: Client, key: str, desired: dict, current: dict) -> dict:
        raise NotImplementedError

    async def delete(self, client: Client, key: str, current: dict) -> None:
        raise NotImplementedError

    def after_apply(self, changes: list[Change]) -> None:
        """Runs once after ``sync`` with this subtype's changes (reports, hand-off files)."""

    def after_reset(self, deleted: list[str]) -> None:
        """Runs once after ``reset`` deleted these keys from the destination."""

"""Stored-object schemas: a subtype declares the JSON types of its fields, e.g.
``{"host_tags": ListOf(str), "logs": Fields({...})}``, so a hand-edited state file with a wrong type is refused
instead of coerced (a string sent as a list of letters).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


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


def _plural(expected: Any) -> str:
    """``strings`` for ``str``; ``objects`` for ``Fields`` (unhashable: never a dict key)."""
    if isinstance(expected, Fields):
        return "objects"
    return _PLURALS.get(expected, "values") if isinstance(expected, type) else "values"


def _describe(expected: Any) -> str:
    if isinstance(expected, ListOf):
        return f"a list of {_plural(expected.item)}"
    if isinstance(expected, MapOf):
        return f"an object of {_plural(expected.value)}"
    if isinstance(expected, Fields):
        return "an object"
    return _NAMES.get(expected, getattr(expected, "__name__", str(expected)))


def _got(value: Any) -> str:
    return "null" if value is None else _NAMES.get(type(value), type(value).__name__)


def schema_problems(obj: Any, schema: Mapping[str, Any], prefix: str = "") -> list[str]:
    """``"<field>: expected <type>, got <type>"`` for each field of ``obj`` whose value does not fit ``schema``.
    Fields the schema does not name are not checked; ``null`` means "not set" and is accepted everywhere."""
    if not isinstance(obj, (dict, Mapping)):  # dict first: an ABC check costs more, and state holds dicts
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
        if type(expected.item) is type and all(type(item) is expected.item for item in value):
            return []  # the usual list of strings, checked without a path per item
        return [p for i, item in enumerate(value) for p in _check(item, expected.item, f"{where}[{i}]")]
    if isinstance(expected, MapOf):
        if not isinstance(value, dict):
            return _bad(where, expected, value)
        return [p for k, item in value.items() for p in _check(item, expected.value, f"{where}.{k}")]
    # bool is an int in Python, and JSON numbers are not strings: compare the exact types.
    return [] if type(value) is expected else _bad(where, expected, value)


def _bad(where: str, expected: Any, value: Any) -> list[str]:
    return [f"{where}: expected {_describe(expected)}, got {_got(value)}"]

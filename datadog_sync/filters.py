"""Resource filters (``--filter`` / ``DD_FILTER``), compatible with upstream datadog-sync-cli.

Syntax: ``Type=<resource_type>;Name=<dot.path>;Value=<regex>;Operator=<ExactMatch|SubString|Not>``.

Semantics shared with upstream:

* Leading/trailing ``;`` and spaces are stripped, the rest is split on ``;`` and every part on its first ``=``.
  Keys are case-sensitive. ``Type`` is lower-cased, ``Name`` and ``Value`` are kept as written.
* ``Operator`` missing → ``ExactMatch``: the value is compiled as ``^value$``. ``SubString`` → ``.*value.*``.
  ``Not`` → the raw value, result negated. The value is wrapped verbatim, so an alternation such as
  ``Value=a|b`` with ExactMatch becomes ``^a|b$`` exactly like upstream.
* The regex is compiled with ``re.DOTALL`` and applied with ``re.match`` (anchored at the start only) to
  ``str(value)``; booleans are compared as ``true`` / ``false``, numbers through ``str()``.
* ``Name`` is a dot path. Lookup descends dicts; when it meets a list, the filter matches if any element
  matches the rest of the path; a list at the leaf matches if any element matches. A missing key (or a
  path that runs into a scalar) is "no match", so ``Not`` on a missing path matches.
* Several filters for the same type are combined with ``--filter-operator`` (``OR`` by default: any one
  matches; ``AND``: all match). Types without filters are not affected.
* ``DD_FILTER`` holds several filters separated by whitespace (click's multiple + envvar behaviour), so
  filters given through the environment cannot contain spaces.

Deliberate differences from upstream (upstream logs a warning and silently drops the filter, or even
applies a wrong one):

* A malformed filter is an error: :class:`FilterError` is raised, quoting the filter, saying what is wrong
  and showing the right form. Malformed means: an empty filter, a part without ``=``, an unknown key
  (e.g. ``type=`` or `` Name=``), a key given twice, a missing ``Type`` / ``Name`` / ``Value``, an empty
  ``Type`` or ``Name`` or an empty segment in ``Name`` (``a..b``), an ``Operator`` other than
  ``ExactMatch`` / ``SubString`` / ``Not`` (upstream would apply the raw regex without negation), and a
  ``Value`` that is not a valid regular expression.
* A filter operator other than ``AND`` / ``OR`` (any case) is an error (upstream treats it as ``OR``).
* Upstream's deprecation warnings for a missing ``Operator`` and for ``SubString`` are not emitted.
* A path running into a non-container value is a plain "no match" (upstream could raise there).
* A filter whose ``Name`` no object of its type has is warned about once per run (:class:`PathCheck`).

Whether ``Type`` names a known resource type is for the caller to check, see :attr:`Filters.resource_types`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "EXACT_MATCH",
    "FILTER_OPERATORS",
    "NOT",
    "OPERATORS",
    "SUBSTRING",
    "Filter",
    "FilterError",
    "Filters",
    "PathCheck",
]

EXACT_MATCH = "ExactMatch"
SUBSTRING = "SubString"
NOT = "Not"
#: Per-filter operators (the ``Operator=`` key).
OPERATORS = (EXACT_MATCH, SUBSTRING, NOT)
#: Ways of combining several filters of one type (``--filter-operator``).
FILTER_OPERATORS = ("OR", "AND")

_KEYS = ("Type", "Name", "Value", "Operator")
#: A ``Value`` without regex syntax.
_LITERAL = re.compile(r"[A-Za-z0-9_\-]+")
_REQUIRED_KEYS = ("Type", "Name", "Value")
_EXAMPLE = "Type=integrations;Name=role_name;Value=Prod;Operator=SubString"


class FilterError(ValueError):
    """An invalid ``--filter`` expression or ``--filter-operator``. ``expression`` is the offending text."""

    def __init__(self, message: str, expression: str | None = None, problem: str = "", hint: str = "") -> None:
        super().__init__(message)
        self.expression = expression
        self.problem = problem
        self.hint = hint


def _invalid(expression: str, problem: str, hint: str | None = None) -> FilterError:
    hint = hint or f"expected Key=value parts separated by ';', e.g. --filter '{_EXAMPLE}'"
    return FilterError(f"invalid filter {expression!r}: {problem}; {hint}", expression, problem, hint)


def _suggest(word: str, choices: Iterable[str]) -> str:
    choices = list(choices)
    by_case = {c.lower(): c for c in choices}
    close = by_case.get(word.strip().lower())
    if close is None:
        found = difflib.get_close_matches(word.strip(), choices, n=1, cutoff=0.6)
        close = found[0] if found else None
    return f" (did you mean {close!r}?)" if close else ""


def _pattern(value: str, operator: str) -> str:
    if operator == EXACT_MATCH:
        return f"^{value}$"
    if operator == SUBSTRING:
        return f".*{value}.*"
    return value


@dataclass(frozen=True)
class Filter:
    """One parsed filter. ``path`` is ``name`` split on ``.``; the regex is compiled once."""

    resource_type: str
    name: str
    value: str
    operator: str = EXACT_MATCH
    path: tuple[str, ...] = field(init=False, repr=False, compare=False)
    regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        text = str(self)
        if self.operator not in OPERATORS:
            raise _invalid(
                text,
                f"unknown Operator {self.operator!r}{_suggest(self.operator, OPERATORS)}",
                f"use one of {', '.join(OPERATORS)} (ExactMatch if omitted), e.g. --filter '{_EXAMPLE}'",
            )
        if not self.resource_type:
            raise _invalid(text, "Type is empty", f"name a resource type, e.g. --filter '{_EXAMPLE}'")
        path = tuple(self.name.split("."))
        if not all(path):
            problem = "Name is empty" if not self.name else f"Name {self.name!r} has an empty path segment"
            raise _invalid(
                text, problem, "use a dot path of attribute names, e.g. Name=tags or Name=options.thresholds"
            )
        try:
            # The raw value is checked too so that e.g. a trailing backslash is reported rather than
            # silently escaping the '$' that ExactMatch appends.
            re.compile(self.value, re.DOTALL)
            regex = re.compile(_pattern(self.value, self.operator), re.DOTALL)
        except re.error as exc:
            raise _invalid(
                text,
                f"Value {self.value!r} is not a valid regular expression ({exc})",
                r"escape regex special characters with '\', e.g. Value=a\(b\) to match 'a(b)'",
            ) from None
        object.__setattr__(self, "path", path)
        object.__setattr__(self, "regex", regex)

    def matches(self, obj: Mapping[str, Any]) -> bool:
        """Whether ``obj`` passes this filter (negation of ``Not`` included)."""
        found = self._match_path(obj, 0)
        return not found if self.operator == NOT else found

    def _match_path(self, node: Any, index: int) -> bool:
        path = self.path
        while index < len(path):
            if isinstance(node, Mapping):
                key = path[index]
                if key not in node:
                    return False
                node = node[key]
                index += 1
            elif isinstance(node, list):
                return any(self._match_path(item, index) for item in node)
            else:
                return False
        return self._match_leaf(node)

    def pins(self, attribute: str) -> bool:
        """Whether this filter passes exactly the objects whose top-level ``attribute`` is ``value``: ExactMatch on
        that one attribute with a value holding no regex syntax (``^value$`` then matches the value alone)."""
        return self.path == (attribute,) and self.operator == EXACT_MATCH and _LITERAL.fullmatch(self.value) is not None

    def has_path(self, node: Any, index: int = 0) -> bool:
        """Whether ``node`` has the attribute ``Name`` names (through lists, like matching), whatever its value."""
        path = self.path
        while index < len(path):
            if isinstance(node, list):
                return any(self.has_path(item, index) for item in node)
            if not isinstance(node, Mapping) or path[index] not in node:
                return False
            node = node[path[index]]
            index += 1
        return True

    def _match_leaf(self, value: Any) -> bool:
        if isinstance(value, list):
            return any(self._match_leaf(item) for item in value)
        if isinstance(value, bool):
            text = "true" if value else "false"
        else:
            text = str(value)
        return self.regex.match(text) is not None

    def __str__(self) -> str:
        return f"Type={self.resource_type};Name={self.name};Value={self.value};Operator={self.operator}"


def _parse_one(expression: str) -> Filter:
    text = expression.strip("; ")
    if not text:
        raise _invalid(expression, "the filter is empty")
    parts: dict[str, str] = {}
    for part in text.split(";"):
        key, sep, value = part.partition("=")
        if not sep:
            if not part.strip():
                problem = "it contains an empty part (two ';' in a row)"
            else:
                problem = f"part {part!r} has no '='"
            raise _invalid(expression, problem)
        if key not in _KEYS:
            raise _invalid(
                expression,
                f"unknown key {key!r}{_suggest(key, _KEYS)}",
                f"keys are case-sensitive, take no surrounding spaces and are one of {', '.join(_KEYS)}; "
                f"e.g. --filter '{_EXAMPLE}'",
            )
        if key in parts:
            raise _invalid(expression, f"key {key!r} is given more than once")
        parts[key] = value
    missing = [k for k in _REQUIRED_KEYS if k not in parts]
    if missing:
        raise _invalid(
            expression,
            f"missing {', '.join(missing)}",
            f"Type, Name and Value are required, e.g. --filter '{_EXAMPLE}'",
        )
    try:
        return Filter(
            resource_type=parts["Type"].lower(),
            name=parts["Name"],
            value=parts["Value"],
            operator=parts.get("Operator", EXACT_MATCH),
        )
    except FilterError as exc:
        # Quote the user's own text rather than the normalised form.
        raise _invalid(expression, exc.problem, exc.hint) from None


class Filters:
    """All ``--filter`` expressions of a run, grouped by resource type."""

    __slots__ = ("_by_type", "operator", "resource_types")

    def __init__(self, filters: Iterable[Filter] = (), operator: str = "OR") -> None:
        op = "OR" if operator is None else str(operator).strip().upper()
        if op not in FILTER_OPERATORS:
            raise FilterError(
                f"invalid filter operator {operator!r}: use AND (every filter of a type must match) "
                "or OR (any one is enough; the default), e.g. --filter-operator AND"
            )
        by_type: dict[str, list[Filter]] = {}
        for f in filters:
            by_type.setdefault(f.resource_type, []).append(f)
        self._by_type: dict[str, tuple[Filter, ...]] = {t: tuple(fs) for t, fs in by_type.items()}
        self.operator: str = op
        self.resource_types: frozenset[str] = frozenset(self._by_type)

    @classmethod
    def parse(cls, expressions: Iterable[str] | None, operator: str = "OR") -> Filters:
        """Parse ``--filter`` values. Raises :class:`FilterError` on the first malformed one."""
        if isinstance(expressions, str):
            expressions = [expressions]
        return cls([_parse_one(e) for e in expressions or ()], operator)

    def for_type(self, resource_type: str) -> tuple[Filter, ...]:
        return self._by_type.get(resource_type, ())

    def matches(self, resource_type: str, obj: Mapping[str, Any]) -> bool:
        """Whether ``obj`` of ``resource_type`` passes the filters (always True for unfiltered types)."""
        filters = self._by_type.get(resource_type)
        if not filters:
            return True
        if self.operator == "AND":
            return all(f.matches(obj) for f in filters)
        return any(f.matches(obj) for f in filters)

    def pinned_values(self, resource_type: str, attribute: str) -> frozenset[str] | None:
        """The values that the top-level ``attribute`` of an object of ``resource_type`` must equal to pass the
        filters, when plain filters pin them: ``Name=<attribute>;Value=<literal>`` (ExactMatch, a value without regex
        syntax); ``None`` when they cannot be told that way (no filter, a regex, another Name, ``Operator=Not``...).
        With OR every filter must be plain (any one may let an object through); with AND one plain filter is enough
        (every filter must match). ``$`` also matches before a final line break, so the caller's values must not end
        with one. Used only to skip reading what the filters would drop anyway."""
        filters = self._by_type.get(resource_type)
        if not filters:
            return None
        plain = [frozenset({f.value}) for f in filters if f.pins(attribute)]
        if self.operator == "AND":
            return frozenset.intersection(*plain) if plain else None
        return frozenset().union(*plain) if len(plain) == len(filters) else None

    def names_for_type(self, resource_type: str) -> set[str]:
        """Top-level attribute names (first ``Name`` segment) referenced by the filters of a type."""
        return {f.path[0] for f in self._by_type.get(resource_type, ())}

    def __bool__(self) -> bool:
        return bool(self._by_type)

    def __iter__(self) -> Iterator[Filter]:
        for filters in self._by_type.values():
            yield from filters

    def __len__(self) -> int:
        return sum(len(fs) for fs in self._by_type.values())

    def __repr__(self) -> str:
        return f"Filters({list(self)!r}, operator={self.operator!r})"


class PathCheck:
    """Finds the filters of one type whose ``Name`` no object has: a typo such as ``Name=acount_id`` would
    otherwise silently match nothing (or, with ``Not``, everything)."""

    def __init__(self, resource_type: str, filters: Iterable[Filter]) -> None:
        self.resource_type = resource_type
        self.pending = list(filters)
        self.seen = 0
        self.keys: set[str] = set()

    def see(self, obj: Mapping[str, Any]) -> None:
        self.seen += 1
        if self.pending:
            self.keys.update(obj)
            self.pending = [f for f in self.pending if not f.has_path(obj)]

    def warnings(self) -> list[str]:
        """One message per filter whose path no seen object has (none when no object was seen)."""
        if not self.seen:
            return []
        out = []
        for f in self.pending:
            effect = "keeps every" if f.operator == NOT else "matches no"
            hint = _suggest(f.path[0], self.keys) if f.path[0] not in self.keys else ""
            out.append(
                f"filter {str(f)!r}: no {self.resource_type} object has the attribute {f.name!r}{hint}, so it "
                f"{effect} {self.resource_type} object; Name is a dot path into the stored object (docs/filters.md)"
            )
        return out

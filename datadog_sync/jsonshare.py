"""Decoded JSON with its repeated strings shared.

``json.loads`` shares an object's keys within one document but makes a new ``str`` for every string value: the
same region, namespace or tag text held once per account. At 10,000 AWS accounts (v2: whole region lists, log
sources, namespace filters) that is about a third of each copy of the state in memory, and a run holds several
(source and destination state, the destination's listing). ``sys.intern`` makes equal short strings one object.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import Any

#: Longer strings (descriptions, ARNs with ids, secrets) are rarely repeated: not worth the lookup.
MAX_SHARED = 64
_intern = sys.intern


#: Bodies larger than this are decoded with their strings shared (a small one is not worth the hook's calls).
LARGE_BODY = 64 * 1024


def _share_in_object(obj: dict) -> dict:
    """``json.loads``' object hook: each string is interned as its object is built, so the duplicates are freed
    at once and never reach the peak (interning after the whole parse would leave that peak behind)."""
    for key, item in obj.items():
        if type(item) is str:
            if len(item) <= MAX_SHARED:
                obj[key] = _intern(item)
        elif type(item) is list:
            for index, element in enumerate(item):
                if type(element) is str and len(element) <= MAX_SHARED:
                    item[index] = _intern(element)
    return obj


def loads_shared(text: str | bytes) -> Any:
    """``json.loads`` with the short strings of every object (and of the lists it holds) shared."""
    return json.loads(text, object_hook=_share_in_object)


def share_strings(value: Any) -> Any:
    """Intern, in place, the short string values and keys inside decoded JSON; return ``value``."""
    if isinstance(value, dict):
        for key, item in value.items():
            if type(item) is str:
                if len(item) <= MAX_SHARED:
                    value[key] = _intern(item)
            elif isinstance(item, (dict, list)):
                share_strings(item)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if type(item) is str:
                if len(item) <= MAX_SHARED:
                    value[index] = _intern(item)
            elif isinstance(item, (dict, list)):
                share_strings(item)
    return value


def shared_copy(value: Any) -> Any:
    """A deep copy of decoded JSON (objects, lists, scalars) with short strings interned. ``copy.deepcopy`` takes
    about twice as long (it memoizes every object and dispatches on every type). An object of another type is
    shared, not copied."""
    if isinstance(value, dict):
        return {_intern(k) if type(k) is str else k: shared_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shared_copy(v) for v in value]
    if type(value) is str and len(value) <= MAX_SHARED:
        return _intern(value)
    return value


def share_fields(obj: dict, other: Mapping[str, Any]) -> None:
    """Make each object or list value of ``obj`` that equals ``other``'s value of the same field that very object:
    the content of ``obj`` does not change, its duplicate sub-objects are freed. Only for values nothing changes in
    place (a change through one would show through the other)."""
    for field, value in obj.items():
        if type(value) in _CONTAINERS:
            theirs = other.get(field)
            if theirs is not value and type(theirs) is type(value) and theirs == value:
                obj[field] = theirs


_CONTAINERS = (dict, list)

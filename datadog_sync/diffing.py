"""Differences between a destination object and the source object that would replace it.

deepdiff does the comparing (lists as multisets where order has no meaning); this module turns its
result into a flat list of :class:`Difference` that reads like a Terraform plan.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

_PATH_PART = re.compile(r"\[('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|\d+)\]")


@dataclass(frozen=True)
class Difference:
    """One change at a dot path: ``kind`` is ``changed``, ``added`` or ``removed``."""

    path: str
    kind: str
    old: Any = None
    new: Any = None
    #: Where deepdiff reported it (``values_changed``, ``root['a'][0]``): for upstream-style output only.
    section: str = field(default="", compare=False)
    deep_path: str = field(default="", compare=False)

    def render(self) -> str:
        if self.kind == "added":
            return f"+ {self.path}: {_show(self.new)}"
        if self.kind == "removed":
            return f"- {self.path}: {_show(self.old)}"
        return f"~ {self.path}: {_show(self.old)} -> {_show(self.new)}"

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "kind": self.kind, "old": self.old, "new": self.new}


def compute_diff(current: Any, desired: Any, *, ignore_order: bool = True) -> list[Difference]:
    """What changes when ``desired`` replaces ``current``; ``[]`` when they are equal."""
    if current == desired:  # the common case on re-runs, and far cheaper than deepdiff
        return []
    from deepdiff import DeepDiff  # imported lazily: it costs ~0.3 s at start-up

    result = DeepDiff(current, desired, ignore_order=ignore_order, verbose_level=2)
    out: list[Difference] = []
    for section in ("values_changed", "type_changes"):
        for path, change in result.get(section, {}).items():
            old, new = change.get("old_value"), change.get("new_value")
            if ignore_order and path.endswith("]") and _PATH_PART.findall(path)[-1].isdigit():
                # In an unordered list an element is not "changed": one left and another came.
                list_path = _dot(path, drop_index=True)
                out.append(Difference(list_path, "removed", old, None, section, path))
                out.append(Difference(list_path, "added", None, new, section, path))
            else:
                out.append(Difference(_dot(path), "changed", old, new, section, path))
    for section, kind in (
        ("dictionary_item_added", "added"),
        ("iterable_item_added", "added"),
        ("set_item_added", "added"),
        ("dictionary_item_removed", "removed"),
        ("iterable_item_removed", "removed"),
        ("set_item_removed", "removed"),
    ):
        items = result.get(section, {})
        for path, value in items.items() if isinstance(items, dict) else ((p, None) for p in items):
            if kind == "added":
                out.append(Difference(_dot(path, drop_index=True), kind, None, value, section, path))
            else:
                out.append(Difference(_dot(path, drop_index=True), kind, value, None, section, path))
    out.sort(key=lambda d: (d.path, d.kind, json.dumps(d.old, sort_keys=True, default=str)))
    return out


def upstream_diff(differences: list[Difference]) -> dict[str, Any]:
    """The differences in the shape datadog-sync-cli's ``diffs`` prints: DeepDiff's default result (old value =
    destination, new value = source), e.g. ``{'values_changed': {"root['a']": {'new_value': 2, 'old_value': 1}}}``."""
    out: dict[str, Any] = {}
    for d in differences:
        path = d.deep_path or _deep(d.path)
        section = d.section or {"changed": "values_changed"}.get(d.kind, f"dictionary_item_{d.kind}")
        if section == "values_changed":
            entry = out.setdefault(section, {}).setdefault(path, {})  # an unordered list's pair shares a path
            if d.kind != "removed":
                entry["new_value"] = d.new
            if d.kind != "added":
                entry["old_value"] = d.old
        elif section == "type_changes":
            entry = {"new_type": type(d.new), "new_value": d.new, "old_type": type(d.old), "old_value": d.old}
            out.setdefault(section, {})[path] = entry
        elif section.startswith("dictionary_item"):
            out.setdefault(section, []).append(path)  # DeepDiff lists only the paths of added/removed keys
        else:
            out.setdefault(section, {})[path] = d.new if d.kind == "added" else d.old
    for value in out.values():
        if isinstance(value, list):
            value.sort()
    return out


def _deep(path: str) -> str:
    """``a.b[2]`` -> ``root['a']['b'][2]`` (DeepDiff's notation)."""
    out = "root"
    for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", path):
        out += f"[{index}]" if index else f"[{name!r}]"
    return out


def _dot(path: str, drop_index: bool = False) -> str:
    """``root['a']['b'][2]`` -> ``a.b[2]`` (or ``a.b`` for list items, whose index means nothing)."""
    parts = _PATH_PART.findall(path[len("root") :] if path.startswith("root") else path)
    out = ""
    for i, part in enumerate(parts):
        if part.isdigit():
            if drop_index and i == len(parts) - 1:
                continue
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part[1:-1]
    return out or "(root)"


def _show(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)

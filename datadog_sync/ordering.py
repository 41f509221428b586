"""Dependency order between resource types."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from datadog_sync.resources.base import BaseResource


def type_order(resources: Mapping[str, type[BaseResource] | BaseResource], types: Iterable[str]) -> list[str]:
    """``types`` sorted so every type comes after the types it depends on (stable, alphabetical otherwise)."""
    wanted = sorted(set(types))
    ordered: list[str] = []
    visiting: set[str] = set()

    def visit(name: str, chain: tuple[str, ...]) -> None:
        if name in ordered:
            return
        if name in visiting:
            raise ValueError("dependency cycle between resource types: " + " -> ".join(chain + (name,)))
        visiting.add(name)
        resource = resources.get(name)
        if resource is not None:
            for dep in sorted(resource.config.dependencies):
                if dep in wanted:
                    visit(dep, chain + (name,))
        visiting.discard(name)
        ordered.append(name)

    for name in wanted:
        visit(name, ())
    return ordered

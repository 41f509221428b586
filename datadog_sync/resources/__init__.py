"""The resource registry: every module in this package that defines a resource type registers it.

Adding a resource type is adding one module here with a ``BaseResource`` subclass that sets
``resource_type``; ``--resources``, ``--filter Type=`` and ``--max-workers-per-type`` pick it up. A subtype of a
composite type (``integrations``) is one package plus one ``register_subtype`` line in its composite's module.
"""

from __future__ import annotations

import importlib
import pkgutil

from datadog_sync.resources.base import BaseResource

_REGISTRY: dict[str, type[BaseResource]] = {}
_DISCOVERED = False


def register(cls: type[BaseResource]) -> type[BaseResource]:
    """Register a resource class (also usable as a decorator, e.g. by tests)."""
    _REGISTRY[cls.resource_type] = cls
    return cls


def unregister(resource_type: str) -> None:
    _REGISTRY.pop(resource_type, None)


def registry() -> dict[str, type[BaseResource]]:
    """All resource types by name, discovering this package's modules on first use."""
    global _DISCOVERED
    if not _DISCOVERED:
        _DISCOVERED = True
        for info in pkgutil.iter_modules(__path__):
            if info.name == "base":
                continue
            module = importlib.import_module(f"{__name__}.{info.name}")
            for value in vars(module).values():
                if (
                    isinstance(value, type)
                    and issubclass(value, BaseResource)
                    and value.__module__.startswith(module.__name__)
                    and getattr(value, "resource_type", None)
                    and not getattr(value, "subtype", None)  # a subtype is registered by its composite type
                ):
                    _REGISTRY.setdefault(value.resource_type, value)
    return dict(sorted(_REGISTRY.items()))

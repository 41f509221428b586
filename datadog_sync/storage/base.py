"""The object-store interface state, side channels and the run lock use when state lives in a bucket.

A store is one bucket (S3, GCS) or container (Azure Blob). Keys are ``/``-separated; each operation is atomic
per object (an object store replaces an object whole or not at all). Besides plain read, write, list and delete,
the run lock needs three conditional operations: create only if absent (S3 ``If-None-Match: *``, GCS
``ifGenerationMatch=0``, Azure ``If-None-Match: *``), and replace or delete only if unchanged since read (an
ETag or generation condition).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

__all__ = ["ObjectInfo", "ObjectPath", "ObjectStore", "StorageError"]


class StorageError(Exception):
    """An object store refused or failed an operation; the message names the bucket or object and why."""


@dataclass(frozen=True)
class ObjectInfo:
    """An object directly under a listed prefix: its name there and when it was last written (Unix time)."""

    name: str
    modified: float


class ObjectStore(ABC):
    """One bucket or container. Implementations raise :class:`StorageError` with a message fit for the user."""

    #: URL scheme shown in messages: ``s3``, ``gs`` or ``azure``.
    scheme: str = ""
    #: The bucket or container name.
    container: str = ""
    #: Why this run may write no more (it lost its lock to another run): :meth:`write` and :meth:`delete` refuse.
    stopped: str | None = None

    def stop_writes(self, reason: str) -> None:
        """Refuse every later :meth:`write` and :meth:`delete` (the lock's own operations stay possible)."""
        self.stopped = reason

    def check_writable(self, key: str) -> None:
        if self.stopped:
            raise StorageError(f"not writing {self.url(key)}: {self.stopped}")

    def url(self, key: str = "") -> str:
        return f"{self.scheme}://{self.container}/{key}"

    @abstractmethod
    def check(self, prefix: str = "") -> None:
        """Raise :class:`StorageError` unless the bucket exists and the credentials may list ``prefix``."""

    @abstractmethod
    def list(self, prefix: str) -> list[ObjectInfo]:
        """The objects directly under ``prefix`` (a key ending with ``/``, or empty for the top), by name."""

    @abstractmethod
    def read(self, key: str) -> tuple[bytes, str] | None:
        """The object's content and version (ETag or generation), or None when it does not exist."""

    @abstractmethod
    def write(self, key: str, data: bytes) -> None:
        """Create or replace the object."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Delete the object; a missing one is not an error."""

    @abstractmethod
    def create(self, key: str, data: bytes) -> bool:
        """Create the object unless it exists (one atomic conditional request); False when it exists."""

    @abstractmethod
    def replace_if(self, key: str, version: str, data: bytes) -> bool:
        """Replace the object only if its version is still ``version``; False otherwise."""

    @abstractmethod
    def delete_if(self, key: str, version: str) -> bool:
        """Delete the object only if its version is still ``version``; False otherwise."""


def join(prefix: str, name: str) -> str:
    return f"{prefix}/{name}" if prefix else name


@dataclass(frozen=True)
class ObjectPath:
    """A key in a store that reads like a path: ``/`` appends a name, ``str()`` is its URL (``s3://b/k``).

    State keeps one per root in place of a directory, so messages that name a state file or backup name the
    object instead.
    """

    store: ObjectStore
    key: str

    def __truediv__(self, name: str) -> ObjectPath:
        return ObjectPath(self.store, join(self.key, str(name)))

    @property
    def name(self) -> str:
        return self.key.rpartition("/")[2]

    @property
    def parent(self) -> ObjectPath:
        return ObjectPath(self.store, self.key.rpartition("/")[0])

    def __str__(self) -> str:
        return self.store.url(self.key)

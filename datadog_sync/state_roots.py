"""Where one state root's files live: a local directory (:class:`LocalRoot`) or a prefix in a bucket
(:class:`ObjectRoot`). :class:`~datadog_sync.state.StateStore` reads, writes and lists its files through one
of these, so layouts, strict loading, pruning and backups behave the same on every backend.

A file is named by a *handle*: a :class:`~pathlib.Path` locally, an :class:`~datadog_sync.storage.ObjectPath`
in a bucket (its ``str()`` is the object's URL, so every message names the object).
"""

from __future__ import annotations

import os
import secrets
import shutil
import stat
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Union

from datadog_sync.state_files import (
    BACKUP_DIR,
    DIR_MODE,
    Origin,
    StateFileError,
    atomic_write,
    fsync_dir,
    newer_or_equal,
    parse_file,
    read_file,
    scan,
    unlink,
)
from datadog_sync.storage import ObjectPath, ObjectStore, StorageError

Handle = Union[Path, ObjectPath]
Scanned = dict[str, list[tuple[Union[str, None], Any]]]


class LocalRoot:
    """A state directory: atomic owner-only files (see :mod:`datadog_sync.state_files`)."""

    def __init__(self, path: Path) -> None:
        self.location = path

    def child(self, name: str) -> Path:
        return self.location / name

    def scan(self, origin: Origin) -> Scanned:
        return scan(self.location, origin)

    def read(self, handle: Path, hint: str) -> tuple[bytes, dict[str, Any]]:
        return read_file(handle, hint)

    def write(self, handle: Path, data: bytes) -> None:
        atomic_write(handle, data)

    def remove(self, handle: Path) -> None:
        unlink(handle)

    def newer_or_equal(self, path: Path, other: Path) -> bool:
        return newer_or_equal(path, other)

    def flush(self) -> None:
        fsync_dir(self.location)

    def prepare(self, origin: Origin, types: list[str]) -> None:
        """Create the directory if needed (owner-only) or raise :class:`StateFileError` saying why not.

        With ``types``, also refuse when a path a dump of those types writes or prunes (``<type>.json``,
        ``<type>.<id>.json``) exists but is not a regular file (a directory, a FIFO...), which would otherwise
        fail in ``os.replace`` only after the run's API work.
        """
        root = self.location
        try:
            root.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        except FileExistsError:
            raise StateFileError(root, f"the {origin} state path is a file, not a directory") from None
        except NotADirectoryError:
            raise StateFileError(root, f"a part of the {origin} state path is a file, not a directory") from None
        except OSError as exc:
            raise StateFileError(
                root, f"the {origin} state directory cannot be created ({exc.strerror or exc})"
            ) from None
        if types:
            self._check_file_paths(origin, types)

    def _check_file_paths(self, origin: Origin, types: list[str]) -> None:
        root = self.location
        try:
            names = sorted(os.listdir(root))
        except OSError as exc:
            raise StateFileError(root, f"cannot list the {origin} state directory: {exc.strerror or exc}") from None
        for name in names:
            rtype, _, rest = name.partition(".")
            if rtype not in types or not (rest == "json" or rest.endswith(".json")):
                continue
            path = root / name
            try:
                mode = path.stat().st_mode
            except FileNotFoundError:  # a dangling symbolic link: os.replace replaces the link itself
                continue
            except OSError as exc:
                raise StateFileError(path, f"cannot be checked ({exc.strerror or exc})") from None
            if not stat.S_ISREG(mode):
                kind = "a directory" if stat.S_ISDIR(mode) else "not a regular file"
                raise StateFileError(root, f"the {origin} state file {name} is {kind}; move it away")

    def write_backup(self, encoded: dict[str, bytes], suffix: str) -> Path:
        """``.backup/<unix time><suffix>/<type>.json``; the directory appears complete or not at all: files are
        written to a hidden temporary directory that is renamed into place."""
        backups = self.location / BACKUP_DIR
        backups.mkdir(mode=DIR_MODE, exist_ok=True)
        tmp = backups / f".tmp-{secrets.token_hex(6)}"
        tmp.mkdir(mode=DIR_MODE)
        try:
            for rtype, data in encoded.items():
                atomic_write(tmp / f"{rtype}.json", data)
            fsync_dir(tmp)
            while True:
                target = backups / f"{time.time()}{suffix}"
                if not target.exists():
                    break
            os.rename(tmp, target)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        fsync_dir(backups)
        return target


#: Objects downloaded at once when state is loaded: per-file mode has one object per resource, and one GET after
#: another would make loading 1,000 accounts take seconds of round trips (docs/performance.md).
READ_THREADS = 16


class ObjectRoot:
    """A key prefix in a bucket holding a state root's objects, with the local directory's layout.

    Each object is written whole (object stores replace atomically). A backup's objects are written one by one:
    a run killed meanwhile leaves a partial backup, each of its objects complete.
    """

    def __init__(self, store: ObjectStore, prefix: str) -> None:
        self.store = store
        self.location = ObjectPath(store, prefix.strip("/"))
        self._modified: dict[str, float] = {}
        self._checked = False
        self._fetched: dict[str, tuple[bytes, str] | None | StorageError] = {}

    @property
    def _prefix(self) -> str:
        return f"{self.location.key}/" if self.location.key else ""

    def child(self, name: str) -> ObjectPath:
        return self.location / name

    def scan(self, origin: Origin) -> Scanned:
        try:
            infos = self.store.list(self._prefix)
        except StorageError as exc:
            raise StateFileError(self.location, f"cannot list the {origin} state: {exc}") from None
        by_type: Scanned = {}
        for info in infos:
            name = info.name
            if name.startswith(".") or not name.endswith(".json"):
                continue
            handle = self.child(name)
            self._modified[handle.key] = info.modified
            rtype, dot, sanitized = name[: -len(".json")].partition(".")
            by_type.setdefault(rtype, []).append((sanitized if dot else None, handle))
        return by_type

    def prefetch(self, handles: list[ObjectPath]) -> None:
        """Download these objects concurrently; :meth:`read` then takes each from memory, once."""
        self._fetched.clear()  # what an interrupted load left is not current any more
        keys = list(dict.fromkeys(h.key for h in handles))
        if len(keys) < 2:
            return

        def fetch(key: str) -> tuple[bytes, str] | None | StorageError:
            try:
                return self.store.read(key)
            except StorageError as exc:
                return exc

        with ThreadPoolExecutor(max_workers=min(READ_THREADS, len(keys))) as pool:
            self._fetched.update(zip(keys, pool.map(fetch, keys), strict=True))

    def read(self, handle: ObjectPath, hint: str) -> tuple[bytes, dict[str, Any]]:
        found = self._fetched.pop(handle.key) if handle.key in self._fetched else self._read(handle)
        if isinstance(found, StorageError):
            raise StateFileError(handle, f"cannot be read: {found}")
        if found is None:
            raise StateFileError(handle, "was deleted while state was loaded; run the command again")
        return found[0], parse_file(handle, found[0], hint)

    def _read(self, handle: ObjectPath) -> tuple[bytes, str] | None | StorageError:
        try:
            return self.store.read(handle.key)
        except StorageError as exc:
            return exc

    def write(self, handle: ObjectPath, data: bytes) -> None:
        try:
            self.store.write(handle.key, data)
        except StorageError as exc:
            raise StateFileError(handle, f"cannot be written: {exc}") from None
        self._modified[handle.key] = time.time()

    def remove(self, handle: ObjectPath) -> None:
        try:
            self.store.delete(handle.key)
        except StorageError as exc:
            raise StateFileError(handle, f"cannot be deleted: {exc}") from None

    def newer_or_equal(self, path: ObjectPath, other: ObjectPath) -> bool:
        return self._modified.get(path.key, 0.0) >= self._modified.get(other.key, 0.0)

    def flush(self) -> None:
        pass

    def prepare(self, origin: Origin, types: list[str]) -> None:
        """Raise :class:`StateFileError` unless the bucket exists and these credentials may list the prefix."""
        if self._checked:  # once per run: checkpoints need no extra request
            return
        try:
            self.store.check(self._prefix)
        except StorageError as exc:
            raise StateFileError(self.location, str(exc)) from None
        self._checked = True

    def write_backup(self, encoded: dict[str, bytes], suffix: str) -> ObjectPath:
        target = self.location / BACKUP_DIR / f"{time.time()}{suffix}"
        for rtype, data in encoded.items():
            self.write(target / f"{rtype}.json", data)
        return target

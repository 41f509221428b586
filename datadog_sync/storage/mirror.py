"""The side-channel files (external-ID hand-off, journal) of bucket state: ``<destination prefix>/handoff/``.

Documents are uploaded whole. A journal is append-only and each line must reach the bucket the moment it is
written (a runner thrown away after a kill loses nothing), but re-uploading the whole file per line costs
O(n^2) bytes; so each line is its own small object, ``<name>~<run>-<seq>``, and the run that closes the journal
writes it whole as ``<name>`` and deletes the line objects. Loading puts ``<name>`` and then the line objects,
in key order (the run id starts with its start time, and runs on one state are serialized by the lock), back
together.
"""

from __future__ import annotations

import logging
import secrets
import time

from datadog_sync.storage.base import ObjectPath, StorageError

SEP = "~"
_LOG = "datadog_sync"


class RemoteFiles:
    def __init__(self, remote: ObjectPath) -> None:
        self.remote = remote
        self.run = f"{int(time.time() * 1000):015d}-{secrets.token_hex(3)}"
        self._seq = 0
        self._segments: dict[str, list[str]] = {}  # journal name -> its line objects (pulled and written)
        self._pending: dict[str, list[tuple[str, bytes]]] = {}  # line objects whose upload failed

    @property
    def _prefix(self) -> str:
        return f"{self.remote.key}/"

    def pull(self) -> dict[str, bytes]:
        """Every file's content, journals with their line objects appended."""
        store, prefix = self.remote.store, self._prefix
        main: dict[str, bytes] = {}
        lines: dict[str, list[str]] = {}
        for info in store.list(prefix):
            base, sep, _ = info.name.partition(SEP)
            if sep:
                lines.setdefault(base, []).append(info.name)
                continue
            found = store.read(prefix + info.name)
            if found is not None:
                main[info.name] = found[0]
        for base, names in lines.items():
            parts = [main.get(base, b"")]
            for name in sorted(names):
                found = store.read(prefix + name)
                if found is not None:
                    parts.append(found[0])
            main[base] = b"".join(parts)
            self._segments[base] = [prefix + name for name in sorted(names)]
        return main

    def put(self, name: str, data: bytes) -> bool:
        if self.remote.store.stopped:  # this run lost its lock: the bucket is another run's now (the log says so)
            return False
        try:
            self.remote.store.write(self._prefix + name, data)
            return True
        except StorageError as exc:
            _warn(f"could not copy {name} to {self.remote / name} (kept locally, retried at the next change): {exc}")
            return False

    def line(self, name: str, text: str) -> bool:
        """Upload one journal line as its own object (and any earlier one whose upload failed)."""
        self._seq += 1
        key = f"{self._prefix}{name}{SEP}{self.run}-{self._seq:08d}"
        pending = self._pending.setdefault(name, [])
        pending.append((key, text.encode()))
        if self.remote.store.stopped:
            return False
        while pending:
            key, data = pending[0]
            try:
                self.remote.store.write(key, data)
            except StorageError as exc:
                _warn(f"could not copy a line of {name} to {self.remote / name} (kept locally, retried): {exc}")
                return False
            self._segments.setdefault(name, []).append(key)
            pending.pop(0)
        return True

    def compact(self, name: str, data: bytes) -> None:
        """Write the whole journal as one object and delete its line objects (all of it is in ``data``)."""
        segments = self._segments.get(name, [])
        if not segments and not self._pending.get(name):
            return
        if not self.put(name, data):
            return  # the line objects stay: the next run puts them together again
        self._pending.pop(name, None)
        for key in segments:
            try:
                self.remote.store.delete(key)
            except StorageError:
                return  # a leftover line is also in the whole object: loading would repeat it, which is harmless
        self._segments[name] = []


def _warn(message: str) -> None:
    logging.getLogger(_LOG).warning("%s", message)

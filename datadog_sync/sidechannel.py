"""Side channels: files a plugin keeps beside destination state, owned by the host.

A plugin never writes host state or files of its own: what ``create``/``update`` return is what state keeps.
Some facts must outlive a run killed before its state is saved (an AWS external ID is returned once, by the
create call), so a plugin journals them through ``ctx.sidechannel``, and writes its hand-off files there. The
files live in ``<destination resources path>/handoff/`` (a sub-directory, so the state loader never reads them
as state), readable by their owner only; the host closes every journal after ``sync`` applied its plan.

When state is in a bucket, the files are kept in both places: the bucket's ``<destination prefix>/handoff/``
objects are the real ones, copied into the local directory when the run starts (the plugins read them there)
and uploaded whole after every change (each journal line, each document), so a CI runner that is thrown away
loses none; the local copy is there for the operator to read.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

from datadog_sync.state import write_private_atomic
from datadog_sync.storage import ObjectPath
from datadog_sync.storage.mirror import RemoteFiles

DIR_NAME = "handoff"


def private_dir(path: Path) -> Path:
    """The side-channel directory, readable by its owner only: its files hold external IDs."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)
    return path


def _open_private(path: Path, flags: int) -> TextIO:
    """Open ``path`` for writing with mode 0o600, also when it existed with a wider one."""
    fd = os.open(path, flags | os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        os.fchmod(fd, 0o600)
        return os.fdopen(fd, "w", encoding="utf-8")
    except BaseException:
        os.close(fd)
        raise


class Journal:
    """An append-only file of JSON lines; each line is flushed at once.

    The file stays open for the run: the OS keeps flushed data when the process is killed, and one open per
    line would cost more than the request that brought it.
    """

    def __init__(self, path: Path, remote: RemoteFiles | None = None):
        self.path = path
        self._file: TextIO | None = None
        self._remote = remote  # bucket state: each line is uploaded too

    def append(self, item: dict[str, Any]) -> None:
        if self._file is None:
            private_dir(self.path.parent)
            self._file = _open_private(self.path, os.O_APPEND)
        line = json.dumps(item) + "\n"
        self._file.write(line)
        self._file.flush()
        if self._remote is not None:
            self._remote.line(self.path.name, line)

    def lines(self) -> list[dict]:
        """Every complete line as written; a torn last line (the writer was killed) is skipped."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except OSError:
            return []
        items = []
        for line in text.splitlines():
            try:
                item = json.loads(line)
            except ValueError:
                continue
            if isinstance(item, dict):
                items.append(item)
        return items

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        if self._remote is not None:
            try:
                data = self.path.read_bytes()
            except OSError:
                return
            self._remote.compact(self.path.name, data)


class SideChannels:
    """The run's side-channel files under ``root``: journals (kept open until :meth:`close`) and documents.

    With ``remote`` (a prefix in the state bucket), the bucket's files are copied into ``root`` first, and every
    change is uploaded.
    """

    def __init__(self, root: Path, remote: ObjectPath | None = None):
        self.root = Path(root)
        self.remote = RemoteFiles(remote) if remote is not None else None
        self._journals: dict[str, Journal] = {}
        if self.remote is not None:
            self._pull(self.remote)

    def _pull(self, remote: RemoteFiles) -> None:
        """Make the local directory a copy of the bucket's side-channel files (the bucket's are the real ones)."""
        files = remote.pull()
        for name, data in files.items():
            private_dir(self.root)
            write_private_atomic(self.root / name, data.decode("utf-8", "replace"))
        if self.root.is_dir():
            for stale in self.root.iterdir():
                if stale.is_file() and not stale.name.startswith(".") and stale.name not in files:
                    stale.unlink()  # from another bucket or an older run: not this state's

    def path(self, name: str) -> Path:
        return self.root / name

    def journal(self, name: str) -> Journal:
        if name not in self._journals:
            self._journals[name] = Journal(self.path(name), self.remote)
        return self._journals[name]

    def write(self, name: str, text: str | Iterable[str]) -> Path:
        """Replace the document ``name`` atomically (owner-only). A large document may come in pieces of text,
        written as they come instead of joined first."""
        path = self.path(name)
        private_dir(path.parent)
        write_private_atomic(path, text)
        if self.remote is not None:
            self.remote.put(name, text.encode("utf-8") if isinstance(text, str) else path.read_bytes())
        return path

    def close(self) -> None:
        for journal in self._journals.values():
            journal.close()

"""The state directory's files, one at a time: atomic owner-only writes, reading and checking one file, listing
a root's files by type, and the errors that name a file and its fix. :mod:`datadog_sync.state` builds the
store (layouts, fingerprints, backups) on these; the layout itself is described there.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

from datadog_sync.jsonshare import loads_shared

Origin = Literal["source", "destination"]
ORIGINS: tuple[Origin, ...] = ("source", "destination")
BACKUP_DIR = ".backup"

_dumps: Callable[[Any], str] = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
UNSAFE_ID = re.compile(r"[/\\\x00]")
MAX_NAME = 255  # bytes in a file name on common file systems
TMP_EXTRA = len(".") + len(".0123456789ab.tmp")  # what atomic_write adds for its temporary file
#: State files, backups and their directories hold configurations and AWS external IDs: owner only.
FILE_MODE, DIR_MODE = 0o600, 0o700
_JSON_TYPES = {type(None): "null", bool: "true or false", int: "a number", float: "a number", str: "a string"}


class StateFileError(Exception):
    """A state file that cannot be loaded or written safely. ``path`` is the file, ``reason`` what is wrong."""

    def __init__(self, path: Path | str | Any, reason: str) -> None:
        # A local file is a Path; an object in a bucket keeps its ObjectPath (``str()`` is its URL).
        self.path = Path(path) if isinstance(path, (str, os.PathLike)) else path
        self.reason = reason
        super().__init__(f"state file {self.path}: {reason}")


def sanitize_id(_id: str) -> str:
    """The per-file name part of an id: every ``:`` becomes ``.`` (as upstream, for Windows and buckets)."""
    return _id.replace(":", ".")


def file_digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


def fix_hint(origin: Origin, destination_root: Any) -> str:
    """How to fix a bad state file; ``destination_root`` is a directory or an ObjectPath."""
    if origin == "source":
        return "fix it by hand, or delete it and run `datadog-sync import` again to rebuild it"
    return (
        f"fix it by hand or restore it from a copy (reset and sync backups are under {destination_root / BACKUP_DIR}); "
        "if you delete it, the next sync looks the resources up in the destination again and adopts those it "
        "finds (AWS accounts by account id), but what only this file held is lost, such as the external IDs "
        "of AWS role accounts created by earlier syncs"
    )


def json_kind(value: Any) -> str:
    """How a JSON value reads to a user: "null", "a list", "a string"..."""
    if isinstance(value, list):
        return "a list"
    return _JSON_TYPES.get(type(value), type(value).__name__)


def fsync_dir(path: Path) -> None:
    """Make renames in ``path`` durable (POSIX only; a no-op where directories cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes | Iterable[bytes]) -> None:
    """Write ``data`` (bytes, or its parts in order, e.g. :func:`encode_parts`) to ``path`` (owner-only) via a
    temporary file in the same directory, fsync, ``os.replace``."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as f:
            if isinstance(data, bytes):
                f.write(data)
            else:
                f.writelines(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def write_private_atomic(path: Path | str, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically, readable by the owner only; a missing directory is made 0700.

    For files holding configurations or external IDs (state, backups, hand-off, journal rewrites).
    """
    path = Path(path)
    path.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    atomic_write(path, text.encode("utf-8"))


def scan(root: Path, origin: Origin) -> dict[str, list[tuple[str | None, Path]]]:
    """Group the state files of ``root`` by type: ``type -> [(sanitized id or None if combined, path)]``."""
    by_type: dict[str, list[tuple[str | None, Path]]] = {}
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name)
    except FileNotFoundError:
        return by_type
    except NotADirectoryError:
        raise StateFileError(root, f"the {origin} state path is not a directory") from None
    except OSError as exc:
        raise StateFileError(root, f"cannot list the {origin} state directory: {exc.strerror or exc}") from None
    for entry in entries:
        name = entry.name
        if name.startswith(".") or not name.endswith(".json"):
            continue
        try:
            if not entry.is_file():
                continue
        except OSError:
            continue
        stem = name[: -len(".json")]
        rtype, dot, sanitized = stem.partition(".")
        by_type.setdefault(rtype, []).append((sanitized if dot else None, Path(entry.path)))
    return by_type


def read_file(path: Path, hint: str) -> tuple[bytes, dict[str, Any]]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise StateFileError(path, f"cannot be read: {exc.strerror or exc}") from None
    return raw, parse_file(path, raw, hint)


def parse_file(path: Any, raw: bytes, hint: str) -> dict[str, Any]:
    """A state file's content: a JSON object, or :class:`StateFileError` naming ``path`` (a file or object)."""
    try:
        content = loads_shared(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise StateFileError(path, f"is not UTF-8 text ({exc.reason} at byte {exc.start}); {hint}") from None
    except ValueError as exc:
        raise StateFileError(path, f"is not valid JSON ({exc}); {hint}") from None
    if not isinstance(content, dict):
        raise StateFileError(path, f"the file holds {json_kind(content)}, not a JSON object keyed by id; {hint}")
    return content


def encode(origin: Origin, rtype: str, entries: Mapping[str, Any]) -> bytes:
    """The entries as compact JSON (ids are strings)."""
    return b"".join(encode_parts(origin, rtype, entries))


def encode_parts(origin: Origin, rtype: str, entries: Mapping[str, Any]) -> Iterator[bytes]:
    """:func:`encode`'s bytes, one entry at a time, for a file written as they come: no copy of the whole file is
    held (13 MB at 10,000 AWS accounts, twice over for its text), and in a worker thread (a checkpoint) the event
    loop's thread takes its turns between entries, where one call over the whole mapping would hold the
    interpreter lock for all of it (15-30 ms at 1,000 AWS accounts)."""
    separator = b"{"
    for key, value in entries.items():
        try:
            text = f"{_dumps(key)}:{_dumps(value)}"
        except (TypeError, ValueError) as exc:
            raise TypeError(f"cannot write {origin} state of {rtype} id {key!r}: {exc}") from exc
        yield separator
        yield text.encode()
        separator = b","
    yield b"}" if entries else b"{}"


def newer_or_equal(path: Path, other: Path) -> bool:
    try:
        return path.stat().st_mtime_ns >= other.stat().st_mtime_ns
    except OSError:
        return True


def unlink(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass

"""State files, compatible with upstream datadog-sync-cli's local storage.

Layout (two roots, ``resources/source`` and ``resources/destination`` by default):

* combined mode: ``<root>/<type>.json`` holds a JSON object ``{source id: object}``;
* per-file mode (``--resource-per-file``): ``<root>/<type>.<sanitized id>.json`` holds exactly one entry
  ``{"<original id>": object}``; the sanitized id is the id with every ``:`` replaced by ``.``.

Loading reads both layouts transparently (the type is the file name up to its first ``.``; names starting
with ``.``, such as ``.backup/`` and our temporary files, and non-``.json`` names are ignored). The state key
is always the *source* id; destination state values carry the destination's own ids. JSON is written
compactly, UTF-8, without ASCII escaping.

Deliberate differences from upstream:

* Writes are atomic (temporary file in the same directory, flush + fsync, ``os.replace``): a crash or
  Ctrl-C leaves either the old or the new file, never a truncated one.
* A corrupt or hand-edited file (invalid JSON or UTF-8, top level not an object, a destination value that is
  neither an object nor a list (a source entry of any type loads; planning refuses a bad one alone), a
  per-file file without exactly one entry or whose key does not match its name) raises
  :class:`StateFileError` naming the file and the fix, and nothing is loaded or written. Upstream logs a
  warning and skips the file, which then gets overwritten - losing the id mapping it held.
  (List values are accepted because upstream's ``host_tags`` state maps a host name to its tag list.)
* :meth:`StateStore.dump` rewrites only the types it is given; a type whose import failed is simply not
  dumped and keeps its files.
* Dumping a type makes its files match memory in the current layout: files of the other layout for that
  type are removed once the new ones are written (upstream leaves them, so stale entries come back on the
  next load), and in per-file mode the files of ids no longer in memory are removed. ``prune=False``
  writes without removing anything.
* Per-file mode writes only the entries that changed since they were loaded or last dumped.
* Two ids that sanitize to the same file name are an error naming both (upstream keeps the first and logs).
* Ids that would make a file name leave the directory (containing ``/``, ``\\`` or NUL) are an error.
* When an id appears in several files (mixed layouts), the most recently modified file wins, then per-file
  over combined; upstream's winner depends on listing order.
"""

from __future__ import annotations

import os  # noqa: F401 - the unit tests reach os.replace / os.fsync through this module
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, cast

from datadog_sync.state_files import (
    MAX_NAME,
    ORIGINS,
    TMP_EXTRA,
    UNSAFE_ID,
    Origin,
    StateFileError,
    atomic_write,
    encode,
    encode_pieces,
    file_digest,
    fix_hint,
    json_kind,
    sanitize_id,
    write_private_atomic,
)
from datadog_sync.state_roots import Handle, LocalRoot, ObjectRoot
from datadog_sync.storage import ObjectPath, ObjectStore

__all__ = ["ORIGINS", "Origin", "StateFileError", "StateStore", "sanitize_id", "write_private_atomic"]

_LABEL_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


class StateStore:
    """In-memory source and destination state (``type -> source id -> object``) and its files.

    Not thread-safe; meant for one asyncio loop. ``source`` / ``destination`` are ``defaultdict(dict)``
    like upstream, so ``store.source[rtype][key] = obj`` works for a new type.
    """

    def __init__(
        self,
        source_path: Path | str = "resources/source",
        destination_path: Path | str = "resources/destination",
        *,
        resource_per_file: bool = False,
        store: ObjectStore | None = None,
    ) -> None:
        """With ``store``, the two paths are key prefixes in that bucket instead of local directories."""
        self._roots: dict[str, LocalRoot | ObjectRoot] = {
            origin: ObjectRoot(store, str(path)) if store is not None else LocalRoot(Path(path).absolute())
            for origin, path in (("source", source_path), ("destination", destination_path))
        }
        # In a bucket these are ObjectPaths, which support what callers do with a root: ``/``, ``.name``, ``str()``.
        self.source_path = cast(Path, self._roots["source"].location)
        self.destination_path = cast(Path, self._roots["destination"].location)
        self.remote = store is not None
        self.resource_per_file = resource_per_file
        self.source: dict[str, dict[str, Any]] = defaultdict(dict)
        self.destination: dict[str, dict[str, Any]] = defaultdict(dict)
        # (origin, type) -> id -> digest of the per-file file content last read or written.
        self._fingerprints: dict[tuple[str, str], dict[str, bytes]] = {}

    # ------------------------------------------------------------------ helpers

    def root(self, origin: Origin) -> Path:
        """``origin``'s directory (an :class:`~datadog_sync.storage.ObjectPath` when state is in a bucket)."""
        return cast(Path, self._io(origin).location)

    def object_root(self, origin: Origin) -> ObjectPath | None:
        """``origin``'s prefix in the bucket when state is in one, else None."""
        io = self._io(origin)
        return io.location if isinstance(io, ObjectRoot) else None

    def _io(self, origin: Origin) -> LocalRoot | ObjectRoot:
        if origin not in self._roots:
            raise ValueError(f"origin must be 'source' or 'destination', not {origin!r}")
        return self._roots[origin]

    def state(self, origin: Origin) -> dict[str, dict[str, Any]]:
        self.root(origin)  # validates origin
        return self.source if origin == "source" else self.destination

    @staticmethod
    def _types_arg(types: Iterable[str] | None, what: str) -> list[str] | None:
        if types is None:
            return None
        if isinstance(types, str):
            raise TypeError(f"{what}() takes an iterable of resource types, not the string {types!r}")
        out = list(dict.fromkeys(types))
        for rtype in out:
            if not isinstance(rtype, str) or not rtype or "." in rtype or UNSAFE_ID.search(rtype):
                raise ValueError(f"invalid resource type {rtype!r}")
        return out

    def files_for(self, origin: Origin, resource_type: str) -> list[Path]:
        """The files currently holding ``resource_type`` in ``origin`` (both layouts), sorted by name."""
        return [path for _, path in self._io(origin).scan(origin).get(resource_type, [])]

    def prepare_root(self, origin: Origin, types: Iterable[str] = ()) -> Path:
        """Make sure ``origin``'s state can be written, or raise :class:`StateFileError` saying why not.

        Locally: create the directory if needed (owner-only); with ``types``, also refuse when a path a dump of
        those types writes or prunes exists but is not a regular file. In a bucket: the bucket exists and the
        credentials may list the prefix.
        """
        wanted = self._types_arg(types, "prepare_root") or []
        self._io(origin).prepare(origin, wanted)
        return self.root(origin)

    def file_name_problem(self, resource_type: str, _id: str) -> str | None:
        """Why ``_id`` cannot have its own state file in per-file mode (None in combined mode or when it can)."""
        if not self.resource_per_file:
            return None
        sanitized = sanitize_id(_id)
        if UNSAFE_ID.search(sanitized) or sanitized in (".", ".."):
            reason = "it contains '/', '\\' or NUL" if sanitized not in (".", "..") else f"it is {sanitized!r}"
        elif len(f"{resource_type}.{sanitized}.json".encode()) + TMP_EXTRA > MAX_NAME:
            reason = "it is too long"
        else:
            return None
        return (
            f"the {resource_type} id {_id!r} cannot be used in a state file name ({reason}); "
            "use combined state files (no --resource-per-file) for this type"
        )

    def _per_file_path(self, origin: Origin, rtype: str, _id: str) -> Handle:
        return self._io(origin).child(f"{rtype}.{sanitize_id(_id)}.json")

    # ------------------------------------------------------------------ load

    def load(self, types: Iterable[str] | None = None, origins: Iterable[Origin] = ORIGINS) -> None:
        """Load ``origins`` (default both) from disk, replacing what memory held for the loaded types (all if None).
        An origin not asked for is neither read nor changed: ``import`` reads source state only.

        All or nothing: on :class:`StateFileError` memory is left unchanged.
        """
        wanted = self._types_arg(types, "load")
        chosen = list(dict.fromkeys(origins))
        for origin in chosen:
            self._io(origin)  # validates origin
        loaded: dict[Origin, tuple[dict[str, dict[str, Any]], dict[tuple[str, str], dict[str, bytes]]]] = {}
        for origin in chosen:
            loaded[origin] = self._load_origin(origin, None if wanted is None else set(wanted))
        for origin, (data, fingerprints) in loaded.items():
            state = self.state(origin)
            if wanted is None:
                state.clear()
                for key in [k for k in self._fingerprints if k[0] == origin]:
                    del self._fingerprints[key]
            else:
                for rtype in wanted:
                    state.pop(rtype, None)
                    self._fingerprints.pop((origin, rtype), None)
            state.update(data)
            self._fingerprints.update(fingerprints)

    def _load_origin(
        self, origin: Origin, wanted: set[str] | None
    ) -> tuple[dict[str, dict[str, Any]], dict[tuple[str, str], dict[str, bytes]]]:
        io = self._io(origin)
        hint = fix_hint(origin, self.destination_path)
        data: dict[str, dict[str, Any]] = {}
        fingerprints: dict[tuple[str, str], dict[str, bytes]] = {}
        scanned = {t: files for t, files in io.scan(origin).items() if wanted is None or t in wanted}
        if isinstance(io, ObjectRoot):
            io.prefetch([path for files in scanned.values() for _, path in files])
        for rtype, files in scanned.items():
            entries: dict[str, Any] = {}
            came_from: dict[str, Any] = {}  # id -> file its value was taken from
            type_fps: dict[str, bytes] = {}
            # Combined files first, so that per-file entries win ties.
            for sanitized, path in sorted(files, key=lambda f: f[0] is not None):
                raw, content = io.read(path, hint)
                if sanitized is not None:
                    if len(content) != 1:
                        raise StateFileError(
                            path,
                            f"a per-resource state file must hold exactly one entry, found {len(content)}; {hint}",
                        )
                    (key,) = content
                    if sanitize_id(key) != sanitized:
                        expected = f"{rtype}.{sanitize_id(key)}.json"
                        raise StateFileError(
                            path,
                            f"its entry {key!r} belongs in a file named {expected!r}; rename the file or {hint}",
                        )
                for key, value in content.items():
                    # A source entry of any JSON type is loaded: planning refuses a bad one as that entry's own
                    # failure (issue 9, item 6); destination state is only ever written by this tool.
                    if origin != "source" and not isinstance(value, (dict, list)):
                        raise StateFileError(
                            path, f"the value for id {key!r} is {json_kind(value)}, not a JSON object; {hint}"
                        )
                    if key in came_from and not io.newer_or_equal(path, came_from[key]):
                        continue  # a newer combined file holds this id too
                    entries[key] = value
                    came_from[key] = path
                    if sanitized is not None:
                        type_fps[key] = file_digest(raw)
                    else:
                        type_fps.pop(key, None)
            data[rtype] = entries
            if type_fps:
                fingerprints[(origin, rtype)] = type_fps
        return data, fingerprints

    # ------------------------------------------------------------------ dump

    def dump(
        self,
        origin: Origin,
        types: Iterable[str],
        *,
        prune: bool = True,
        snapshot: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        """Write the given types of ``origin`` so their files match memory (a missing type means empty).

        Combined mode rewrites ``<type>.json``; per-file mode writes the entries that changed and, unless
        ``prune`` is False, removes files of ids no longer present. Files of the other layout for a dumped
        type are removed after the new ones are written (unless ``prune`` is False).
        ``snapshot`` (type -> entries) is written instead of memory: a copy taken by a caller that dumps in a
        worker thread while its event loop goes on changing memory (the applier's checkpoints).
        """
        wanted = self._types_arg(types, "dump") or []
        if not wanted:
            return
        self.prepare_root(origin, wanted)
        io = self._io(origin)
        state = self.state(origin) if snapshot is None else snapshot
        existing = io.scan(origin)
        problems: list[StateFileError] = []
        try:
            for rtype in wanted:
                entries = state.get(rtype) or {}
                files = existing.get(rtype, [])
                try:
                    if self.resource_per_file:
                        self._dump_per_file(origin, rtype, entries, files, prune)
                    else:
                        self._dump_combined(origin, rtype, entries, files, prune)
                except StateFileError as exc:  # one type's unwritable ids must not cost the other types
                    problems.append(exc)
        finally:
            io.flush()
        if problems:
            raise problems[0]

    @staticmethod
    def _write(io: LocalRoot | ObjectRoot, handle: Any, data: bytes | Iterable[bytes]) -> None:
        if isinstance(io, LocalRoot):
            atomic_write(handle, data)  # looked up here, where the unit tests count the writes; pieces as they come
        else:
            io.write(handle, data if isinstance(data, bytes) else b"".join(data))  # an object is uploaded whole

    @staticmethod
    def _check_ids(origin: Origin, rtype: str, entries: Mapping[str, Any]) -> None:
        for key in entries:
            if not isinstance(key, str):
                raise TypeError(
                    f"state ids must be strings: {origin} {rtype} has the id {key!r} ({type(key).__name__})"
                )

    def _dump_combined(
        self, origin: Origin, rtype: str, entries: Mapping[str, Any], files: list[tuple[str | None, Any]], prune: bool
    ) -> None:
        self._check_ids(origin, rtype, entries)
        io = self._io(origin)
        self._write(io, io.child(f"{rtype}.json"), encode_pieces(origin, rtype, entries))
        if prune:
            for sanitized, path in files:
                if sanitized is not None:
                    io.remove(path)
            self._fingerprints.pop((origin, rtype), None)

    def _dump_per_file(
        self, origin: Origin, rtype: str, entries: Mapping[str, Any], files: list[tuple[str | None, Any]], prune: bool
    ) -> None:
        self._check_ids(origin, rtype, entries)
        io = self._io(origin)
        root = io.location
        names: dict[str, str] = {}
        # Ids that cannot be file names are left out; the others are written, then the first one is reported.
        unwritable = [(key, problem) for key in entries if (problem := self.file_name_problem(rtype, key))]
        skipped = {key for key, _ in unwritable}
        entries = {key: value for key, value in entries.items() if key not in skipped}
        for key in entries:
            sanitized = sanitize_id(key)
            other = names.setdefault(sanitized, key)
            if other != key:
                raise StateFileError(
                    root / f"{rtype}.{sanitized}.json",
                    f"the {rtype} ids {other!r} and {key!r} both map to this file name (':' is replaced by '.'); "
                    "use combined state files (no --resource-per-file) for this type",
                )
        on_disk = {sanitized for sanitized, _ in files if sanitized is not None}
        fps = self._fingerprints.setdefault((origin, rtype), {})
        for key, value in entries.items():
            data = encode(origin, rtype, {key: value})
            digest = file_digest(data)
            if fps.get(key) == digest and sanitize_id(key) in on_disk:
                continue
            self._write(io, self._per_file_path(origin, rtype, key), data)
            fps[key] = digest
        for key in [k for k in fps if k not in entries]:
            del fps[key]
        if prune:
            for file_id, path in files:
                if file_id is None or file_id not in names:
                    io.remove(path)
        if unwritable:
            others = f" (and {len(unwritable) - 1} more)" if len(unwritable) > 1 else ""
            raise StateFileError(root, f"{unwritable[0][1]}{others}; the other {rtype} entries were written")

    # ------------------------------------------------------------------ backups

    def write_backup(self, objects_by_type: Mapping[str, Mapping[str, Any]], label: str | None = None) -> Path:
        """Write ``<destination root>/.backup/<unix time>[-label]/<type>.json`` (combined layout); return the dir.

        Locally the directory appears complete or not at all (a hidden temporary directory renamed into place);
        in a bucket its objects are written one by one.
        """
        self.prepare_root("destination")
        clean_label = _LABEL_UNSAFE.sub("_", label or "").strip("._")
        suffix = f"-{clean_label}" if clean_label else ""
        encoded = {}
        for rtype, entries in objects_by_type.items():
            self._types_arg([rtype], "write_backup")
            self._check_ids("destination", rtype, entries)
            encoded[rtype] = encode("destination", rtype, entries)
        io = self._io("destination")
        if isinstance(io, ObjectRoot):
            return cast(Path, io.write_backup(encoded, suffix))
        return io.write_backup(encoded, suffix)

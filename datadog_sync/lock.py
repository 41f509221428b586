"""The run lock: one command at a time per state directory.

Two runs writing one state directory interleave silently: each saves its own view of destination state and
of the external-ID hand-off, so both end up holding IDs Datadog no longer has. A run therefore first creates
a lock file in the state directory it writes, holding JSON ``{owner, host, pid, started_at, command}``, and
removes it on every exit path. A second run fails at once naming the holder. A lock left by a dead process
on this host is taken over with a warning; any other lock needs ``--force-unlock``.

Storage is behind :class:`LockStore`: three operations a local directory does with ``link`` (or
``O_CREAT | O_EXCL``) and ``rename``, and an object store (S3, GCS, Azure) with a conditional create
(``If-None-Match: *``) and a conditional delete (:class:`ObjectLockStore`). A process id means nothing on
another CI runner, so a lock in a bucket is a lease: it holds an expiry, the run renews it while it works
(:meth:`RunLock.renew`), and a lease that expired (its run was killed) is taken over with a warning. A lease is
judged by its expiry only, never by host name and pid: CI containers often share a host name, so a pid that is
not alive here may well be alive on the machine that holds the lease.

The expiry is written with the holder's clock and read with the reader's: leases assume the clocks of the runs
sharing a bucket agree to within :data:`CLOCK_SKEW_MARGIN` (machines kept in time by NTP agree to well under a
second), and a lease counts as expired only that long after its end.
"""

from __future__ import annotations

import calendar
import getpass
import json
import os
import secrets
import socket
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

from datadog_sync.storage.base import ObjectStore, StorageError, join

__all__ = ["LOCK_FILE", "FileLockStore", "LockError", "LockHolder", "ObjectLockStore", "RunLock", "read_holder"]

LOCK_FILE = ".datadog-sync.lock"  # a leading "." keeps it out of state loading

#: Seconds a lease stays valid after its ``expires_at`` for another run: room for clocks that disagree a little.
CLOCK_SKEW_MARGIN = 30.0


class LockError(Exception):
    """The lock cannot be taken; the message says by whom and what to do."""


class LockStore(Protocol):
    """Where a lock lives. Each operation must be atomic against other processes."""

    location: str

    def create(self, data: bytes) -> bool:
        """Create the lock holding ``data`` unless one exists; False when one exists."""

    def read(self) -> bytes | None:
        """The current lock's content, or None when there is no lock."""

    def remove_if(self, data: bytes) -> bool:
        """Remove the lock only if it still holds ``data`` (never someone else's); False otherwise."""


class FileLockStore:
    """A lock file in a local directory."""

    def __init__(self, directory: Path):
        self.path = Path(directory) / LOCK_FILE
        self.location = str(self.path)

    def create(self, data: bytes) -> bool:
        # The content is written to a private name first and then linked into place, which fails if a lock
        # exists: a reader never sees a half-written lock. Where hard links are unsupported, O_EXCL creates it.
        tmp = self.path.with_name(f"{LOCK_FILE}.{secrets.token_hex(6)}.new")
        self._write_new(tmp, data)
        try:
            os.link(tmp, self.path)
        except FileExistsError:
            return False
        except OSError:
            try:
                self._write_new(self.path, data)
            except FileExistsError:
                return False
        finally:
            tmp.unlink()
        return True

    @staticmethod
    def _write_new(path: Path, data: bytes) -> None:
        # Readable by all: it holds no secret, and other users should see who holds it.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            os.write(fd, data)
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            os.unlink(path)
            raise
        os.close(fd)

    def read(self) -> bytes | None:
        try:
            return self.path.read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None

    def remove_if(self, data: bytes) -> bool:
        # Move it aside first, so that a lock another run created meanwhile is never deleted.
        aside = self.path.with_name(f"{LOCK_FILE}.{secrets.token_hex(6)}.old")
        try:
            os.rename(self.path, aside)
        except FileNotFoundError:
            return False
        if aside.read_bytes() == data:
            aside.unlink()
            return True
        self._put_back(aside)  # not the lock we meant
        return False

    def _put_back(self, aside: Path) -> None:
        """Return a lock moved aside to its place, unless another run created a lock there meanwhile.

        ``link`` (or ``O_EXCL``) fails when a lock exists, where ``rename`` would replace that new lock. Then the
        new lock stays and the moved one is dropped: its holder's release finds a lock that is not its own and
        leaves it alone.
        """
        try:
            os.link(aside, self.path)
        except FileExistsError:
            pass
        except OSError:  # no hard links on this file system
            try:
                self._write_new(self.path, aside.read_bytes())
            except FileExistsError:
                pass
        aside.unlink()


class ObjectLockStore:
    """The lock as an object in a bucket: a conditional create, and a delete conditional on the version read."""

    def __init__(self, store: ObjectStore, prefix: str):
        self.store = store
        self.key = join(prefix.strip("/"), LOCK_FILE)
        self.location = store.url(self.key)

    def create(self, data: bytes) -> bool:
        return self.store.create(self.key, data)

    def read(self) -> bytes | None:
        found = self.store.read(self.key)
        return None if found is None else found[0]

    def remove_if(self, data: bytes) -> bool:
        found = self.store.read(self.key)
        if found is None or found[0] != data:
            return False
        return self.store.delete_if(self.key, found[1])

    def replace_if(self, data: bytes, new: bytes) -> bool:
        """Renew a lease: write ``new`` only if the lock still holds ``data``."""
        found = self.store.read(self.key)
        if found is None or found[0] != data:
            return False
        return self.store.replace_if(self.key, found[1], new)


@dataclass(frozen=True)
class LockHolder:
    owner: str
    host: str
    pid: int
    started_at: str
    command: str
    #: A lease's end (locks in a bucket); None for a local lock, which the holder's pid tells about.
    expires_at: str | None = None

    def describe(self) -> str:
        lease = f", lease until {self.expires_at}" if self.expires_at else ""
        return (
            f"`datadog-sync {self.command}` run by {self.owner} on host {self.host} (pid {self.pid}) "
            f"since {self.started_at}{lease}"
        )

    def is_expired(self) -> bool:
        """True when the holder's lease ended: it stopped renewing it (it was killed, or its machine died)."""
        if not self.expires_at:
            return False
        try:
            end = calendar.timegm(time.strptime(self.expires_at, "%Y-%m-%dT%H:%M:%SZ"))
        except ValueError:
            return False  # unreadable: --force-unlock decides
        return end + CLOCK_SKEW_MARGIN < time.time()

    def to_json(self) -> bytes:
        fields = {k: v for k, v in asdict(self).items() if v is not None}
        return (json.dumps(fields) + "\n").encode()

    def is_dead_here(self) -> bool:
        """True when the holder ran on this host and its process is gone."""
        return self.host == socket.gethostname() and not _pid_alive(self.pid)


def read_holder(store: LockStore) -> tuple[bytes, LockHolder | None] | None:
    """The lock's raw content and holder (None when unreadable), or None when there is no lock."""
    data = store.read()
    if data is None:
        return None
    try:
        fields = json.loads(data)
        holder = LockHolder(
            **{k: fields[k] for k in ("owner", "host", "pid", "started_at", "command")},
            expires_at=fields.get("expires_at"),
        )
        if not isinstance(holder.pid, int) or not isinstance(holder.expires_at, (str, type(None))):
            holder = None
    except (ValueError, TypeError, KeyError):
        holder = None
    return data, holder


class RunLock:
    """The lock of one state directory for one run: :meth:`acquire`, then :meth:`release` on every exit path."""

    def __init__(self, store: LockStore, what: str, command: str, lease_seconds: float | None = None):
        self.store = store
        self.what = what  # e.g. "destination state /path/to/resources/destination"
        self.command = command
        self.lease_seconds = lease_seconds  # a lease (a lock in a bucket) that renew() extends
        self._data: bytes | None = None
        self._holder: LockHolder | None = None
        # renew() runs in a worker thread that a cancelled renewal does not stop: release() waits for it, so a
        # renewal never rewrites a lock just released.
        self._busy = threading.Lock()

    def _new_holder(self) -> LockHolder:
        expires = _now(time.time() + self.lease_seconds) if self.lease_seconds else None
        if self._holder is not None:  # a renewal: same run, new expiry
            return LockHolder(**{**asdict(self._holder), "expires_at": expires})
        return LockHolder(_user(), socket.gethostname(), os.getpid(), _now(), self.command, expires)

    def acquire(self, *, force: bool = False, warn=None) -> None:
        """Take the lock or raise :class:`LockError`. ``warn(message)`` reports a lock taken over."""
        holder = self._new_holder()
        data = holder.to_json()
        for _ in range(3):  # another run may create or remove the lock between our steps
            if self.store.create(data):
                self._data, self._holder = data, holder
                return
            current = read_holder(self.store)
            if current is None:
                continue  # released meanwhile
            raw, other = current
            who = other.describe() if other else f"an unknown holder (unreadable lock file {self.store.location})"
            # A lease (expires_at) is trusted until it expires: its pid means nothing on this machine, even when
            # the host name is the same (CI containers). A local lock's pid does tell.
            if other is None:
                gone = False
            elif other.expires_at:
                gone = other.is_expired()
            else:
                gone = other.is_dead_here()
            if force or gone:
                if force:
                    reason = "--force-unlock"
                elif other is not None and other.is_expired():
                    reason = "its lease expired: it was killed, or stopped renewing it"
                else:
                    reason = "its process is gone: it was killed or crashed"
                if self.store.remove_if(raw) and warn:
                    warn(f"took over the lock of the {self.what} from {who} ({reason})")
                continue
            if other is not None and other.expires_at:
                hint = "wait for it to finish; if it was killed, its lease expires then, or re-run with --force-unlock"
            elif other is not None and other.host == socket.gethostname():
                hint = f"wait for it to finish (if pid {other.pid} is not that run, re-run with --force-unlock)"
            else:
                hint = "if no such run is in progress any more, re-run with --force-unlock"
            raise LockError(f"the {self.what} is locked by {who}: {hint} (lock file {self.store.location})")
        raise LockError(f"could not lock the {self.what}: other runs keep taking it (lock file {self.store.location})")

    def renew(self) -> bool:
        """Extend a lease (a no-op for a local lock); False when the lock is no longer ours (--force-unlock)."""
        replace = getattr(self.store, "replace_if", None)
        with self._busy:
            if self._data is None or not self.lease_seconds or replace is None:
                return True
            holder = self._new_holder()
            data = holder.to_json()
            if not replace(self._data, data):
                self._data = None
                return False
            self._data, self._holder = data, holder
            return True

    def lease_ended(self) -> bool:
        """True when our own lease is past its end by our clock (renewals kept failing): another run may take it."""
        if self._holder is None or not self._holder.expires_at:
            return False
        try:
            end = calendar.timegm(time.strptime(self._holder.expires_at, "%Y-%m-%dT%H:%M:%SZ"))
        except ValueError:
            return False
        return end <= time.time()

    def current_holder(self) -> str:
        """Who holds the lock now, for a message (after :meth:`renew` found it is no longer ours)."""
        try:
            found = read_holder(self.store)
        except (OSError, StorageError) as exc:
            return f"an unknown run (the lock cannot be read: {exc})"
        if found is None:
            return "no run (the lock was removed)"
        return found[1].describe() if found[1] else f"an unknown holder (unreadable lock file {self.store.location})"

    def release(self) -> None:
        with self._busy:
            if self._data is not None:
                try:
                    self.store.remove_if(self._data)
                except (OSError, StorageError):
                    pass  # the next run finds our pid gone (or our lease expired) and takes the lock over
                self._data = None


def _pid_alive(pid: int) -> bool:
    if os.name == "nt":
        return True  # os.kill would terminate the process there: cannot tell, so --force-unlock decides
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError, OverflowError, ValueError):
        return True  # exists (another user's), or cannot tell: assume alive
    return True


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name in some containers
        return str(os.getuid()) if hasattr(os, "getuid") else "unknown"


def _now(at: float | None = None) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))

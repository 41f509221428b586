"""Running the emulator: in the caller's event loop (`Emulator`) or in a background thread (`run_emulator_in_thread`).

The thread runner exists for synchronous tests whose code under test calls `asyncio.run` itself (click's
CliRunner): the emulator then needs its own loop. Its methods are thread-safe: they run on the emulator's loop.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from aiohttp import web

from datadog_sync.emulator.app import build_app
from datadog_sync.emulator.core import EmulatorCore, OrgSpec
from datadog_sync.emulator.knobs import Knobs

T = TypeVar("T")


class Emulator:
    """Async emulator: `async with Emulator(orgs=[OrgSpec(...)], latency_ms=5) as emu: ... emu.url ...`.

    Keyword arguments other than host/port are knobs (see Knobs). Control methods are plain (synchronous)
    methods: call them from the loop the emulator runs on.
    """

    def __init__(
        self,
        orgs: Iterable[OrgSpec],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        ssl_context: ssl.SSLContext | None = None,
        **knobs: Any,
    ) -> None:
        self.core = EmulatorCore(orgs, Knobs(**knobs))
        self.host = host
        self.port = port
        self.ssl_context = ssl_context  # serve HTTPS with it (e.g. to test certificate verification)
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        if self._runner is None:
            raise RuntimeError("emulator is not started")
        return f"{'https' if self.ssl_context else 'http'}://{self.host}:{self.port}"

    async def start(self) -> str:
        self._runner = web.AppRunner(build_app(self.core), access_log=None, handle_signals=False, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, ssl_context=self.ssl_context)
        await site.start()
        if self.port == 0:
            self.port = self._runner.addresses[0][1]
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Emulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # --- control API, mirroring /_emulator/ ---------------------------------------------------------------------

    def add_org(self, spec: OrgSpec) -> None:
        self.core.add_org(spec)

    def seed(self, org: str, state: dict[str, Any]) -> None:
        self.core.seed(org, state)

    def dump(self, org: str) -> dict[str, Any]:
        return self.core.dump(org)

    def wipe(self, org: str) -> None:
        self.core.wipe(org)

    def requests(self, org: str | None = None) -> list[dict[str, Any]]:
        return self.core.requests(org)

    def clear_requests(self, org: str | None = None) -> None:
        self.core.clear_requests(org)

    def knobs(self) -> dict[str, Any]:
        return self.core.knobs.to_json()

    def set_knobs(self, **changes: Any) -> dict[str, Any]:
        return self.core.set_knobs(changes).to_json()

    def counters(self) -> dict[str, Any]:
        return self.core.counters.to_json()

    def reset_counters(self) -> None:
        self.core.counters.reset()

    def org_settings(self, org: str) -> dict[str, Any]:
        return self.core.org(org).settings()

    def set_org(self, org: str, **settings: Any) -> dict[str, Any]:
        """Change `permissions`, `app_key_scopes` and/or `ddr_status` of an org."""
        target = self.core.org(org)
        target.update_settings(settings)
        return target.settings()

    def set_ddr_status(self, org: str, status: int | None) -> None:
        self.set_org(org, ddr_status=status)

    def set_permissions(self, org: str, permissions: Iterable[str]) -> None:
        self.set_org(org, permissions=sorted(permissions))

    def set_app_key_scopes(self, org: str, scopes: Iterable[str] | None) -> None:
        self.set_org(org, app_key_scopes=None if scopes is None else list(scopes))


class ThreadedEmulator:
    """An `Emulator` running on its own event loop in a daemon thread, with thread-safe control methods."""

    def __init__(self, orgs: Iterable[OrgSpec], **kwargs: Any) -> None:
        self._emulator = Emulator(orgs, **kwargs)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="datadog-emulator", daemon=True)

    @property
    def url(self) -> str:
        return self._emulator.url

    def start(self) -> str:
        self._thread.start()
        try:
            return self._submit(self._emulator.start())
        except BaseException:
            self._shutdown_loop()
            raise

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        try:
            self._submit(self._emulator.stop())
        finally:
            self._shutdown_loop()

    def _shutdown_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def _submit(self, coro: Any, timeout: float = 30) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def _run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        async def call() -> T:
            return fn(*args, **kwargs)

        return self._submit(call())

    def add_org(self, spec: OrgSpec) -> None:
        self._run(self._emulator.add_org, spec)

    def seed(self, org: str, state: dict[str, Any]) -> None:
        self._run(self._emulator.seed, org, state)

    def dump(self, org: str) -> dict[str, Any]:
        return self._run(self._emulator.dump, org)

    def wipe(self, org: str) -> None:
        self._run(self._emulator.wipe, org)

    def requests(self, org: str | None = None) -> list[dict[str, Any]]:
        return self._run(self._emulator.requests, org)

    def clear_requests(self, org: str | None = None) -> None:
        self._run(self._emulator.clear_requests, org)

    def knobs(self) -> dict[str, Any]:
        return self._run(self._emulator.knobs)

    def set_knobs(self, **changes: Any) -> dict[str, Any]:
        return self._run(self._emulator.set_knobs, **changes)

    def counters(self) -> dict[str, Any]:
        return self._run(self._emulator.counters)

    def reset_counters(self) -> None:
        self._run(self._emulator.reset_counters)

    def org_settings(self, org: str) -> dict[str, Any]:
        return self._run(self._emulator.org_settings, org)

    def set_org(self, org: str, **settings: Any) -> dict[str, Any]:
        return self._run(self._emulator.set_org, org, **settings)

    def set_ddr_status(self, org: str, status: int | None) -> None:
        self._run(self._emulator.set_ddr_status, org, status)

    def set_permissions(self, org: str, permissions: Iterable[str]) -> None:
        self._run(self._emulator.set_permissions, org, list(permissions))

    def set_app_key_scopes(self, org: str, scopes: Iterable[str] | None) -> None:
        self._run(self._emulator.set_app_key_scopes, org, None if scopes is None else list(scopes))


@contextmanager
def run_emulator_in_thread(orgs: Iterable[OrgSpec], **kwargs: Any) -> Iterator[ThreadedEmulator]:
    """`with run_emulator_in_thread([OrgSpec(...)], latency_ms=5) as emu:` serves on `emu.url` until the block ends."""
    emulator = ThreadedEmulator(orgs, **kwargs)
    emulator.start()
    try:
        yield emulator
    finally:
        emulator.stop()

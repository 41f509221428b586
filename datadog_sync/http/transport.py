"""The wire layer: one request in, one :class:`Response` out, or a :class:`TransportError`.

The client owns retries, error mapping and logging; a transport only moves bytes. Tests and the emulator can
plug in any object with the :class:`Transport` shape.
"""

from __future__ import annotations

import asyncio
import ssl as _ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import aiohttp
from multidict import CIMultiDict, CIMultiDictProxy

from datadog_sync.http.errors import CertificateError, ConnectionFailed, ConnectTimeout, NotConnected, RequestTimeout

__all__ = ["AiohttpTransport", "Response", "Transport"]


@dataclass(slots=True)
class Response:
    """A complete HTTP response. ``headers`` is case-insensitive (plain mappings are wrapped on creation)."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.headers, (CIMultiDictProxy, CIMultiDict)):
            self.headers = CIMultiDict(self.headers or {})


@runtime_checkable
class Transport(Protocol):
    async def send(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, timeout: float
    ) -> Response:
        """Send one request and read the whole body. ``timeout`` bounds connecting and each socket read.

        Raises :class:`~datadog_sync.http.errors.ConnectionFailed` or
        :class:`~datadog_sync.http.errors.RequestTimeout`; never raises for HTTP error statuses.
        ``headers`` must not be modified (the client passes a shared dict).
        """
        ...

    async def close(self) -> None: ...


class AiohttpTransport:
    """Default transport on one :class:`aiohttp.ClientSession`.

    The session is created lazily inside the running event loop (and re-created if a later call runs in another
    loop). The connector has no global or per-host connection cap (``limit=0``): concurrency is bounded by the
    caller's worker pools, not silently at aiohttp's default of 100. ``timeout`` is applied per socket read
    (``sock_read``) and to connecting, with no total cap, so a long but steadily streaming body is fine and a
    stalled one fails.

    ``ssl``: ``None`` (default verification), ``False`` (no verification) or an :class:`ssl.SSLContext`.
    ``trust_env``: honour ``HTTP(S)_PROXY``/``NO_PROXY`` and ``.netrc``.
    """

    def __init__(
        self,
        *,
        ssl: bool | _ssl.SSLContext | None = None,
        trust_env: bool = False,
        limit: int = 0,
        limit_per_host: int = 0,
        dns_cache_ttl: int | None = 300,
    ) -> None:
        self._ssl = True if ssl is None else ssl
        self._trust_env = trust_env
        self._limit = limit
        self._limit_per_host = limit_per_host
        self._dns_cache_ttl = dns_cache_ttl
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timeouts: dict[float, aiohttp.ClientTimeout] = {}
        self._closed = False

    def _get_session(self) -> aiohttp.ClientSession:
        if self._closed:  # a straggling retry after the run ended must not open a session nobody closes
            raise NotConnected("the HTTP client is closed", method="", url="")
        loop = asyncio.get_running_loop()
        session = self._session
        if session is None or session.closed or self._loop is not loop:
            connector = aiohttp.TCPConnector(
                limit=self._limit,
                limit_per_host=self._limit_per_host,
                ttl_dns_cache=self._dns_cache_ttl,
                ssl=self._ssl,
            )
            session = aiohttp.ClientSession(connector=connector, trust_env=self._trust_env, auto_decompress=True)
            self._session = session
            self._loop = loop
        return session

    def _timeout(self, timeout: float) -> aiohttp.ClientTimeout:
        t = self._timeouts.get(timeout)
        if t is None:
            t = self._timeouts[timeout] = aiohttp.ClientTimeout(total=None, sock_connect=timeout, sock_read=timeout)
        return t

    async def send(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, timeout: float
    ) -> Response:
        session = self._get_session()
        try:
            async with session.request(
                method, url, headers=headers, data=body, timeout=self._timeout(timeout), allow_redirects=False
            ) as resp:
                data = await resp.read()
                return Response(resp.status, resp.headers, data)
        except aiohttp.ConnectionTimeoutError as e:
            raise ConnectTimeout(f"timed out after {timeout:g}s connecting", method=method, url=url) from e
        except (aiohttp.ServerTimeoutError, asyncio.TimeoutError) as e:
            raise RequestTimeout(f"timed out after {timeout:g}s reading response", method=method, url=url) from e
        except aiohttp.ClientConnectorCertificateError as e:
            raise CertificateError(
                f"TLS certificate of {e.host}:{e.port} failed verification: {e.certificate_error}; if a proxy "
                "re-signs TLS, point SSL_CERT_FILE at its CA bundle (--verify-ssl-certificates=false turns "
                "verification off)",
                method=method,
                url=url,
            ) from e
        except aiohttp.ClientConnectorError as e:
            reason = e.os_error.strerror or str(e.os_error) or type(e.os_error).__name__
            if isinstance(e.os_error, ConnectionRefusedError):  # asyncio's strerror: "Connect call failed (...)"
                reason = "connection refused"
            raise NotConnected(f"cannot connect to {e.host}:{e.port}: {reason}", method=method, url=url) from e
        except aiohttp.InvalidURL:
            raise
        except (aiohttp.ClientError, OSError) as e:
            detail = str(e)
            message = f"{type(e).__name__}: {detail}" if detail else type(e).__name__
            raise ConnectionFailed(f"connection error: {message}", method=method, url=url) from e

    async def close(self) -> None:
        self._closed = True
        session, self._session = self._session, None
        if session is None or session.closed:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:  # pragma: no cover - close() is async, so there is always a loop
            running = None
        if running is not self._loop:
            return  # the session's loop is gone; nothing can be closed from here
        await session.close()

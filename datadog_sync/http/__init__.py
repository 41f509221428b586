"""Async HTTP client for the Datadog API (aiohttp transport, retries, circuit breaker)."""

from datadog_sync.http.client import Client, ClientStats
from datadog_sync.http.errors import (
    CertificateError,
    CircuitOpenError,
    ConnectionFailed,
    HTTPError,
    RequestTimeout,
    RetryBudgetExceeded,
    TransportError,
    parse_error_messages,
)
from datadog_sync.http.retry import CircuitBreaker, RetryPolicy
from datadog_sync.http.transport import AiohttpTransport, Response, Transport

__all__ = [
    "AiohttpTransport",
    "CertificateError",
    "CircuitBreaker",
    "CircuitOpenError",
    "Client",
    "ClientStats",
    "ConnectionFailed",
    "HTTPError",
    "RequestTimeout",
    "Response",
    "RetryBudgetExceeded",
    "RetryPolicy",
    "Transport",
    "TransportError",
    "parse_error_messages",
]

"""The orgs a run talks to: their clients, ``--validate`` (API keys) and ``--verify-ddr-status`` before any work."""

from __future__ import annotations

import ipaddress
import logging
from urllib.parse import urlsplit

from datadog_sync.config import Configuration, OrgConfig
from datadog_sync.context import LOGGER_NAME, RunContext
from datadog_sync.http.client import Client
from datadog_sync.http.errors import HTTPError, NotJSONResponse, TransportError
from datadog_sync.http.retry import RetryPolicy
from datadog_sync.http.transport import AiohttpTransport
from datadog_sync.log import OwnLines

#: DDR statuses that allow a run (upstream): ONBOARDING, PASSIVE, RECOVERY.
DDR_ALLOWED = {1: "ONBOARDING", 2: "PASSIVE", 5: "RECOVERY"}
DDR_NAMES = {**DDR_ALLOWED, 3: "FAILOVER", 4: "ACTIVE"}

#: Which orgs each command reads from (validation, DDR) and talks to.
SOURCE_COMMANDS = {"import", "migrate"}
DESTINATION_COMMANDS = {"sync", "migrate", "diffs", "reset"}
DDR_SOURCE_COMMANDS = {"import", "diffs", "migrate"}


def make_client(config: Configuration, org: OrgConfig) -> Client:
    _warn_plain_http(org)
    return Client(
        org.api_url,
        api_key=org.api_key,
        app_key=org.app_key,
        org=org.name,
        timeout=config.http_client_timeout,
        retry=RetryPolicy(retry_timeout=config.http_client_retry_timeout),
        transport=AiohttpTransport(
            ssl=None if config.verify_ssl_certificates else False, trust_env=config.http_client_trust_env
        ),
    )


def _warn_plain_http(org: OrgConfig) -> None:
    """Keys sent over plain http:// can be read on the way, unless the API is on this machine (an emulator)."""
    parts = urlsplit(org.api_url)
    if parts.scheme.lower() != "http" or not (org.api_key or org.app_key):
        return
    host = (parts.hostname or "").lower()
    try:
        local = ipaddress.ip_address(host).is_loopback
    except ValueError:
        local = host == "localhost"
    if not local:
        logging.getLogger(LOGGER_NAME).warning(
            "the %s API URL %s is plain http://: the %s keys travel unencrypted; use https://",
            org.name,
            org.api_url,
            org.name,
        )


async def check_orgs(ctx: RunContext) -> bool:
    """``--validate`` (API keys) and ``--verify-ddr-status`` (disaster-recovery status) before any work.

    False when the run must stop (the reason is logged)."""
    config, logger = ctx.config, ctx.logger
    command = config.command
    pairs = []
    if command in SOURCE_COMMANDS and ctx.source:
        pairs.append(ctx.source)
    if command in DESTINATION_COMMANDS and ctx.destination:
        pairs.append(ctx.destination)
    if config.validate:
        for client in pairs:
            try:
                body = await client.get("/api/v1/validate")
            except Exception as exc:  # noqa: BLE001
                logger.error("%s", _validation_error(client, exc))
                return False
            if not (isinstance(body, dict) and body.get("valid") is True):  # Datadog answers {"valid": true}
                logger.error("%s", _not_datadog(client, 'GET /api/v1/validate did not answer {"valid": true}'))
                return False
        logger.info("clients validated successfully")
    if not config.verify_ddr_status:
        logger.warning("DDR verification skipped.")
        return True
    checks = []
    if command in DDR_SOURCE_COMMANDS:
        checks.append(("source", config.source))
    if command in DESTINATION_COMMANDS:
        checks.append(("destination", config.destination))
    for name, org in checks:
        existing = ctx.source if name == "source" else ctx.destination
        owned = existing is None
        client = make_client(config, org) if existing is None else existing
        try:
            reason = await _ddr_problem(client)
        finally:
            if owned:
                await client.close()
        if reason:
            logger.error("%s", reason)
            return False
    logger.info("DDR verified successfully")
    return True


def _url_option(client: Client) -> str:
    return f"--{client.org}-api-url (DD_{client.org.upper()}_API_URL)"


def _not_datadog(client: Client, detail: str) -> str:
    return (
        f"the {client.org} API URL {client.base_url} does not look like a Datadog API ({detail}); "
        f"check {_url_option(client)}"
    )


def _url_problem(client: Client, exc: Exception) -> str | None:
    """The message when a check failed because of the URL (unreachable, not a Datadog API), not the org."""
    if isinstance(exc, TransportError):
        return f"{exc}; check {_url_option(client)} and the network"
    if isinstance(exc, NotJSONResponse):
        return str(exc)
    # Datadog answers 4xx in JSON; its edge may send an HTML 5xx, so only a 4xx page points at the URL.
    if isinstance(exc, HTTPError) and isinstance(exc.body, str) and 400 <= exc.status < 500 and exc.status != 429:
        return _not_datadog(client, f"{exc.status} {exc.reason} on {exc.method} {exc.path} is not JSON")
    return None


def _validation_error(client: Client, exc: Exception) -> str | OwnLines:
    problem = _url_problem(client, exc)
    if problem:
        return problem
    if isinstance(exc, HTTPError) and exc.status in (401, 403):
        return OwnLines("invalid api key: %s", exc)
    if isinstance(exc, HTTPError) and exc.status == 404:  # every Datadog site has /api/v1/validate
        return _not_datadog(client, "GET /api/v1/validate answered 404 Not Found; a path in the URL?")
    return OwnLines("key validation failed: %s", exc)


async def _ddr_problem(client: Client) -> str | OwnLines | None:
    """The error line of a failed DDR check, or None when the org's DDR status allows the run."""
    name = client.org
    try:
        body = await client.get("/api/v2/hamr")
    except Exception as exc:  # noqa: BLE001
        problem = _url_problem(client, exc)
        if problem:
            return problem
        if isinstance(exc, HTTPError) and exc.status in (401, 403):
            # validate checks only the API key: a refused /api/v2/hamr means the application key is wrong.
            return OwnLines(f"the {name} keys were refused reading the DDR status: %s", exc)
        return OwnLines(f"The {name} DDR verification failed. Could not read the DDR status: %s", exc)
    data = body.get("data") if isinstance(body, dict) else None
    attributes = data.get("attributes") if isinstance(data, dict) else None
    status = attributes.get("HamrStatus") if isinstance(attributes, dict) else None
    if status is None or status == "":
        reason = "no DDR status could be retrieved."
    elif isinstance(status, bool) or not isinstance(status, int):  # a list would not even be hashable
        reason = f"the DDR status retrieved is not a status number: {str(status)[:40]}."
    elif status not in DDR_ALLOWED:
        reason = f"disaster recovery is in progress. DDR status retrieved: {DDR_NAMES.get(status, status)}."
    else:
        return None
    return f"The {name} DDR verification failed. {reason} Use the --verify-ddr-status flag to override."

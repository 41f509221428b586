"""Options -> one immutable :class:`Configuration` for a command run."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from urllib.parse import urlsplit

from datadog_sync.filters import Filters

DEFAULT_API_URL = "https://api.datadoghq.com"

#: Datadog sites and their API base URLs (https://docs.datadoghq.com/getting_started/site/).
SITES: dict[str, str] = {
    "US1": "https://api.datadoghq.com",
    "US3": "https://api.us3.datadoghq.com",
    "US5": "https://api.us5.datadoghq.com",
    "EU1": "https://api.datadoghq.eu",
    "AP1": "https://api.ap1.datadoghq.com",
    "AP2": "https://api.ap2.datadoghq.com",
    "US1-FED": "https://api.ddog-gov.com",
}


class Cleanup(Enum):
    """``--cleanup``: keep destination resources whose source is gone, ask before deleting them, or delete them."""

    NO = "false"
    ASK = "true"
    FORCE = "force"

    @classmethod
    def parse(cls, value: str | None) -> Cleanup:
        """Upstream's option values True / False / Force, in any case; unset means False."""
        return cls((value or "False").lower())


@dataclass(frozen=True)
class OrgConfig:
    """Where and how to reach one org. ``name`` is ``source`` or ``destination``."""

    name: str
    api_url: str = DEFAULT_API_URL
    api_key: str | None = field(default=None, repr=False)
    app_key: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Configuration:
    command: str
    source: OrgConfig
    destination: OrgConfig
    resources: tuple[str, ...]
    filters: Filters
    cleanup: Cleanup = Cleanup.NO
    validate: bool = True
    verify_ddr_status: bool = True
    max_workers: int = 100
    max_workers_per_type: dict[str, int] = field(default_factory=dict)
    resource_per_file: bool = False
    source_resources_path: Path = Path("resources/source")
    destination_resources_path: Path = Path("resources/destination")
    http_client_timeout: float = 30.0
    http_client_retry_timeout: float = 60.0
    verify_ssl_certificates: bool = True
    http_client_trust_env: bool = False
    show_progress_bar: bool = True
    emit_json: bool = False
    verbose: bool = False
    do_not_backup: bool = False
    assume_yes: bool = False
    diff_exit_code: bool = False
    integrations_secrets_file: Path | None = None
    #: ``--integrations-aws-api``: the AWS integration API generation of the ``aws`` subtype, ``v2`` or ``v1``.
    integrations_aws_api: str = "v2"
    force_unlock: bool = False


class ApiUrlError(ValueError):
    """An API URL option value that is neither a Datadog site name nor an http(s) URL."""


_SITE_NAME_RE = re.compile(r"[A-Za-z]{2}\d+(-[A-Za-z]+)?\Z")  # US1, EU1, US1-FED, and typos such as EU9
_HOST_RE = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*)(:\d{1,5})?\Z")
_SITE_LIST = ", ".join(SITES)


def normalize_api_url(value: str | None) -> str:
    """Accept a full URL, a site name (``EU1``) or a site domain (``datadoghq.eu``, ``app.datadoghq.eu``).

    Raises :class:`ApiUrlError` for anything else (``ftp://...``, ``notaurl``, ``EU9``), so a typo is a usage
    error instead of a minute of connection retries.
    """
    if not value or not value.strip():
        return DEFAULT_API_URL
    value = value.strip()
    shown = "the URL" if "@" in value else repr(value)  # the part before @ would be credentials: never echo it
    if value.upper() in SITES:
        return SITES[value.upper()]
    if "://" not in value:
        host = value.strip("/")
        if _SITE_NAME_RE.match(host):
            raise ApiUrlError(f"unknown Datadog site {host!r}; sites: {_SITE_LIST}")
        if "." not in host and host.split(":")[0].lower() != "localhost":
            raise ApiUrlError(f"{shown} is neither a URL nor a Datadog site name ({_SITE_LIST})")
        if host.startswith("app."):
            host = host[len("app.") :]
        if not host.startswith("api.") and (
            host.endswith("datadoghq.com") or host.endswith("datadoghq.eu") or host.endswith("ddog-gov.com")
        ):
            host = "api." + host
        value = "https://" + host
    try:
        parts = urlsplit(value)  # ValueError on an unbalanced or non-IPv6 bracket: http://[::1, http://[zz]
    except ValueError:
        raise ApiUrlError(f"{shown} is not a valid URL (check the host name and port)") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise ApiUrlError(
            f"{parts.scheme}:// is not supported: use an https:// URL such as https://api.datadoghq.eu "
            f"or a site name ({_SITE_LIST})"
        )
    if "@" in parts.netloc:  # never echo it: the part before @ would be credentials
        raise ApiUrlError("the URL holds credentials (user@host); keys go in the API and application key options")
    try:
        valid = bool(_HOST_RE.match(parts.netloc)) and (parts.port is None or parts.port > 0)
    except ValueError:  # a port above 65535
        valid = False
    if not valid:
        raise ApiUrlError(f"{shown} is not a valid URL (check the host name and port)")
    return value.rstrip("/")

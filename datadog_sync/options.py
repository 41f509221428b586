"""The command line's option table: every flag, its environment variable and its help, as datadog-sync-cli has them.

``cli`` puts these on its commands and turns the values into a :class:`~datadog_sync.config.Configuration`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import click

from datadog_sync.config import SITES
from datadog_sync.configfile import ConfigFileError, load_config_file, to_default_map

__all__ = [
    "CLEANUP_OPTION",
    "COMMON_OPTIONS",
    "GLOBAL_DOWNTIME_OPTION",
    "common_options",
    "destination_options",
    "source_options",
]

SITE_HELP = ", ".join(f"{name} {url}" for name, url in SITES.items())


def _load_config(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """``--config FILE``: its values become defaults, below command-line flags and environment variables."""
    if not value:
        return value
    try:
        values = load_config_file(value)
        kinds = {p.name: _kind(p) for p in ctx.command.params if p.name}
        defaults = to_default_map(values, kinds, multiple={"filter"}, kinds=kinds, path=value)
        ctx.default_map = {**(ctx.default_map or {}), **defaults}
    except ConfigFileError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=_param) from exc
    return value


def _finite(_ctx: click.Context, _param: click.Parameter, value: float | None) -> float | None:
    if value is not None and not math.isfinite(value):  # nan passes click's range check; inf never times out
        raise click.BadParameter(f"{value} is not a number of seconds")
    return value


def _kind(param: click.Parameter) -> str:
    """The kind of value a config file may give ``param`` (see ``configfile._KINDS``)."""
    if isinstance(param.type, click.types.BoolParamType):
        return "bool"
    if isinstance(param.type, click.types.IntParamType):
        return "int"
    if isinstance(param.type, click.types.FloatParamType):
        return "number"
    return "text"


def _org_options(org: str) -> list[Callable]:
    upper = org.upper()
    return [
        click.option(
            f"--{org}-api-key", envvar=f"DD_{upper}_API_KEY", help=f"API key of the {org} org (env DD_{upper}_API_KEY)."
        ),
        click.option(
            f"--{org}-app-key",
            envvar=f"DD_{upper}_APP_KEY",
            help=f"Application key of the {org} org (env DD_{upper}_APP_KEY).",
        ),
        click.option(
            f"--{org}-api-url",
            envvar=f"DD_{upper}_API_URL",
            default="https://api.datadoghq.com",
            show_default=True,
            help=f"API URL of the {org} org's Datadog site (env DD_{upper}_API_URL); a site name works too: "
            f"{SITE_HELP}.",
        ),
    ]


COMMON_OPTIONS: list[Callable] = [
    click.option(
        "--config",
        type=click.Path(dir_okay=False),
        is_eager=True,
        expose_value=False,
        callback=_load_config,
        help='Read option values from FILE (lines of key="value", keys are option names with underscores). '
        "Command-line flags and environment variables win over it.",
    ),
    click.option(
        "--resources",
        envvar="DD_RESOURCES",
        help="Comma-separated resource types to work on (env DD_RESOURCES). Default: every type.",
    ),
    click.option(
        "--filter",
        "filter",
        multiple=True,
        envvar="DD_FILTER",
        help="Filter resources: 'Type=<type>;Name=<dot.path>;Value=<regex>[;Operator=ExactMatch|SubString|Not]'. "
        "Repeatable (env DD_FILTER, whitespace-separated).",
    ),
    click.option(
        "--filter-operator",
        envvar="DD_FILTER_OPERATOR",
        default="OR",
        show_default=True,
        type=click.Choice(["AND", "OR"], case_sensitive=False),
        help="How several filters of one type combine (env DD_FILTER_OPERATOR).",
    ),
    click.option(
        "--validate",
        envvar="DD_VALIDATE",
        type=bool,
        default=True,
        show_default=True,
        help="Check the API keys with GET /api/v1/validate before running (env DD_VALIDATE).",
    ),
    click.option(
        "--verify-ddr-status",
        envvar="DD_VERIFY_DDR_STATUS",
        type=bool,
        default=True,
        show_default=True,
        help="Refuse to run unless the orgs' disaster-recovery status is ONBOARDING, PASSIVE or RECOVERY "
        "(env DD_VERIFY_DDR_STATUS). Orgs without DDR need --verify-ddr-status=false.",
    ),
    click.option(
        "--max-workers",
        envvar="MAX_WORKERS",
        type=click.IntRange(min=1),
        default=100,
        show_default=True,
        help="Concurrent requests at most (env MAX_WORKERS).",
    ),
    click.option(
        "--max-workers-per-type",
        envvar="MAX_WORKERS_PER_TYPE",
        help="Per-type caps below --max-workers, e.g. 'integrations=4' (env MAX_WORKERS_PER_TYPE).",
    ),
    click.option(
        "--resource-per-file", is_flag=True, default=False, help="One state file per resource instead of one per type."
    ),
    click.option(
        "--source-resources-path",
        envvar="DD_SOURCE_RESOURCES_PATH",
        default="resources/source",
        show_default=True,
        type=click.Path(file_okay=False),
        help="Directory of the source state files (env DD_SOURCE_RESOURCES_PATH).",
    ),
    click.option(
        "--destination-resources-path",
        envvar="DD_DESTINATION_RESOURCES_PATH",
        default="resources/destination",
        show_default=True,
        type=click.Path(file_okay=False),
        help="Directory of the destination state files (env DD_DESTINATION_RESOURCES_PATH).",
    ),
    click.option(
        "--http-client-timeout",
        envvar="DD_HTTP_CLIENT_TIMEOUT",
        type=click.FloatRange(min=0, min_open=True),
        callback=_finite,
        default=30,
        show_default=True,
        help="Seconds to wait for data on a connection before a request times out (env DD_HTTP_CLIENT_TIMEOUT).",
    ),
    click.option(
        "--http-client-retry-timeout",
        envvar="DD_HTTP_CLIENT_RETRY_TIMEOUT",
        type=click.FloatRange(min=0),
        callback=_finite,
        default=60,
        show_default=True,
        help="Total seconds one request may spend retrying 429s, 5xx and connection errors "
        "(env DD_HTTP_CLIENT_RETRY_TIMEOUT).",
    ),
    click.option(
        "--verify-ssl-certificates",
        envvar="DD_VERIFY_SSL_CERTIFICATES",
        type=bool,
        default=True,
        show_default=True,
        help="Verify the API's TLS certificate against the system's CAs (env DD_VERIFY_SSL_CERTIFICATES). "
        "false turns verification off, with a warning.",
    ),
    click.option(
        "--http-client-trust-env",
        envvar="DD_HTTP_CLIENT_TRUST_ENV",
        type=bool,
        default=False,
        show_default=True,
        help="Honour HTTP_PROXY, HTTPS_PROXY, NO_PROXY and ~/.netrc (env DD_HTTP_CLIENT_TRUST_ENV).",
    ),
    click.option(
        "--show-progress-bar",
        envvar="DD_SHOW_PROGRESS_BAR",
        type=bool,
        default=True,
        show_default=True,
        help="Show a progress bar on a terminal (env DD_SHOW_PROGRESS_BAR). Off with --json.",
    ),
    click.option(
        "--json",
        "emit_json",
        envvar="DD_SYNC_JSON",
        is_flag=True,
        default=False,
        help="Write NDJSON events (outcomes, logs, plan, summary) on stdout instead of text (env DD_SYNC_JSON).",
    ),
    click.option("-v", "--verbose", is_flag=True, default=False, help="Debug logging (secrets stay redacted)."),
    click.option(
        "--force-unlock",
        is_flag=True,
        default=False,
        help="Take the state directory's run lock even if another run holds it: only when that run is over "
        "(it ran on another host, or died).",
    ),
    click.option(
        "--send-metrics",
        type=bool,
        default=False,
        show_default=True,
        help="Accepted for datadog-sync-cli scripts: datadog-sync sends no usage metrics, so only false is valid.",
    ),
    click.option(
        "--integrations-secrets-file",
        envvar="DD_INTEGRATIONS_SECRETS_FILE",
        type=click.Path(dir_okay=False),
        help="JSON file with the secrets the APIs never return, one section per integrations subtype, e.g. "
        '{"aws": {"<access_key_id>": "<secret_access_key>"}, "azure": {"<tenant>:<client_id>": "<client secret>"}} '
        "(env DD_INTEGRATIONS_SECRETS_FILE; `datadog-sync secrets-template` writes the one a source state needs).",
    ),
    click.option(
        "--integrations-aws-api",
        envvar="DD_INTEGRATIONS_AWS_API",
        type=click.Choice(["v2", "v1"], case_sensitive=False),
        default="v2",
        show_default=True,
        help="The Datadog AWS integration API of the integrations' aws subtype (env DD_INTEGRATIONS_AWS_API): v2, "
        "the accounts API, or v1, deprecated since September 2025 (its Lambda ARN endpoints stop working on "
        "2027-02-20), for orgs that still need it.",
    ),
    click.option(
        "--integrations-webhooks",
        envvar="DD_INTEGRATIONS_WEBHOOKS",
        metavar="NAME,...",
        help="Webhooks and webhook custom variables to import by name, besides the webhooks that the source's "
        "monitors notify (@webhook-<name>): the API lists neither (env DD_INTEGRATIONS_WEBHOOKS).",
    ),
]


def _storage_option(flag: str, envvar: str | None, help_text: str, **kw) -> Callable:
    shown = f" (env {envvar})" if envvar else ""
    return click.option(flag, envvar=envvar, help=help_text + shown + ".", **kw)


#: State in a bucket (docs/state.md): datadog-sync-cli's options, environment variables and defaults.
STORAGE_OPTIONS: list[Callable] = [
    click.option(
        "--storage-type",
        type=click.Choice(["local", "s3", "gcs", "azure"], case_sensitive=False),
        default="local",
        show_default=True,
        help="Where state lives: local directories, or an S3 / GCS bucket or Azure container (needs the "
        "datadog-sync[s3|gcs|azure] extra).",
    ),
    _storage_option("--aws-bucket-name", "AWS_BUCKET_NAME", "S3 bucket of the state"),
    _storage_option("--aws-region-name", "AWS_REGION_NAME", "Region of the S3 bucket (default: AWS's chain)"),
    _storage_option("--aws-access-key-id", "AWS_ACCESS_KEY_ID", "AWS access key id (default: AWS's chain)"),
    _storage_option("--aws-secret-access-key", "AWS_SECRET_ACCESS_KEY", "AWS secret access key"),
    _storage_option("--aws-session-token", "AWS_SESSION_TOKEN", "AWS session token of temporary credentials"),
    _storage_option(
        "--aws-bucket-key-prefix-source",
        "AWS_BUCKET_KEY_PREFIX_SOURCE",
        "Key prefix of source state in the S3 bucket",
        default="resources/source",
        show_default=True,
    ),
    _storage_option(
        "--aws-bucket-key-prefix-destination",
        "AWS_BUCKET_KEY_PREFIX_DESTINATION",
        "Key prefix of destination state in the S3 bucket",
        default="resources/destination",
        show_default=True,
    ),
    _storage_option("--gcs-bucket-name", "GCS_BUCKET_NAME", "GCS bucket of the state"),
    _storage_option(
        "--gcs-service-account-key-file",
        "GCS_SERVICE_ACCOUNT_KEY_FILE",
        "Service account key file (default: Application Default Credentials)",
    ),
    _storage_option(
        "--gcs-bucket-key-prefix-source",
        "GCS_BUCKET_KEY_PREFIX_SOURCE",
        "Key prefix of source state in the GCS bucket",
        default="resources/source",
        show_default=True,
    ),
    _storage_option(
        "--gcs-bucket-key-prefix-destination",
        "GCS_BUCKET_KEY_PREFIX_DESTINATION",
        "Key prefix of destination state in the GCS bucket",
        default="resources/destination",
        show_default=True,
    ),
    _storage_option("--azure-container-name", "AZURE_CONTAINER_NAME", "Azure Blob container of the state"),
    _storage_option("--azure-storage-account-name", "AZURE_STORAGE_ACCOUNT_NAME", "Azure storage account"),
    _storage_option(
        "--azure-storage-account-key",
        "AZURE_STORAGE_ACCOUNT_KEY",
        "Azure storage account key (default: DefaultAzureCredential)",
    ),
    _storage_option(
        "--azure-storage-connection-string",
        "AZURE_STORAGE_CONNECTION_STRING",
        "Azure storage connection string (wins over account name and key; sets the endpoint, e.g. Azurite's)",
    ),
    _storage_option(
        "--azure-container-key-prefix-source",
        "AZURE_CONTAINER_KEY_PREFIX_SOURCE",
        "Key prefix of source state in the Azure container",
        default="resources/source",
        show_default=True,
    ),
    _storage_option(
        "--azure-container-key-prefix-destination",
        "AZURE_CONTAINER_KEY_PREFIX_DESTINATION",
        "Key prefix of destination state in the Azure container",
        default="resources/destination",
        show_default=True,
    ),
]
COMMON_OPTIONS += STORAGE_OPTIONS

CLEANUP_OPTION = click.option(
    "--cleanup",
    envvar="DD_CLEANUP",
    type=click.Choice(["True", "False", "Force"], case_sensitive=False),
    default="False",
    show_default=True,
    help="Delete destination resources whose source is gone: True asks first, Force does not (env DD_CLEANUP).",
)


GLOBAL_DOWNTIME_OPTION = click.option(
    "--create-global-downtime",
    type=bool,
    default=False,
    show_default=True,
    help="Accepted for datadog-sync-cli scripts: datadog-sync creates no downtime, so only false is valid.",
)


def _apply(options: list[Callable]) -> Callable:
    def decorate(func: Callable) -> Callable:
        for option in reversed(options):
            func = option(func)
        return func

    return decorate


def source_options(func: Callable) -> Callable:
    return _apply(_org_options("source"))(func)


def destination_options(func: Callable) -> Callable:
    return _apply(_org_options("destination"))(func)


def common_options(func: Callable) -> Callable:
    return _apply(COMMON_OPTIONS)(func)

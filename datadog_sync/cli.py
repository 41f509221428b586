"""The ``datadog-sync`` command line: the same commands, flags and environment variables as datadog-sync-cli."""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from datadog_sync import __version__
from datadog_sync.config import ApiUrlError, Cleanup, Configuration, OrgConfig, normalize_api_url
from datadog_sync.filters import FilterError, Filters
from datadog_sync.options import (
    CLEANUP_OPTION,
    GLOBAL_DOWNTIME_OPTION,
    common_options,
    destination_options,
    source_options,
)
from datadog_sync.resources import registry
from datadog_sync.storage import StorageConfig, missing_extra


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(__version__, prog_name="datadog-sync")
def cli() -> None:
    """Copy Datadog configuration, including AWS integrations, from a source org to a destination org.

    \b
    Typical use:
      datadog-sync import   # read the source org into resources/source
      datadog-sync diffs    # show what sync would do (Plan: N to create, M to update, K to delete)
      datadog-sync sync     # apply it to the destination org
      datadog-sync migrate  # import + sync in one go

    Keys come from flags or DD_SOURCE_* / DD_DESTINATION_* environment variables. Exit codes: 0 success,
    1 a failure, 2 a usage error (and `diffs --exit-code` when there are differences).
    """


def main() -> None:
    """The ``datadog-sync`` program: :func:`cli`, then an exit without a last walk of the collector over the run's
    objects (CPython collects them all at exit: 50-100 ms after a sync of 1,000 AWS accounts)."""
    try:
        cli()
    finally:
        gc.freeze()


class _Command(click.Command):
    """A command that takes no arguments, and says so without echoing them (click would: they may be keys)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        rest = super().parse_args(ctx, args)
        if ctx.args:
            what = "an unexpected argument (not shown: it may be a key)"
            if len(ctx.args) > 1:
                what = f"{len(ctx.args)} unexpected arguments (not shown: they may be keys)"
            raise click.UsageError(f"{what}; every value must follow its option, e.g. --resources=integrations", ctx)
        return rest


def _command(name: str, help_text: str, extra: list[Callable]) -> Callable:
    def make(func: Callable) -> click.Command:
        for decorator in reversed([*extra, common_options]):
            func = decorator(func)
        return cli.command(name, help=help_text, cls=_Command, context_settings={"allow_extra_args": True})(func)

    return make


@_command(
    "import",
    "Read the requested resources from the source org into source state (resources/source). A type whose "
    "listing fails keeps its previous state.",
    [source_options, destination_options],
)
def import_cmd(**kwargs: Any) -> None:
    _run("import", kwargs)


@_command(
    "sync",
    "Create, update (and with --cleanup delete) destination resources to match source state. Before changing "
    "or deleting an existing destination resource it is backed up under <destination path>/.backup/.",
    [source_options, destination_options, CLEANUP_OPTION, GLOBAL_DOWNTIME_OPTION],
)
def sync_cmd(**kwargs: Any) -> None:
    _run("sync", kwargs)


@_command(
    "migrate",
    "import followed by sync, in one run.",
    [source_options, destination_options, CLEANUP_OPTION, GLOBAL_DOWNTIME_OPTION],
)
def migrate_cmd(**kwargs: Any) -> None:
    _run("migrate", kwargs)


@_command(
    "diffs",
    "Show what sync would do, resource by resource, ending with 'Plan: N to create, M to update, K to delete, "
    "U unchanged'. Changes nothing.",
    [
        source_options,
        destination_options,
        CLEANUP_OPTION,
        click.option(
            "--exit-code",
            "diff_exit_code",
            is_flag=True,
            default=False,
            help="Exit with status 2 when there are differences (like git diff --exit-code), for drift checks in CI.",
        ),
    ],
)
def diffs_cmd(**kwargs: Any) -> None:
    _run("diffs", kwargs)


@_command(
    "reset",
    "Delete the requested resources from the destination org, after backing them up to "
    "<destination path>/.backup/<timestamp>/ and asking per type.",
    [
        source_options,
        destination_options,
        click.option(
            "--do-not-backup", is_flag=True, default=False, help="Skip the backup (dangerous; waits 5 s first)."
        ),
        click.option(
            "--yes",
            "-y",
            "assume_yes",
            is_flag=True,
            default=False,
            help="Do not ask for confirmation (required with --json, where nobody can answer).",
        ),
    ],
)
def reset_cmd(**kwargs: Any) -> None:
    _run("reset", kwargs)


@_command(
    "secrets-template",
    "Write the secrets file that source state needs, names without values, on stdout: e.g. datadog-sync "
    "secrets-template --resources=integrations > secrets.json, then fill in every value and pass it with "
    "--integrations-secrets-file.",
    [],
)
def secrets_template_cmd(**kwargs: Any) -> None:
    from datadog_sync.secrets_template import run_secrets_template

    sys.exit(run_secrets_template(build_configuration("secrets-template", kwargs)))


def _run(command: str, kwargs: dict[str, Any]) -> None:
    from datadog_sync.runner import run_command

    config = build_configuration(command, kwargs)
    if command == "reset" and config.do_not_backup:
        import time

        time.sleep(5)  # a last chance to Ctrl-C, as upstream
    sys.exit(run_command(config))


def build_configuration(command: str, kw: dict[str, Any]) -> Configuration:
    """Validate option values together and build the run's configuration; usage errors exit 2."""
    known = registry()
    resources = _parse_resources(kw.get("resources"), known)
    expressions = list(kw.get("filter") or ())
    try:
        filters = Filters.parse(expressions, kw.get("filter_operator") or "OR")
    except FilterError as exc:
        raise click.UsageError(str(exc)) from exc
    unknown_filter_types = sorted(set(filters.resource_types) - set(known))
    if unknown_filter_types:
        raise click.UsageError(
            f"--filter names unknown resource type(s) {', '.join(unknown_filter_types)}; known: {', '.join(known)}"
        )
    cleanup = Cleanup.ASK if command == "reset" else Cleanup.parse(kw.get("cleanup"))
    emit_json = bool(kw.get("emit_json"))
    if emit_json and cleanup is Cleanup.ASK and not (command == "reset" and kw.get("assume_yes")):
        hint = "pass --yes" if command == "reset" else "use --cleanup=Force"
        raise click.UsageError(f"--json cannot ask for confirmation: {hint}")
    if kw.get("send_metrics"):
        raise click.UsageError(
            "--send-metrics=true is not supported: datadog-sync sends no usage metrics to your orgs "
            "(datadog-sync-cli sends datadog.org-sync.* metrics); use --send-metrics=false or leave it out"
        )
    if kw.get("create_global_downtime"):
        raise click.UsageError(
            "--create-global-downtime=true is not supported: datadog-sync syncs no monitors and creates no "
            "downtime; use --create-global-downtime=false or leave it out"
        )
    secrets_file = kw.get("integrations_secrets_file")
    if secrets_file:
        _check_secrets_file(secrets_file)
    verify_ddr_status = kw.get("verify_ddr_status", True)
    _check_keys(command, kw, verify_ddr_status)
    return Configuration(
        command=command,
        source=_org_config("source", kw),
        destination=_org_config("destination", kw),
        resources=resources,
        filters=filters,
        cleanup=cleanup,
        validate=kw.get("validate", True),
        verify_ddr_status=verify_ddr_status,
        max_workers=kw.get("max_workers") or 100,
        max_workers_per_type=_parse_workers_per_type(kw.get("max_workers_per_type"), known),
        resource_per_file=bool(kw.get("resource_per_file")),
        source_resources_path=Path(kw.get("source_resources_path") or "resources/source").absolute(),
        destination_resources_path=Path(kw.get("destination_resources_path") or "resources/destination").absolute(),
        http_client_timeout=float(kw.get("http_client_timeout") or 30),
        http_client_retry_timeout=float(_value_or(kw.get("http_client_retry_timeout"), 60)),
        verify_ssl_certificates=bool(kw.get("verify_ssl_certificates", True)),
        http_client_trust_env=bool(kw.get("http_client_trust_env", False)),
        show_progress_bar=bool(kw.get("show_progress_bar", True)) and not emit_json,
        emit_json=emit_json,
        verbose=bool(kw.get("verbose")),
        do_not_backup=bool(kw.get("do_not_backup")),
        assume_yes=bool(kw.get("assume_yes")),
        diff_exit_code=bool(kw.get("diff_exit_code")),
        integrations_secrets_file=Path(secrets_file) if secrets_file else None,
        integrations_aws_api=(kw.get("integrations_aws_api") or "v2").lower(),
        integrations_webhooks=_names(kw.get("integrations_webhooks")),
        force_unlock=bool(kw.get("force_unlock")),
        storage=_storage_config(kw),
    )


def _storage_config(kw: dict[str, Any]) -> StorageConfig:
    """``--storage-type`` and its backend's options; a missing bucket or extra is a usage error before anything."""
    kind = (kw.get("storage_type") or "local").lower()
    if kind == "local":
        return StorageConfig()
    bucket_option, prefix = {
        "s3": ("aws_bucket_name", "aws_bucket_key_prefix"),
        "gcs": ("gcs_bucket_name", "gcs_bucket_key_prefix"),
        "azure": ("azure_container_name", "azure_container_key_prefix"),
    }[kind]
    bucket = (kw.get(bucket_option) or "").strip()
    if not bucket:
        flag = "--" + bucket_option.replace("_", "-")
        raise click.UsageError(f"--storage-type={kind} needs {flag} (env {bucket_option.upper()})")
    install = missing_extra(kind)
    if install:
        raise click.UsageError(f"--storage-type={kind} needs the {kind} extra, which is not installed: {install}")

    def value(name: str) -> str | None:
        return (kw.get(name) or "").strip() or None

    if kind == "s3" and bool(value("aws_access_key_id")) != bool(value("aws_secret_access_key")):
        raise click.UsageError(
            "--aws-access-key-id and --aws-secret-access-key go together (env AWS_ACCESS_KEY_ID, "
            "AWS_SECRET_ACCESS_KEY); leave both out to use AWS's standard credential chain"
        )
    if kind == "azure" and not (value("azure_storage_connection_string") or value("azure_storage_account_name")):
        raise click.UsageError(
            "--storage-type=azure needs --azure-storage-connection-string (env AZURE_STORAGE_CONNECTION_STRING) "
            "or --azure-storage-account-name (env AZURE_STORAGE_ACCOUNT_NAME)"
        )
    return StorageConfig(
        type=kind,
        bucket=bucket,
        source_prefix=(kw.get(f"{prefix}_source") or "resources/source").strip("/"),
        destination_prefix=(kw.get(f"{prefix}_destination") or "resources/destination").strip("/"),
        aws_region_name=value("aws_region_name"),
        aws_access_key_id=value("aws_access_key_id"),
        aws_secret_access_key=value("aws_secret_access_key"),
        aws_session_token=value("aws_session_token"),
        gcs_service_account_key_file=value("gcs_service_account_key_file"),
        azure_storage_account_name=value("azure_storage_account_name"),
        azure_storage_account_key=value("azure_storage_account_key"),
        azure_storage_connection_string=value("azure_storage_connection_string"),
    )


def _names(value: str | None) -> tuple[str, ...]:
    """A comma-separated list of names, blanks trimmed, empty items and repeats dropped."""
    return tuple(dict.fromkeys(n.strip() for n in (value or "").split(",") if n.strip()))


def _value_or(value: Any, default: float) -> Any:
    """*value* unless it is unset (``None``); 0 stays 0, unlike ``value or default``."""
    return default if value is None else value


def _org_config(org: str, kw: dict[str, Any]) -> OrgConfig:
    try:
        url = normalize_api_url(kw.get(f"{org}_api_url"))
    except ApiUrlError as exc:
        raise click.BadParameter(str(exc), param_hint=f"'--{org}-api-url' (DD_{org.upper()}_API_URL)") from None
    return OrgConfig(org, url, kw.get(f"{org}_api_key"), kw.get(f"{org}_app_key"))


def _check_keys(command: str, kw: dict[str, Any], verify_ddr_status: bool) -> None:
    """Missing keys of the orgs the command talks to are a usage error before any request (never a 403 later)."""
    from datadog_sync.runner import DDR_SOURCE_COMMANDS, DESTINATION_COMMANDS, SOURCE_COMMANDS

    needed = [
        org
        for org, commands in (("source", SOURCE_COMMANDS), ("destination", DESTINATION_COMMANDS))
        if command in commands or (org == "source" and verify_ddr_status and command in DDR_SOURCE_COMMANDS)
    ]
    for org in needed:
        option = {kind: f"--{org}-{kind}-key (env DD_{org.upper()}_{kind.upper()}_KEY)" for kind in ("api", "app")}
        values = {kind: (kw.get(f"{org}_{kind}_key") or "").strip() for kind in ("api", "app")}
        missing = [option[kind] for kind, value in values.items() if not value]
        if missing:
            raise click.UsageError(
                f"{command} needs the {org} org's API and application keys; not set: {', '.join(missing)}"
            )
        for kind, value in values.items():
            if not (value.isascii() and value.isprintable()):  # would fail as an HTTP header, or mean a bad paste
                raise click.UsageError(
                    f"{option[kind]} has a line break, control or non-ASCII character (the value is not shown)"
                )


def _parse_resources(value: str | None, known: dict) -> tuple[str, ...]:
    if value is None:
        return tuple(known)
    names = list(dict.fromkeys(n.strip().lower() for n in value.split(",") if n.strip()))
    unknown = [n for n in names if n not in known]
    if unknown:
        raise click.UsageError(
            f"unknown resource type(s) in --resources: {', '.join(unknown)}; known: {', '.join(known)}"
        )
    if not names:  # "--resources=" is a slip (an unset variable?), not a request for every type
        raise click.UsageError("--resources is empty; leave it out for every type, or name some: " + ", ".join(known))
    return tuple(names)


def _parse_workers_per_type(value: str | None, known: dict) -> dict[str, int]:
    caps: dict[str, int] = {}
    if not value:
        return caps
    for part in value.split(","):
        name, sep, number = part.strip().partition("=")
        name = name.strip().lower()
        if not sep or not name:
            raise click.UsageError(f"--max-workers-per-type: expected 'type=N', got {part.strip()!r}")
        if name not in known:
            raise click.UsageError(f"--max-workers-per-type: unknown resource type {name!r}; known: {', '.join(known)}")
        if name in caps:
            raise click.UsageError(f"--max-workers-per-type: {name} given twice")
        try:
            caps[name] = int(number)
        except ValueError:
            raise click.UsageError(
                f"--max-workers-per-type: {number.strip()!r} for {name} is not a whole number"
            ) from None
        if caps[name] <= 0:
            raise click.UsageError(f"--max-workers-per-type: the cap for {name} must be at least 1")
    return caps


def _check_secrets_file(path: str) -> None:
    """Fail before any request on an unreadable or malformed secrets file (the message never shows a secret)."""
    from datadog_sync.resources.integrations.secrets import SecretsFileError, load_secrets

    try:
        load_secrets(Path(path))
    except SecretsFileError as exc:
        raise click.UsageError(str(exc)) from None

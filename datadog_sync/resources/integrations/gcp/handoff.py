"""The STS trust hand-off: what the operator must grant in GCP after service accounts were copied.

Datadog reaches an STS service account by impersonating it from the org's own Datadog principal
(``GET /api/v2/integration/gcp/sts_delegate``: ``delegate_account_email``), and every org has its own. A copy in the
destination collects nothing until the destination's principal holds ``roles/iam.serviceAccountTokenCreator`` on
the service account (https://docs.datadoghq.com/integrations/google_cloud_platform/), a GCP IAM change no Datadog
API can make. After ``sync`` the accounts created in this run are listed in the log and every STS account of
destination state is written, with its ready-to-run ``gcloud`` command, to
``resources/destination/handoff/gcp-sts-principal.json`` (beside the AWS external IDs, through ``ctx.sidechannel``).
"""

from __future__ import annotations

import json
import shlex
from typing import TYPE_CHECKING

from datadog_sync.resources.integrations.gcp import model

if TYPE_CHECKING:  # pragma: no cover
    from pathlib import Path

    from datadog_sync import sidechannel
    from datadog_sync.context import ResourceLogger, RunContext

HANDOFF_FILE = "gcp-sts-principal.json"
ROLE = "roles/iam.serviceAccountTokenCreator"
UNKNOWN_PRINCIPAL = "<principal: GET /api/v2/integration/gcp/sts_delegate on the destination>"
#: Accounts listed in the log; the file has them all.
MAX_LISTED = 20
_SA_DOMAIN = ".iam.gserviceaccount.com"


def gcloud_command(client_email: str, principal: str) -> str:
    """The command granting ``principal`` the token creator role on one service account (``--project`` from a
    user-managed account's email, ``NAME@PROJECT.iam.gserviceaccount.com``)."""
    parts = [
        "gcloud",
        "iam",
        "service-accounts",
        "add-iam-policy-binding",
        client_email,
        f"--member=serviceAccount:{principal}",
        f"--role={ROLE}",
    ]
    domain = client_email.partition("@")[2]
    if domain.endswith(_SA_DOMAIN) and domain[: -len(_SA_DOMAIN)]:
        parts.append(f"--project={domain[: -len(_SA_DOMAIN)]}")
    return shlex.join(parts)


def _sts_accounts(ctx: RunContext) -> dict[str, str]:
    """State key -> client email of every STS account in destination state."""
    state = ctx.state.destination.get(model.RESOURCE_TYPE, {})
    return {
        key: str(obj[model.EMAIL])
        for key, obj in state.items()
        if key.startswith(f"{model.SUBTYPE}:") and obj.get(model.EMAIL) and not model.is_key_account(obj)
    }


def report(ctx: RunContext, log: ResourceLogger, principal: str | None, created: set[str]) -> Path | None:
    """Write the hand-off file and print the accounts created in this run with their ``gcloud`` commands."""
    path = ctx.sidechannel.path(HANDOFF_FILE)
    accounts = _sts_accounts(ctx)
    if not accounts and not path.exists():
        return None
    grantee = principal or UNKNOWN_PRINCIPAL
    created = {key for key in created if key in accounts}
    document = {
        "description": (
            "GCP STS service accounts in the destination Datadog org. Datadog impersonates each one from the "
            f"destination org's own principal, which needs {ROLE} on it before Datadog can collect its data: run "
            "each gcloud command (or grant it in the GCP console)."
        ),
        "destination_api_url": ctx.config.destination.api_url,
        "datadog_principal": principal,
        "role": ROLE,
        "service_accounts": [
            {
                "state_key": key,
                "client_email": email,
                "principal": grantee,
                "new_in_last_sync": key in created,
                "gcloud": gcloud_command(email, grantee),
            }
            for key, email in sorted(accounts.items())
        ],
    }
    ctx.sidechannel.write(HANDOFF_FILE, json.dumps(document, indent=2) + "\n")
    if created:
        log.warning(
            "%d GCP service account(s) were created in the destination org. Grant its Datadog principal %s the "
            "role %s on each, or Datadog cannot impersonate them. gcloud commands: %s",
            len(created),
            grantee,
            ROLE,
            path,
        )
        shown = sorted(created)[:MAX_LISTED]
        for key in shown:
            log.warning("  %s", gcloud_command(accounts[key], grantee))
        if len(created) > len(shown):
            log.warning("  ... and %d more in %s", len(created) - len(shown), path)
    if principal is None and accounts:
        log.warning(
            "the destination org's Datadog principal could not be read or created (needs %s): the hand-off %s "
            "names it by a placeholder",
            "gcp_configuration_read / gcp_configuration_edit",
            path,
        )
    return path


def forget(channels: sidechannel.SideChannels, state_keys: list[str]) -> None:
    """Drop the accounts ``reset`` deleted from the hand-off file."""
    path = channels.path(HANDOFF_FILE)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        accounts = document["service_accounts"]
    except (OSError, ValueError, KeyError, TypeError):
        return
    gone = set(state_keys)
    kept = [item for item in accounts if not (isinstance(item, dict) and item.get("state_key") in gone)]
    if kept != accounts:
        channels.write(HANDOFF_FILE, json.dumps({**document, "service_accounts": kept}, indent=2) + "\n")

"""The external-ID hand-off: what the operator must change in AWS after role accounts were created.

Datadog gives every role account created in the destination org a new external ID. AWS only lets the
destination's Datadog assume the role once the role's trust policy requires that ID (``sts:ExternalId``), so
after ``sync`` we print the accounts that got one and write a machine-readable file, by default
``resources/destination/handoff/aws-external-ids.json`` (``<destination resources path>/handoff/``, a
sub-directory so the state loader never reads it as state). The file lists *every* role account whose
external ID this tool holds in destination state, flagging those issued by the last sync.

An external ID is returned once, by the create call. Each one is also appended to a journal beside the
hand-off file (both through the host's ``ctx.sidechannel``) the moment it arrives, so a run killed before its state was saved loses none: the next run
finds the account in the destination, adopts it, and takes its external ID from the journal.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from datadog_sync import sidechannel
from datadog_sync.resources.integrations.aws import model

if TYPE_CHECKING:  # pragma: no cover
    from datadog_sync.context import ResourceLogger, RunContext

HANDOFF_DIR = sidechannel.DIR_NAME
HANDOFF_FILE = "aws-external-ids.json"
JOURNAL_FILE = "aws-external-ids.journal"

#: The AWS account Datadog assumes roles from, per site (Datadog's AWS integration docs). Sites not listed
#: here get a placeholder the operator must fill in rather than a guess.
DATADOG_AWS_ACCOUNT = "464622532012"
_SITE_AWS_ACCOUNTS = {"ddog-gov.com": "065115117704", "ap1.datadoghq.com": "417141415827"}
_UNKNOWN_SITES = ("ap2.datadoghq.com",)
PLACEHOLDER = "<Datadog's AWS account id for your site>"
#: New external IDs listed in the log; the hand-off file has them all (a big migration issues thousands).
MAX_LISTED = 20


def handoff_path(destination_root: Path) -> Path:
    return Path(destination_root) / HANDOFF_DIR / HANDOFF_FILE


def journal_path(destination_root: Path) -> Path:
    return Path(destination_root) / HANDOFF_DIR / JOURNAL_FILE


class Journal:
    """The external-ID journal: one line per issued ID, or per create attempt (``intent``), as it happens."""

    def __init__(self, target: Path | sidechannel.Journal):
        self._journal = target if isinstance(target, sidechannel.Journal) else sidechannel.Journal(journal_path(target))

    def append(
        self, account_id: str, role_name: str, external_id: str | None = None, intent: str | None = None
    ) -> None:
        item = {"account_id": account_id, "role_name": role_name}
        item.update({"external_id": external_id} if external_id else {"intent": intent or ""})
        self._journal.append(item)

    def close(self) -> None:
        self._journal.close()


def journal_load(destination_root: Path) -> dict[tuple[str, str], str | None]:
    """By (account id, role name): the latest external ID issued, or None when a create was started (an
    ``intent`` line) and no ID was ever received. A torn last line (the writer was killed) is ignored."""
    path = journal_path(destination_root)
    found: dict[tuple[str, str], str | None] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return found
    for line in lines:
        try:
            item = json.loads(line)
            key = (item["account_id"], item["role_name"])
        except (ValueError, KeyError, TypeError):
            continue
        if item.get("external_id"):
            found[key] = item["external_id"]
        elif item.get("intent") == "create":  # sent; unless an id line follows, its answer never arrived
            found[key] = None
        elif item.get("intent") in ("adopted", "refused"):  # someone else's account, or none made: never rotate
            found.pop(key, None)
    return found


def forget(channels: sidechannel.SideChannels, state_keys: list[str]) -> None:
    """Drop accounts that ``reset`` deleted from the hand-off file: their roles no longer need its external IDs."""
    path = channels.path(HANDOFF_FILE)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        accounts = document["accounts"]
    except (OSError, ValueError, KeyError, TypeError):
        return  # no hand-off file (or not ours to fix): nothing to update
    gone = set(state_keys)
    kept = [item for item in accounts if not (isinstance(item, dict) and item.get("state_key") in gone)]
    # Adopted roles are listed by ARN (arn:<partition>:iam::<account id>:role/<name>); state keys are aws:<account id>.
    gone_ids = {key.partition(":")[2] for key in gone}
    unknown = document.get("roles_with_unknown_external_id")
    changed: dict = {"accounts": kept}
    if isinstance(unknown, list):
        changed["roles_with_unknown_external_id"] = [arn for arn in unknown if _arn_account(arn) not in gone_ids]
    if changed != {key: document.get(key) for key in changed}:
        channels.write(HANDOFF_FILE, json.dumps({**document, **changed}, indent=2) + "\n")


def _arn_account(arn: object) -> str | None:
    parts = arn.split(":") if isinstance(arn, str) else []
    return parts[4] if len(parts) > 4 else None


def datadog_aws_account(api_url: str) -> str:
    host = urlsplit(api_url).hostname or ""
    for site, account in _SITE_AWS_ACCOUNTS.items():
        if host.endswith(site):
            return account
    if any(host.endswith(site) for site in _UNKNOWN_SITES):
        return PLACEHOLDER
    return DATADOG_AWS_ACCOUNT


def trust_policy(datadog_account: str, external_id: str, partition: str = "aws") -> dict:
    """The IAM role trust policy that lets the destination's Datadog assume the role (a role can only trust a
    principal of its own partition)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition or 'aws'}:iam::{datadog_account}:root"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": external_id}},
            }
        ],
    }


def entry(account_id: str, role_name: str, external_id: str, partition: str = "aws") -> dict:
    return {
        "account_id": account_id,
        "role_name": role_name,
        "role_arn": model.role_arn(account_id, role_name, partition),
        "external_id": external_id,
    }


def _partition(obj: dict) -> str:
    """v2's ``aws_partition`` (v1 state has none: its roles are all in ``aws``)."""
    return str(obj.get("aws_partition") or "aws")


def _indented(document: dict, listed: str) -> Iterator[str]:
    """The text of ``json.dumps(document, indent=2)`` in pieces, ``document[listed]`` being an iterable encoded one
    item at a time: the 10,000 accounts of a big migration, each with its trust policy, are never all built at
    once, nor encoded by one call of the (pure Python) indenting encoder, which keeps every small piece until it
    joins them (about 30 MB at the end of a sync of 10,000 accounts, docs/performance.md)."""
    opening = "{\n"
    for key, value in document.items():
        yield f"{opening}  {json.dumps(key)}: "
        opening = ",\n"
        if key != listed:
            yield json.dumps(value, indent=2).replace("\n", "\n  ")
            continue
        start = "[\n    "
        for item in value:
            yield start + json.dumps(item, indent=2).replace("\n", "\n    ")
            start = ",\n    "
        yield "[]" if start == "[\n    " else "\n  ]"
    yield "{}" if opening == "{\n" else "\n}"


def _announced(obj: dict) -> object:
    """A hand-off file's object hook: an account entry becomes its ``(state_key, external_id)``, so the previous
    file's trust policies are dropped as it is read instead of held whole."""
    return (obj.get("state_key"), obj.get("external_id")) if "state_key" in obj else obj


def _unannounced(ctx: RunContext, path: Path, known: dict[str, dict], issued: dict[str, dict]) -> dict[str, dict]:
    """Known accounts whose external id the journal holds (this tool was issued it) but the hand-off file does not
    (a run interrupted before announcing it, e.g. SIGKILL): they are announced now, as new."""
    candidates = {key: item for key, item in known.items() if key not in issued}
    if not candidates:
        return {}
    journal = journal_load(ctx.config.destination_resources_path)
    try:
        previous = json.loads(path.read_text(encoding="utf-8"), object_hook=_announced).get("accounts") or []
        announced = {a for a in previous if isinstance(a, tuple)}
    except (OSError, ValueError, AttributeError, TypeError):
        announced = set()
    return {
        key: item
        for key, item in candidates.items()
        if journal.get((item["account_id"], item["role_name"])) == item["external_id"]
        and (key, item["external_id"]) not in announced
    }


def _role_name(obj: dict) -> str:
    """A role account's role name in a state entry of either API generation (v1: ``role_name``; v2:
    ``auth_config.role_name``); empty for key accounts."""
    auth = obj.get("auth_config")
    v2_role = auth.get("role_name") if isinstance(auth, dict) else None
    return str(obj.get("role_name") or v2_role or "")


def report(ctx: RunContext, log: ResourceLogger, issued: dict[str, dict]) -> Path | None:
    """Print the accounts that got a new external ID in this run and (re)write the hand-off file."""
    path = ctx.sidechannel.path(HANDOFF_FILE)
    state = ctx.state.destination.get(model.RESOURCE_TYPE, {})
    known = {
        key: entry(obj["account_id"], _role_name(obj), obj[model.EXTERNAL_ID], _partition(obj))
        for key, obj in state.items()
        if obj.get(model.EXTERNAL_ID) not in (None, "", model.LOST_EXTERNAL_ID)
        and obj.get("account_id")
        and _role_name(obj)
    }
    # Accounts created in this run and still there (state holds an external id the moment it is issued), and
    # those whose id a killed run journaled but never announced: the hand-off file it would have written lacks it.
    issued = {key: item for key, item in issued.items() if key in known}
    issued.update(_unannounced(ctx, path, known, issued))
    unknown = sorted(
        model.role_arn(obj["account_id"], _role_name(obj), _partition(obj))
        for obj in state.values()
        if obj.get(model.EXTERNAL_ID) in (None, "", model.LOST_EXTERNAL_ID)
        and obj.get("account_id")
        and _role_name(obj)
    )
    if not known and not unknown and not path.exists():
        return None
    principal = datadog_aws_account(ctx.config.destination.api_url)
    accounts = (
        {
            "state_key": key,
            **item,
            "new_in_last_sync": key in issued,
            "trust_policy": trust_policy(principal, item["external_id"], item["role_arn"].split(":")[1]),
        }
        for key, item in sorted(known.items())
    )
    document = {
        "description": (
            "AWS role accounts created in the destination Datadog org by datadog-sync. Each IAM role's trust "
            "policy must require the account's external_id (sts:ExternalId) before Datadog can collect its data."
        ),
        "destination_api_url": ctx.config.destination.api_url,
        "datadog_aws_account_id": principal,
        "accounts": accounts,
        # Role accounts that existed in the destination before this tool created them (made by hand, or whose
        # create response never arrived): their external ID is not returned by the API. If Datadog cannot
        # assume such a role, rotate its external ID in the Datadog UI and update the trust policy.
        "roles_with_unknown_external_id": unknown,
    }
    ctx.sidechannel.write(HANDOFF_FILE, chain(_indented(document, "accounts"), ["\n"]))
    if issued:
        log.warning(
            "%d AWS role account(s) got a new external ID in the destination org. Update each IAM role's trust "
            "policy to require it (sts:ExternalId), or Datadog cannot assume the role. Details and trust-policy "
            "snippets: %s",
            len(issued),
            path,
        )
        shown = sorted(issued)[:MAX_LISTED]
        for item in (issued[key] for key in shown):
            log.warning("  %s: new external ID %s", item["role_arn"], item["external_id"])
        if len(issued) > len(shown):
            log.warning("  ... and %d more in %s", len(issued) - len(shown), path)
    return path

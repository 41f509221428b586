"""What users read about a plan: ``diffs`` lines, the ``Plan:`` and ``Applied:`` lines, upstream's log lines."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pprint import pformat

from datadog_sync.context import RunContext
from datadog_sync.diffing import upstream_diff
from datadog_sync.log import MULTILINE, escape_control
from datadog_sync.planner import Change, Plan
from datadog_sync.resources.base import BaseResource

SYMBOLS = {"create": "+", "update": "~", "delete": "-", "skip": "!"}


def print_plan(ctx: RunContext, plan: Plan, resources: Mapping[str, BaseResource]) -> None:
    """Terraform-style plan on stdout (or one ``plan`` event per change with ``--json``)."""
    out = ctx.reporter
    for change in plan.changes:
        if change.action == "noop":
            continue
        _log_upstream_diff(ctx, change, resources[change.resource_type])
        if ctx.config.emit_json:
            out.emit(
                {
                    "type": "plan",
                    "resource_type": change.resource_type,
                    "id": change.key,
                    "action": change.action,
                    "invalid": change.invalid,
                    "adopted": change.adopted,
                    "reason": change.reason,
                    "differences": [d.as_dict() for d in change.differences],
                }
            )
            continue
        note = f"  ({change.reason})" if change.reason else ""
        line = f"{SYMBOLS[change.action]} {change.resource_type} {change.key}: {change.action}{note}"
        lines = [escape_control(line)]  # API data
        if change.action == "create":
            res = resources[change.resource_type]
            shown = res.redacted(res.prepare(change.desired or {}))
            lines += [f"    + {k}: {_short(v)}" for k, v in sorted(shown.items())]
        lines += [f"    {d.render()}" for d in change.differences]
        out.stream.write("\n".join(lines) + "\n")
    if ctx.config.emit_json:
        out.emit({"type": "summary", "command": "diffs", **_plan_counts(plan)})
    else:
        print_summary(ctx, plan)
    out.stream.flush()


def print_summary(ctx: RunContext, plan: Plan) -> None:
    """The ``Plan:`` line (``--json`` has its own summary event)."""
    if not ctx.config.emit_json:
        ctx.reporter.stream.write(plan.summary() + "\n")


def _log_upstream_diff(ctx: RunContext, change: Change, res: BaseResource) -> None:
    """datadog-sync-cli's ``diffs`` lines (INFO, on stderr), for scripts that grep them; secrets stay redacted."""
    if change.action == "create":
        ctx.logger.info("to be created: %s %s", change.resource_type, change.key)
    elif change.action == "update" and change.differences:
        text = pformat(upstream_diff(list(change.differences)))
        res.log.info("diff: \n %s", text, id=escape_control(change.key), extra=MULTILINE)
    elif change.action == "delete" and change.current is not None:
        text = pformat(res.redacted(change.current))
        res.log.info("to be deleted: \n %s", text, id=escape_control(change.key), extra=MULTILINE)


def _plan_counts(plan: Plan) -> dict[str, object]:
    return {
        "create": plan.count("create"),
        "update": plan.count("update"),
        "delete": plan.count("delete"),
        "unchanged": plan.count("noop"),
        "skipped": plan.count("skip") - plan.invalid,
        "failed": plan.invalid,
        "filtered": plan.filtered,
        "unknown": plan.unknown,
    }


def _short(value: object) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 200 else text[:197] + "..."


def applied_summary(ctx: RunContext, plan: Plan | None = None) -> str:
    rep = ctx.reporter
    filtered = f", {plan.filtered} filtered" if plan is not None and plan.filtered else ""
    return (
        f"Applied: {rep.total('sync', 'success', 'create')} created, {rep.total('sync', 'success', 'update')} updated, "
        f"{rep.total('delete', 'success')} deleted, {rep.unchanged} unchanged, {rep.failures} failed, "
        f"{rep.skipped_with_reason} skipped{filtered}."
    )

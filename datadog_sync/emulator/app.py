"""The aiohttp application: routing plus the middleware that plays the part of Datadog's front end.

For each API request, in this order: authentication (403), rate limit (429 + X-RateLimit-* headers), permission
check (403), injected fault (5xx, not applied), the org's AWS write slot (409 on overlapping writes), the handler,
latency, then an optional lost response (applied, but the client gets 504). Every API request is logged.

Latency L is a real server's: the answer leaves L after the request arrived, or when its processing ends if that
takes longer (what a recorded interaction's duration measures), not L on top of the emulator's own processing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Iterator
from typing import Any

from aiohttp import web

from datadog_sync.emulator import (
    admin,
    aws_v1,
    aws_v2,
    azure,
    gcp,
    platform_api,
    services_accounts,
    services_auth,
    services_confluent_okta,
    services_v1,
    services_v2,
)
from datadog_sync.emulator.common import CORE, ORG, ApiError, Endpoint, Handler, json_error
from datadog_sync.emulator.core import EmulatorCore, UnknownOrg
from datadog_sync.emulator.permissions import effective_permissions
from datadog_sync.emulator.state import InvalidField, Org, redact_secrets

log = logging.getLogger(__name__)

FORBIDDEN = ("Forbidden",)
PERMISSION_DENIED = ("Forbidden", "Failed permission authorization checks")
WRITE_CONFLICT = "Could not update AWS Integration due to conflicting updates"
FAULT_BODIES = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}
_TIMER_GRAIN = 0.001  # seconds: epoll's resolution (asyncio's selector rounds its timeouts up to it)


def build_app(core: EmulatorCore) -> web.Application:
    app = web.Application(middlewares=[emulator_middleware], client_max_size=16 * 1024 * 1024)
    app[CORE] = core
    platform_api.add_routes(app)
    aws_v1.add_routes(app)
    aws_v2.add_routes(app)
    gcp.add_routes(app)
    azure.add_routes(app)
    services_v1.add_routes(app)
    services_v2.add_routes(app)
    services_auth.add_routes(app)
    services_accounts.add_routes(app)
    services_confluent_okta.add_routes(app)
    admin.add_routes(app)
    return app


async def _call(handler: Handler, request: web.Request) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as exc:
        return json_error(exc.status, *exc.messages)
    except web.HTTPException as exc:  # router 404/405, answered the Datadog way (JSON)
        return json_error(exc.status, exc.reason)


@web.middleware
async def emulator_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith(admin.PREFIX + "/"):
        return await _admin(request, handler)
    core = request.app[CORE]
    started, t0 = time.time(), time.perf_counter()
    raw = await request.read()
    logged_body = _logged_body(raw)  # before the answer's latency elapses: the emulator's work is inside it
    request[ORG] = None
    try:
        with _serial_writes(core, request, handler):
            response, injected = await _serve(core, request, handler, t0)
    except Exception:  # an emulator bug: answer like a server error, keep serving, and say so in the log
        log.exception("emulator error on %s %s", request.method, request.path)
        response, injected = json_error(500, "Internal Server Error"), "emulator_error"
    org: Org | None = request[ORG]
    core.request_log.append(
        {
            "method": request.method,
            "path": request.path,
            "query": _query(request),
            "body": logged_body,
            "status": response.status,
            "start": started,
            "duration_ms": round((time.perf_counter() - t0) * 1000, 3),
            "org": org.name if org else None,
            "injected": injected,
        }
    )
    core.counters.add("requests", org.name if org else None)
    return response


async def _admin(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await _call(handler, request)
    except UnknownOrg as exc:
        return json_error(404, f"unknown org {exc.args[0]!r}")
    except (InvalidField, ValueError, TypeError) as exc:
        return json_error(400, str(exc))


async def _serve(
    core: EmulatorCore, request: web.Request, handler: Handler, arrived: float
) -> tuple[web.StreamResponse, str | None]:
    """Returns the response and what was injected (None, "rate_limited", "fault", "write_conflict", "lost").
    ``arrived`` is the request's arrival (``time.perf_counter``), from which its latency is counted."""
    spec: Endpoint | None = getattr(handler, "endpoint", None)
    if spec is None:  # no route matched: aiohttp's handler raises 404/405
        return await _call(handler, request), None
    org, denial = _authenticate(core, request, spec)
    if org is None:
        core.counters.add("forbidden", None)
        return denial, None  # type: ignore[return-value]
    request[ORG] = org
    knobs = core.knobs
    headers: dict[str, str] = {}
    if spec.rate_limited and knobs.rate_limit is not None:
        decision = core.limiter.check(org.name, knobs.rate_limit, knobs.rate_period, knobs.rate_limit_name)
        headers = decision.headers
        if not decision.allowed:
            core.counters.add("rate_limited", org.name)
            return json_error(429, "Rate limit exceeded", headers=headers), "rate_limited"
    if spec.rate_limited and knobs.rate_limit_every is not None:
        core.counters.add("rate_limit_seen", org.name)  # not reported: only counts toward rate_limit_every
        if core.counters.of(org.name, "rate_limit_seen") % knobs.rate_limit_every == 0:
            # As if the window were used up with under a second left: a real 429, at a count, not a time.
            limit = knobs.rate_limit or knobs.rate_limit_every
            headers = {
                "X-RateLimit-Limit": str(limit),
                "X-RateLimit-Period": str(knobs.rate_period),
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": "0",
                "X-RateLimit-Name": knobs.rate_limit_name,
            }
            core.counters.add("rate_limited", org.name)
            return json_error(429, "Rate limit exceeded", headers=headers), "rate_limited"
    if spec.permission and spec.permission not in effective_permissions(org.permissions, org.app_key_scopes):
        core.counters.add("forbidden", org.name)
        return json_error(403, *PERMISSION_DENIED, headers=headers), None
    if knobs.outage_after_writes is not None and core.counters.of(org.name, "writes") >= knobs.outage_after_writes:
        core.counters.add("outage_answers", org.name)
        return json_error(503, FAULT_BODIES[503], headers=headers), "outage"
    if knobs.hold_after_writes is not None and core.counters.of(org.name, "writes") >= knobs.hold_after_writes:
        core.counters.add("held", org.name)
        while (
            core.knobs.hold_after_writes is not None
            and core.counters.of(org.name, "writes") >= core.knobs.hold_after_writes
        ):
            await asyncio.sleep(0.01)  # until a test or soak changes the knob
        knobs = core.knobs

    scripted = None
    if knobs.script:
        scripted = knobs.take_scripted(org.name, request.method, request.path, _body_account_id(await request.read()))
    if scripted:
        core.counters.add("scripted_faults", org.name)
        return await _scripted(scripted, core, request, handler, headers), f"scripted_{scripted}"
    is_write = request.method not in ("GET", "HEAD", "OPTIONS")
    if is_write:
        core.counters.add("writes", org.name)
    # Draw the dice up front, in arrival order, so a given seed gives the same sequence of outcomes.
    chaos = request.path.startswith(knobs.fault_path_prefix)
    fault = chaos and knobs.fault_rate > 0 and core.rng.random() < knobs.fault_rate
    lost = chaos and is_write and knobs.lost_response_rate > 0 and core.rng.random() < knobs.lost_response_rate

    if fault:
        status = core.rng.choice(sorted(FAULT_BODIES))
        await _answer_after(arrived, knobs.latency_ms)
        core.counters.add("faults_injected", org.name)
        return json_error(status, FAULT_BODIES[status], headers=headers), "fault"
    if spec.aws_write and (knobs.v2_write_slot or not spec.aws_v2):
        # One write at a time per org, held until the write is answered (terraform-provider-datadog GH#132,
        # GH#2066). Whether v2 writes share it is not recorded: the knob v2_write_slot (default on) decides.
        if org.aws_write_busy:
            core.counters.add("write_conflicts", org.name)
            return json_error(409, WRITE_CONFLICT, headers=headers), "write_conflict"
        org.aws_write_busy = True
        try:
            if knobs.hold_write_slot:
                core.counters.add("slot_held", org.name)
                while core.knobs.hold_write_slot:
                    await asyncio.sleep(0.01)  # until a test clears the knob: a write window of any length
            response = await _call(handler, request)
            await _answer_after(arrived, knobs.write_latency())
        finally:
            org.aws_write_busy = False
    else:
        response = await _call(handler, request)
        await _answer_after(arrived, knobs.latency_ms)
    if lost:
        core.counters.add("lost_responses", org.name)
        return json_error(504, "Gateway Timeout", headers=headers), "lost"
    response.headers.update(headers)
    return response, None


async def _scripted(
    fault: str, core: EmulatorCore, request: web.Request, handler: Handler, headers: dict[str, str]
) -> web.StreamResponse:
    """A scripted one-shot fault (knob ``script``): answered at once, or after applying the request."""
    if fault == "fault":
        return json_error(503, FAULT_BODIES[503], headers=headers)
    if fault == "conflict":
        return json_error(409, WRITE_CONFLICT, headers=headers)
    if fault == "rate_limited":
        return json_error(429, "Rate limit exceeded", headers={**headers, "X-RateLimit-Reset": "0"})
    await _call(handler, request)  # applied: lost, rival, hang
    if fault == "hang":
        await core.hung().wait()  # until the script is changed; then answered like a lost response
    status, message = (409, WRITE_CONFLICT) if fault == "rival" else (504, "Gateway Timeout")
    return json_error(status, message, headers=headers)


def _body_account_id(raw: bytes) -> str | None:
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    if body.get("account_id") is None and isinstance(body.get("data"), dict):  # a v2 JSON:API body
        body = body["data"].get("attributes")
        if not isinstance(body, dict):
            return None
        body = {"account_id": body.get("aws_account_id", body.get("account_id"))}
    return str(body["account_id"]) if body.get("account_id") is not None else None


@contextlib.contextmanager
def _serial_writes(core: EmulatorCore, request: web.Request, handler: Handler) -> Iterator[None]:
    """Counts `overlapping_writes` when a write to a PagerDuty, Slack or webhooks endpoint starts while another write
    to the same integration is in flight in the org: terraform-provider-datadog serialises those with a mutex because
    parallel writes on one account are "unsupported by the API". Only counted (what the API then does is not
    recorded), so subtype tests can assert that their writes were serialised."""
    spec: Endpoint | None = getattr(handler, "endpoint", None)
    org = None
    if spec is not None and spec.serial and request.method not in ("GET", "HEAD", "OPTIONS"):
        org = core.org_by_keys(request.headers.get("DD-API-KEY"), request.headers.get("DD-APPLICATION-KEY"))
    if org is None or spec is None or spec.serial is None:
        yield
        return
    family = spec.serial
    if org.serial_writes.get(family):
        core.counters.add("overlapping_writes", org.name)
    org.serial_writes[family] = org.serial_writes.get(family, 0) + 1
    try:
        yield
    finally:
        org.serial_writes[family] -= 1


def _authenticate(core: EmulatorCore, request: web.Request, spec: Endpoint) -> tuple[Org | None, web.Response]:
    api_key = request.headers.get("DD-API-KEY")
    if spec.auth == "api":
        if not api_key:
            return None, json_error(403, "API key required")
        org = core.org_by_api_key(api_key)
    else:
        org = core.org_by_keys(api_key, request.headers.get("DD-APPLICATION-KEY"))
    return org, json_error(403, *FORBIDDEN)


async def _answer_after(arrived: float, ms: float) -> None:
    """Wait until ``ms`` after the request's arrival; at once if its processing (or a hold) took longer.

    asyncio's timers wait in epoll, which wakes on whole milliseconds: a plain sleep ends up to 1 ms late (0.5 ms
    on average, 2.5% of a 20 ms latency). The last millisecond is waited by yielding to the loop instead, so the
    answer leaves on time, never early, and other requests are served meanwhile."""
    if ms <= 0:
        return
    deadline = arrived + ms / 1000
    coarse = deadline - time.perf_counter() - _TIMER_GRAIN
    if coarse > 0:
        await asyncio.sleep(coarse)
    while time.perf_counter() < deadline:
        await asyncio.sleep(0)


def _query(request: web.Request) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in request.query:
        values = request.query.getall(key)
        out[key] = values[0] if len(values) == 1 else values
    return out


def _logged_body(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return redact_secrets(json.loads(raw))
    except ValueError:
        return raw.decode("utf-8", "replace")

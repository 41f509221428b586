"""What every integrations subtype's API and write modules share: naming the object in an API error, and telling
a Datadog answer from a server that answers anything to every path."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from datadog_sync.http.errors import HTTPError
from datadog_sync.redact import redact_text
from datadog_sync.resources.base import ResourceError

if TYPE_CHECKING:  # pragma: no cover
    from datadog_sync.http.client import Client

_T = TypeVar("_T")


def error_message(label: str, err: HTTPError) -> str:
    """The API's error with the object it concerns (``label``, e.g. "AWS account 1234"); masked in case an API
    ever echoes a secret back."""
    return redact_text(f"{label}: {err}")


async def call(label: str, request: Awaitable[_T]) -> _T:
    """Await an API call, naming the object in its error (400s carry the API's message)."""
    try:
        return await request
    except HTTPError as err:
        raise ResourceError(error_message(label, err)) from err


def matched(
    live: Mapping[str, dict],
    source: Mapping[str, dict],
    destination_state: Mapping[str, dict],
    natural: Callable[[Mapping[str, Any]], str],
) -> dict[str, dict]:
    """The destination's object (``live``: natural key -> listed object) for every key of ``source`` or
    ``destination_state``, matched by the natural key of the source entry, else of the state entry; never by a
    per-org id, so an object made by hand, or whose id changed, is found."""
    current: dict[str, dict] = {}
    for key in {**destination_state, **source}:
        ref = source.get(key) or destination_state.get(key)
        found = live.get(natural(ref)) if isinstance(ref, Mapping) else None
        if found is not None:
            current[key] = found
    return current


class ServiceCalls:
    """The calls of one service integration's API on one org's client; a 404 means the object is absent (deleted,
    or never made), a 409 that a create met an existing name (subclasses say more where the API does)."""

    def __init__(self, client: Client):
        self.client = client

    @staticmethod
    def is_absent(err: HTTPError) -> bool:
        return err.status == 404

    @staticmethod
    def is_duplicate(err: HTTPError) -> bool:
        return err.status == 409


def not_an_answer(client: Client, path: str, body: Any, expected: str) -> str:
    """A JSON answer of the wrong shape for a documented listing (``expected``, e.g. 'a list'): a server answering
    anything to every path (a proxy's page, a mock) is not a Datadog API."""
    org = getattr(client, "org", "destination")
    url = getattr(client, "base_url", "") or "the API URL"
    names: dict[type, str] = {dict: "object", list: "list", str: "string"}
    got = "a JSON " + names.get(type(body), type(body).__name__)
    if isinstance(body, dict):
        got += f" with keys {sorted(map(str, body))[:5]}"
    return (
        f"GET {path} ({org}) answered {got}, not {expected}: {url} does not look like a Datadog API answer; "
        f"check --{org}-api-url"
    )

"""The v2 sync's creates made by a bare aiohttp client: the reference the benchmark measures `sync` against.

    python benchmarks/bare_sync.py SECRETS.json

Reads the source org's accounts from DD_SOURCE_API_URL / _API_KEY / _APP_KEY with the one list request of
`/api/v2/integration/aws/accounts`, then creates each of them in the org of DD_DESTINATION_API_URL / _API_KEY /
_APP_KEY with one `POST /api/v2/integration/aws/accounts`, one at a time (writes to an org's AWS integration are
serialized, as the CLI does by default), over one aiohttp session. A payload is the listed attributes without the
per-org values (timestamps, external ID), with the key accounts' secrets from SECRETS.json (the CLI's
`--integrations-secrets-file`). Every answer is parsed, nothing else is done: no retries, logging, state,
normalisation, plan or hand-off file. Its wall time over writes x L is what a Python process on aiohttp reaches
on this machine against this emulator before any work of the tool's own.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os

import aiohttp

ACCOUNTS = "/api/v2/integration/aws/accounts"


def _headers(prefix: str) -> dict[str, str]:
    return {
        "DD-API-KEY": os.environ[f"DD_{prefix}_API_KEY"],
        "DD-APPLICATION-KEY": os.environ[f"DD_{prefix}_APP_KEY"],
        "Accept": "application/json",
    }


def payload(attributes: dict, secrets: dict) -> dict:
    attrs = {k: v for k, v in attributes.items() if k not in ("created_at", "modified_at")}
    auth = {k: v for k, v in attrs["auth_config"].items() if k != "external_id"}
    if "access_key_id" in auth:
        entry = secrets.get(auth["access_key_id"])
        auth["secret_access_key"] = entry["secret_access_key"] if isinstance(entry, dict) else entry
    attrs["auth_config"] = auth
    return {"data": {"type": "account", "attributes": attrs}}


async def bare_sync(secrets: dict) -> int:
    source = os.environ["DD_SOURCE_API_URL"].rstrip("/")
    destination = os.environ["DD_DESTINATION_API_URL"].rstrip("/")
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        async with session.get(source + ACCOUNTS, headers=_headers("SOURCE")) as resp:
            resp.raise_for_status()
            listed = (await resp.json())["data"]
        headers = _headers("DESTINATION")
        for item in listed:
            async with session.post(
                destination + ACCOUNTS, json=payload(item["attributes"], secrets), headers=headers
            ) as resp:
                resp.raise_for_status()
                await resp.json()
    return len(listed)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("secrets")
    args = p.parse_args()
    with open(args.secrets) as f:
        secrets = json.load(f).get("aws", {})
    created = asyncio.run(bare_sync(secrets))
    print(f"Applied: {created} created (bare aiohttp reference, AWS API v2)")


if __name__ == "__main__":
    main()

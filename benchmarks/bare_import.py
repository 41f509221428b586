"""The import's requests made by a bare aiohttp client: the reference the benchmark measures `import` against.

    python benchmarks/bare_import.py OUT.json [--max-workers 100] [--api v1|v2]

Reads the source org from DD_SOURCE_API_URL / _API_KEY / _APP_KEY, as the CLI does, and makes exactly the requests
`datadog-sync import --resources=integrations` makes: on v1 (`--api v1`) the account list and the logs list, then
one `/filtering` GET per account, --max-workers at a time (a worker pool over one aiohttp session); on v2 (the
default, as the CLI's) the one list of `/api/v2/integration/aws/accounts`. It parses every body and writes
them to OUT.json, and does nothing else: no retries, logging, state, normalisation or secrets. Its wall time
over the floor is what a Python process on aiohttp reaches on this machine before any work of the tool's own.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os

import aiohttp

AWS = "/api/v1/integration/aws"
V2_ACCOUNTS = "/api/v2/integration/aws/accounts"


async def bare_import(url: str, headers: dict[str, str], workers: int, api: str = "v1") -> dict:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:

        async def get(path: str, **params: str) -> object:
            async with session.get(url + path, params=params, headers=headers) as resp:
                resp.raise_for_status()
                return await resp.json()

        if api == "v2":
            listed = await get(V2_ACCOUNTS)
            return {"accounts": listed, "count": len(listed["data"])}  # type: ignore[index]

        accounts, logs = await asyncio.gather(get(AWS), get(AWS + "/logs"))
        ids = [a.get("access_key_id") or a["account_id"] for a in accounts["accounts"]]
        filters: dict[str, object] = {}
        pending = iter(ids)

        async def worker() -> None:
            for account in pending:
                filters[account] = await get(AWS + "/filtering", account_id=account)

        await asyncio.gather(*(worker() for _ in range(min(workers, len(ids)))))
    return {"accounts": accounts, "logs": logs, "filters": filters, "count": len(ids)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out")
    p.add_argument("--max-workers", type=int, default=100)
    p.add_argument("--api", choices=("v1", "v2"), default="v2")
    args = p.parse_args()
    headers = {
        "DD-API-KEY": os.environ["DD_SOURCE_API_KEY"],
        "DD-APPLICATION-KEY": os.environ["DD_SOURCE_APP_KEY"],
        "Accept": "application/json",
    }
    url = os.environ["DD_SOURCE_API_URL"].rstrip("/")
    result = asyncio.run(bare_import(url, headers, args.max_workers, args.api))
    with open(args.out, "w") as f:
        json.dump(result, f)
    print(f"Imported: {result['count']} accounts (bare aiohttp reference, AWS API {args.api})")


if __name__ == "__main__":
    main()

"""`python -m datadog_sync.emulator --port 0 --org NAME:API_KEY:APP_KEY ...`: serve until SIGINT/SIGTERM.

The first line on stdout is the base URL (e.g. `http://127.0.0.1:8125`), so scripts can read it.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import signal
import ssl
import sys
from collections.abc import Sequence

from datadog_sync.emulator.core import OrgSpec
from datadog_sync.emulator.server import Emulator


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m datadog_sync.emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--org", action="append", default=[], metavar="NAME:API_KEY:APP_KEY")
    parser.add_argument(
        "--read-only-org",
        action="append",
        default=[],
        metavar="NAME:API_KEY:APP_KEY",
        help="an org whose user lacks the AWS, GCP and Azure write permissions (*_configuration_edit, *_manage)",
    )
    parser.add_argument("--state", action="append", default=[], metavar="NAME=FILE", help="seed an org from JSON")
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument(
        "--write-latency-ms", type=float, default=None, help="AWS write latency (default: --latency-ms)"
    )
    parser.add_argument("--rate-limit", type=int, default=None, help="requests per --rate-period per org")
    parser.add_argument("--rate-period", type=int, default=10, help="seconds")
    parser.add_argument("--fault-rate", type=float, default=0.0, help="share of random 500/502/503 (not applied)")
    parser.add_argument("--lost-response-rate", type=float, default=0.0, help="share of writes applied but 504ed")
    parser.add_argument("--seed", type=int, default=None, help="RNG seed for reproducible runs")
    parser.add_argument("--tls-cert", metavar="PEM", help="serve HTTPS with this certificate (chain) file")
    parser.add_argument("--tls-key", metavar="PEM", help="the certificate's private key (default: in --tls-cert)")
    args = parser.parse_args(argv)
    if not args.org and not args.read_only_org:
        parser.error("give at least one --org or --read-only-org")
    if args.tls_key and not args.tls_cert:
        parser.error("--tls-key needs --tls-cert")
    return args


def _tls_context(cert: str | None, key: str | None) -> ssl.SSLContext | None:
    if not cert:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


async def serve(args: argparse.Namespace) -> None:
    orgs = [OrgSpec.parse(o) for o in args.org] + [OrgSpec.parse(o, read_only=True) for o in args.read_only_org]
    emulator = Emulator(
        orgs,
        host=args.host,
        port=args.port,
        latency_ms=args.latency_ms,
        write_latency_ms=args.write_latency_ms,
        rate_limit=args.rate_limit,
        rate_period=args.rate_period,
        fault_rate=args.fault_rate,
        lost_response_rate=args.lost_response_rate,
        seed=args.seed,
        ssl_context=_tls_context(args.tls_cert, args.tls_key),
    )
    for item in args.state:
        name, _, path = item.partition("=")
        with open(path, encoding="utf-8") as fh:
            emulator.seed(name, json.load(fh))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with emulator:
        print(emulator.url, flush=True)
        await stop.wait()


#: The served process's garbage-collector thresholds (CPython's default: 700, 10, 10). A full collection walks every
#: account of every org and the request log (66 ms at two orgs of 1,000 AWS accounts) and stalls whichever request
#: it lands in, beyond its latency; at these thresholds it comes a hundred times less often. Cycles die young and
#: are still collected by the young collections.
SERVER_GC_THRESHOLDS = (10_000, 10, 100)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    gc.set_threshold(*SERVER_GC_THRESHOLDS)
    try:
        asyncio.run(serve(args))
    except (ValueError, KeyError, OSError) as exc:
        print(f"emulator: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The no-op re-sync of N AWS accounts with state in S3 (moto's server) against state in local directories.

    python benchmarks/storage_bench.py                     # 1,000 accounts, 3 runs each, both layouts
    python benchmarks/storage_bench.py --accounts 200 --repeat 1 --json-out benchmarks/results/storage.json

The emulator (its own process, no added latency) holds the source org; one `migrate` per configuration fills
the destination and its state, then `sync` runs again ``--repeat`` times: it must write nothing, so what it costs
is loading state, planning and the final save. Per configuration: median wall time and CPU of the CLI process
(benchmarks/harness.py), the Datadog writes (must be 0) and, for S3, the requests moto received. moto runs in
this process (a thread), so its CPU is not the CLI's. See docs/performance.md, "State in S3".
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: python benchmarks/storage_bench.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import harness  # noqa: E402
from datadog_sync.emulator import make_aws_org  # noqa: E402

CONFIGS = ("local", "local-per-file", "s3", "s3-per-file")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class S3Counter:
    """moto's standalone server in a thread, counting the requests it serves."""

    def __init__(self) -> None:
        from moto.server import MotoRequestHandler, ThreadedMotoServer

        self.count = 0
        counter = self

        class Counting(MotoRequestHandler):  # type: ignore[misc, valid-type]
            def log_request(self, *args: Any, **kwargs: Any) -> None:
                counter.count += 1

        self.port = free_port()
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.server.start()
        self.server._server.RequestHandlerClass = Counting  # noqa: SLF001 - count every request
        end = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > end:
                    raise RuntimeError("moto server did not start") from None
                time.sleep(0.05)
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--configs", default=",".join(CONFIGS))
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args()
    import boto3

    results: dict[str, Any] = {
        "benchmark": "no-op re-sync, state in S3 (moto) vs local",
        "accounts": args.accounts,
        "repeat": args.repeat,
        "commit": harness.git_commit(),
        "machine": harness.machine(),
        "configs": {},
    }
    s3 = S3Counter()
    client = boto3.client(
        "s3", endpoint_url=s3.url, region_name="us-east-1", aws_access_key_id="bench", aws_secret_access_key="bench"
    )
    try:
        with (
            tempfile.TemporaryDirectory(prefix="storage-bench-") as tmp,
            harness.EmulatorProcess(log_path=Path(tmp) / "emulator.log") as emu,
        ):
            state = make_aws_org(args.accounts, seed=args.seed)
            secrets = Path(tmp) / "secrets.json"
            secrets.write_text(json.dumps(harness.secrets_for(state)))
            for config in args.configs.split(","):
                emu.wipe(harness.DESTINATION.name)
                emu.seed(harness.SOURCE.name, state)
                workdir = Path(tmp) / config
                env = {
                    **harness.cli_env(emu.url, pycache=Path(tmp) / "pycache"),
                    "AWS_ENDPOINT_URL": s3.url,
                    "AWS_ACCESS_KEY_ID": "bench",
                    "AWS_SECRET_ACCESS_KEY": "bench",
                    "AWS_DEFAULT_REGION": "us-east-1",
                }
                extra = [f"--integrations-secrets-file={secrets}"]
                if config.startswith("s3"):
                    bucket = f"bench-{config}"
                    client.create_bucket(Bucket=bucket)
                    extra += ["--storage-type=s3", f"--aws-bucket-name={bucket}"]
                if config.endswith("per-file"):
                    extra.append("--resource-per-file")
                first = harness.run_cli(["migrate", *harness.CLI_FLAGS, *extra], env=env, cwd=workdir, name="migrate")
                if first.returncode != 0:
                    raise SystemExit(f"{config}: migrate failed: {first.stderr()[-2000:]}")
                runs, requests = [], []
                for n in range(args.repeat):
                    emu.clear_requests()
                    before = s3.count
                    run = harness.run_cli(["sync", *harness.CLI_FLAGS, *extra], env=env, cwd=workdir, name=f"sync{n}")
                    if run.returncode != 0:
                        raise SystemExit(f"{config}: sync failed: {run.stderr()[-2000:]}")
                    writes = [r for r in emu.requests(harness.DESTINATION.name) if r["method"] != "GET"]
                    runs.append(run)
                    requests.append({"datadog_writes": len(writes), "s3_requests": s3.count - before})
                row = {
                    "migrate_wall_s": first.wall_s,
                    "wall_s": statistics.median(r.wall_s for r in runs),
                    "cpu_s": statistics.median(r.cpu_s for r in runs),
                    "maxrss_mb": max(r.maxrss_mb for r in runs),
                    "datadog_writes": max(q["datadog_writes"] for q in requests),
                    "s3_requests": statistics.median(q["s3_requests"] for q in requests),
                    "summary": harness.summary_line(runs[-1].stdout(), "Applied:"),
                }
                results["configs"][config] = row
                print(
                    f"{config:15} migrate {first.wall_s:6.2f} s  re-sync wall {row['wall_s']:6.2f} s  cpu {row['cpu_s']:6.2f} s  rss {row['maxrss_mb']:5.0f} MB"
                    f"  datadog writes {row['datadog_writes']}  s3 requests {row['s3_requests']:.0f}",
                    flush=True,
                )
    finally:
        s3.stop()
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""Real object-store servers for the storage tests, started by the tests: moto's S3 server and
gcp-storage-emulator in this process (threads), Azurite (npm) as a child process.

Each ``start_*`` returns a :class:`Server` or raises :class:`Unavailable` saying why it could not start (the
fixtures turn that into a skip whose reason ``pytest -rs`` shows). Readiness is polled, bounded, never slept on.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
#: Where .ci/run installs Azurite (npm install --prefix .ci/node azurite); AZURITE_BLOB overrides it.
AZURITE_LOCAL = REPO / ".ci" / "node" / "node_modules" / ".bin" / "azurite-blob"
#: Azurite's well-known development account (https://learn.microsoft.com/azure/storage/common/storage-use-azurite).
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


class Unavailable(Exception):
    """A server that cannot start here; the message says why."""


@dataclass
class Server:
    kind: str
    url: str
    stop: Callable[[], None]
    extra: dict[str, Any] = field(default_factory=dict)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, what: str, alive: Callable[[], bool] = lambda: True, limit_s: float = 60.0) -> None:
    """Poll until ``port`` accepts a connection; bounded, so a server that never comes up is an error."""
    end = time.monotonic() + limit_s
    while time.monotonic() < end:
        if not alive():
            raise Unavailable(f"{what} exited before listening")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise Unavailable(f"{what} did not listen on port {port} within {limit_s:.0f} s")


def start_moto() -> Server:
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as exc:
        raise Unavailable(f"moto[server] is not installed ({exc})") from None
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    wait_for_port(port, "moto server")
    return Server("s3", f"http://127.0.0.1:{port}", server.stop)


def start_gcs() -> Server:
    try:
        from gcp_storage_emulator.server import create_server
    except ImportError as exc:
        raise Unavailable(f"gcp-storage-emulator is not installed ({exc})") from None
    port = free_port()
    server = create_server("127.0.0.1", port, in_memory=True)
    server.start()
    wait_for_port(port, "gcp-storage-emulator")
    return Server("gcs", f"http://127.0.0.1:{port}", server.stop)


def azurite_command() -> str | None:
    for candidate in (os.environ.get("AZURITE_BLOB"), str(AZURITE_LOCAL), shutil.which("azurite-blob")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def start_azurite(workdir: Path) -> Server:
    command = azurite_command()
    if command is None:
        raise Unavailable("azurite-blob not found: `npm install --prefix .ci/node azurite` (what .ci/run does)")
    if shutil.which("node") is None:
        raise Unavailable("node is not installed: Azurite needs Node.js")
    port = free_port()
    log = open(workdir / "azurite.log", "wb")  # noqa: SIM115 - closed by stop()
    proc = subprocess.Popen(
        [command, "--blobHost", "127.0.0.1", "--blobPort", str(port), "--inMemoryPersistence", "--skipApiVersionCheck"],
        cwd=workdir,
        stdout=log,
        stderr=subprocess.STDOUT,
    )

    def stop() -> None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()

    try:
        wait_for_port(port, "Azurite", alive=lambda: proc.poll() is None)
    except Unavailable:
        stop()
        raise
    url = f"http://127.0.0.1:{port}/{AZURITE_ACCOUNT}"
    conn = f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};BlobEndpoint={url};"
    return Server("azure", url, stop, {"connection_string": conn})

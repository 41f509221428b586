"""--http-client-trust-env (proxies from the environment) and --verify-ssl-certificates, end to end.

The emulator stands in for a forward proxy (it answers absolute-form requests such as
``GET http://127.0.0.1:1/api/...``) and, with a throw-away self-signed certificate, for an HTTPS API.
"""

from __future__ import annotations

import json
import os
import shutil
import ssl
import subprocess
import sys

import pytest

from datadog_sync.emulator import make_aws_org
from datadog_sync.emulator.testing import cli_env, emulated_orgs
from tests import support

#: Nothing listens on port 1: without the proxy, a request there is refused at once.
UNREACHABLE = "http://127.0.0.1:1"


#: Skip the key checks made before an import: these tests are about the connection options, not the keys.
NO_KEY_CHECKS = {"DD_VALIDATE": "false", "DD_VERIFY_DDR_STATUS": "false"}


def run_import(env: dict[str, str], *args: str):
    """``import --resources=integrations <args>`` through tests/support.py, key checks and progress bar off."""
    return support.invoke(["import", "--resources=integrations", *args], {**support.QUIET, **NO_KEY_CHECKS, **env})


def imported(workdir):
    return json.loads((workdir / "resources/source/integrations.json").read_text())


def proxy_env(emu):
    env = {**cli_env(emu), "DD_SOURCE_API_URL": UNREACHABLE, "DD_HTTP_CLIENT_RETRY_TIMEOUT": "0"}
    for name in ("HTTP_PROXY", "http_proxy"):
        env[name] = emu.url
    for name in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        env[name] = ""
    return env


def test_trust_env_sends_requests_through_the_proxy_of_the_environment(workdir):
    with emulated_orgs(source_state=make_aws_org(3, seed=1, key_account_share=0)) as emu:
        result = run_import(proxy_env(emu), "--http-client-trust-env=true")
        assert result.exit_code == 0, result.stdout + result.stderr
        assert len(imported(workdir)) == 3
        paths = {r["path"] for r in emu.requests("source")}
        assert "/api/v1/integration/aws/filtering" in paths, "the reads reached the API through the proxy"


def test_without_trust_env_the_proxy_variables_are_ignored(workdir):
    with emulated_orgs(source_state=make_aws_org(3, seed=1, key_account_share=0)) as emu:
        result = run_import(proxy_env(emu))
        assert result.exit_code == 1
        assert "cannot connect to 127.0.0.1:1" in result.stderr
        assert emu.requests("source") == []


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory):
    if not shutil.which("openssl"):
        pytest.skip("needs the openssl command to make a throw-away certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1"]
        + ["-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return cert, context


def test_an_unverifiable_certificate_fails_at_once_with_a_hint(workdir, self_signed):
    _, context = self_signed
    with emulated_orgs(source_state=make_aws_org(2, seed=1), ssl_context=context) as emu:
        assert emu.url.startswith("https://")
        result = run_import(cli_env(emu))
        assert result.exit_code == 1
        assert "TLS certificate of 127.0.0.1" in result.stderr and "failed verification" in result.stderr
        assert "SSL_CERT_FILE" in result.stderr
        assert "retrying" not in result.stderr, "a certificate error is not retried"
        assert emu.requests("source") == []


def test_verification_off_reaches_the_server_with_a_warning(workdir, self_signed):
    _, context = self_signed
    with emulated_orgs(source_state=make_aws_org(2, seed=1), ssl_context=context) as emu:
        result = run_import(cli_env(emu), "--verify-ssl-certificates=false")
        assert result.exit_code == 0, result.stdout + result.stderr
        assert "TLS certificate verification is off" in result.stderr
        assert len(imported(workdir)) == 2


def test_ssl_cert_file_makes_a_private_ca_trusted(workdir, self_signed):
    cert, context = self_signed
    with emulated_orgs(source_state=make_aws_org(2, seed=1), ssl_context=context) as emu:
        env = {**os.environ, **cli_env(emu), **support.QUIET, **NO_KEY_CHECKS, "SSL_CERT_FILE": str(cert)}
        result = subprocess.run(
            [sys.executable, "-m", "datadog_sync", "import", "--resources=integrations"],
            cwd=workdir,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert len(imported(workdir)) == 2

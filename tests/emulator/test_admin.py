"""Admin API, request log, thread runner, command line entry point and seed generator."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import aiohttp

from datadog_sync.emulator import Emulator, OrgSpec, make_aws_org, make_secrets_file, run_emulator_in_thread
from datadog_sync.emulator.testing import DESTINATION, SOURCE, cli_env, emulated_orgs
from tests.emulator.conftest import KEY_ACCOUNT, ROLE_ACCOUNT, Api

BASE = "/api/v1/integration/aws"
ADMIN = "/_emulator"
V2_KEYS = ("config_id", "aws_partition", "created_at", "modified_at", "v2")


def without_v2(state: dict[str, Any]) -> dict[str, Any]:
    accounts = [{k: v for k, v in a.items() if k not in V2_KEYS} for a in state["aws"]["accounts"]]
    return {**state, "aws": {**state["aws"], "accounts": accounts}}


async def test_state_seed_dump_wipe_round_trip(api: Api) -> None:
    admin = api.as_org(None)
    state = make_aws_org(6, seed=3, key_account_share=0.5)
    put = await admin.put(f"{ADMIN}/orgs/main/state", state)
    # A dump is the seed it came from plus what the v2 API adds to each account (ids, partition, timestamps).
    assert put.status == 200 and without_v2(put.body) == state
    assert {a["aws_partition"] for a in put.body["aws"]["accounts"]} == {"aws"}
    assert (await admin.get(f"{ADMIN}/orgs/main/state")).body == put.body
    assert (await admin.put(f"{ADMIN}/orgs/main/state", put.body)).body == put.body  # and seeds back unchanged
    listed = (await api.get(BASE)).body["accounts"]
    assert len(listed) == 6 and sum("access_key_id" in a for a in listed) == 3
    assert (await admin.delete(f"{ADMIN}/orgs/main/state")).status == 200
    assert (await api.get(BASE)).body == {"accounts": []}


async def test_admin_errors(api: Api) -> None:
    admin = api.as_org(None)
    assert (await admin.get(f"{ADMIN}/orgs/nope/state")).status == 404
    bad = {"aws": {"accounts": [{"account_id": "1"}]}}  # role account without role_name
    assert (await admin.put(f"{ADMIN}/orgs/main/state", bad)).status == 400
    dup = {"aws": {"accounts": [ROLE_ACCOUNT, ROLE_ACCOUNT]}}
    assert (await admin.put(f"{ADMIN}/orgs/main/state", dup)).status == 400
    typo = {"aws": {"accounts": [{**ROLE_ACCOUNT, "host_tag": ["a:b"]}]}}
    assert "host_tag" in (await admin.put(f"{ADMIN}/orgs/main/state", typo)).body["errors"][0]
    assert (await admin.put(f"{ADMIN}/orgs/main/state", {"aws": {}, "extra": 1})).status == 400
    assert (await admin.call("PATCH", f"{ADMIN}/knobs", {"fault_rate": 7})).status == 400
    assert (await admin.call("PATCH", f"{ADMIN}/orgs/main", {"ddr_status": "x"})).status == 400


async def test_knobs_org_settings_and_counters_over_http(api: Api) -> None:
    admin = api.as_org(None)
    knobs = (await admin.call("PATCH", f"{ADMIN}/knobs", {"latency_ms": 1, "rate_limit": 100})).body
    assert knobs["latency_ms"] == 1 and knobs["rate_limit"] == 100
    assert (await admin.get(f"{ADMIN}/knobs")).body == knobs
    org = (await admin.call("PATCH", f"{ADMIN}/orgs/main", {"ddr_status": 4, "app_key_scopes": ["x"]})).body
    assert org["ddr_status"] == 4 and org["app_key_scopes"] == ["x"]
    assert (await api.get("/api/v2/hamr")).body["data"]["attributes"]["HamrStatus"] == 4
    assert [o["name"] for o in (await admin.get(f"{ADMIN}/orgs")).body["orgs"]] == ["main", "other", "readonly"]
    created = await admin.post(f"{ADMIN}/orgs", {"name": "late", "api_key": "k", "app_key": "a", "read_only": True})
    assert created.status == 201 and "aws_configuration_edit" not in created.body["permissions"]
    counters = (await admin.get(f"{ADMIN}/counters")).body
    assert counters["requests"] == 1 and counters["by_org"]["main"]["requests"] == 1
    await admin.delete(f"{ADMIN}/counters")
    assert (await admin.get(f"{ADMIN}/counters")).body["requests"] == 0


async def test_request_log_redacts_secrets_and_filters_by_org(api: Api, emu: Emulator) -> None:
    await api.post(BASE, KEY_ACCOUNT)
    await api.put(BASE, {"secret_access_key": "s2"}, params={"access_key_id": KEY_ACCOUNT["access_key_id"]})
    await api.get(BASE, headers={})
    admin = api.as_org(None)
    entries = (await admin.get(f"{ADMIN}/requests", params={"org": "main"})).body["requests"]
    assert [e["method"] for e in entries] == ["POST", "PUT"]
    post, put = entries
    assert post["body"]["secret_access_key"] == "***" and post["body"]["access_key_id"] == KEY_ACCOUNT["access_key_id"]
    assert put["query"] == {"access_key_id": KEY_ACCOUNT["access_key_id"]} and put["body"] == {
        "secret_access_key": "***"
    }
    assert set(post) == {"method", "path", "query", "body", "status", "start", "duration_ms", "org", "injected"}
    assert post["status"] == 200 and post["path"] == BASE
    everything = (await admin.get(f"{ADMIN}/requests")).body["requests"]
    assert len(everything) == 3 and everything[-1]["org"] is None and everything[-1]["status"] == 403
    assert "s2" not in json.dumps(everything)
    await admin.delete(f"{ADMIN}/requests", params={"org": "main"})
    assert len((await admin.get(f"{ADMIN}/requests")).body["requests"]) == 1
    await admin.delete(f"{ADMIN}/requests")
    assert emu.requests() == []


def _get(url: str, headers: dict[str, str]) -> Any:
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=120) as resp:
        return json.loads(resp.read())


def test_thread_runner_serves_sync_callers() -> None:
    state = make_aws_org(3, seed=9)
    with emulated_orgs(source_state=state, latency_ms=1) as emu:
        env = cli_env(emu)
        headers = {"DD-API-KEY": env["DD_SOURCE_API_KEY"], "DD-APPLICATION-KEY": env["DD_SOURCE_APP_KEY"]}
        assert len(_get(env["DD_SOURCE_API_URL"] + BASE, headers)["accounts"]) == 3
        assert without_v2(emu.dump(SOURCE.name)) == state
        assert emu.dump(DESTINATION.name) == {"aws": {"installed": True, "accounts": []}}
        assert [r["path"] for r in emu.requests(SOURCE.name)] == [BASE]
        assert emu.counters()["requests"] == 1
        assert emu.set_knobs(latency_ms=0)["latency_ms"] == 0
        emu.set_ddr_status(SOURCE.name, 4)
        emu.set_permissions(DESTINATION.name, ["aws_configuration_read"])
        assert emu.org_settings(DESTINATION.name)["permissions"] == ["aws_configuration_read"]
        emu.clear_requests()
        assert emu.requests() == []


def test_thread_runner_runs_alongside_asyncio_run() -> None:
    spec = OrgSpec("solo", "k", "a")

    async def client(url: str) -> int:
        async with aiohttp.ClientSession() as session:
            async with session.get(url + "/api/v1/validate", headers={"DD-API-KEY": "k"}) as resp:
                return resp.status

    with run_emulator_in_thread([spec]) as emu:
        assert asyncio.run(client(emu.url)) == 200  # the code under test owns its own loop


def test_command_line_prints_url_and_stops_on_sigterm(tmp_path: Path) -> None:
    state_file = tmp_path / "state.json"
    state_file.write_text(json.dumps(make_aws_org(2)))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "datadog_sync.emulator",
            "--port",
            "0",
            "--org",
            "src:ka:pa",
            "--read-only-org",
            "ro:kb:pb",
            "--state",
            f"src={state_file}",
            "--latency-ms",
            "1",
            "--seed",
            "7",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        url = proc.stdout.readline().strip()  # type: ignore[union-attr]
        assert url.startswith("http://127.0.0.1:")
        assert len(_get(url + BASE, {"DD-API-KEY": "ka", "DD-APPLICATION-KEY": "pa"})["accounts"]) == 2
        assert _get(url + "/_emulator/knobs", {})["seed"] == 7
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=120) == 0  # a limit on a hang, not a timing


def test_seed_generator_is_realistic_and_reproducible() -> None:
    state = make_aws_org(40, seed=5, key_account_share=0.25)
    assert state == make_aws_org(40, seed=5, key_account_share=0.25)
    assert state != make_aws_org(40, seed=6, key_account_share=0.25)
    accounts = state["aws"]["accounts"]
    keys = [a for a in accounts if "access_key_id" in a]
    roles = [a for a in accounts if "role_name" in a]
    assert len(keys) == 10 and len(roles) == 30
    assert all(a["access_key_id"].startswith("AKIA") and len(a["access_key_id"]) == 20 for a in keys)
    assert all(a["access_key_id"][4:].isupper() or a["access_key_id"][4:].isdigit() for a in keys)
    assert all(len(a["external_id"]) == 32 for a in roles)
    assert len({a["account_id"] for a in accounts}) == 40
    assert all(0 <= len(a["tag_filters"]) <= 3 and 0 <= len(a["logs"]["lambdas"]) <= 2 for a in accounts)
    assert any(a["logs"]["services"] for a in accounts) and any(a["errors"] for a in accounts)
    assert make_secrets_file(state) == {"aws": {a["access_key_id"]: a["secret_access_key"] for a in keys}}
    with_ids = make_secrets_file(state, with_account_ids=True)["aws"]
    assert with_ids[keys[0]["access_key_id"]] == {
        "secret_access_key": keys[0]["secret_access_key"],
        "account_id": keys[0]["account_id"],
    }
    assert make_aws_org(0) == {"aws": {"installed": True, "accounts": []}}


def test_demo_runs_every_command_and_reports_exit_codes(capsys: Any, tmp_path: Any) -> None:
    from datadog_sync.emulator import demo

    assert demo.main(["--accounts", "3", "--timeout", "60", "--workdir", str(tmp_path / "demo")]) == 0
    out = capsys.readouterr().out
    for command in demo.COMMANDS:
        assert f"-m datadog_sync {command} --resources=integrations --integrations-secrets-file=" in out
    assert out.count("[exit code") + out.count("[timed out") == 4
    assert "exit codes: import=" in out and "== emulator summary" in out


async def test_an_emulator_bug_answers_500_and_keeps_serving(api: Api, emu: Emulator, monkeypatch: Any) -> None:
    from datadog_sync.emulator.state import AwsAccount

    emu.seed("main", {"aws": {"accounts": [ROLE_ACCOUNT]}})

    def broken(self: AwsAccount) -> dict:
        raise RuntimeError("boom")

    monkeypatch.setattr(AwsAccount, "listed", broken)
    reply = await api.get(BASE)
    assert (reply.status, reply.body) == (500, {"errors": ["Internal Server Error"]})
    assert emu.requests("main")[-1]["injected"] == "emulator_error"
    assert (await api.get("/api/v1/validate")).status == 200


async def test_request_log_masks_every_secret_the_service_integrations_take(api: Api) -> None:
    v2 = "/api/v2/integrations"
    hooks = "/api/v1/integration/webhooks/configuration"
    bodies = {
        f"{v2}/cloudflare/accounts": {
            "data": {"type": "cloudflare-accounts", "attributes": {"name": "cf", "api_key": "k1" * 20}}
        },
        f"{v2}/fastly/accounts": {"data": {"type": "fastly-accounts", "attributes": {"name": "fa", "api_key": "k2"}}},
        f"{v2}/okta/accounts": {"data": {"type": "okta-accounts", "attributes": {"name": "ok", "api_key": "k3"}}},
        "/api/v2/integration/ms-teams/configuration/workflows-webhook-handles": {
            "data": {"type": "workflows-webhook-handle", "attributes": {"name": "wf", "url": "https://k4.example"}}
        },
        f"{v2}/confluent-cloud/accounts": {
            "data": {"type": "confluent-cloud-accounts", "attributes": {"api_key": "NATURALKEY", "api_secret": "k5"}}
        },
        f"{hooks}/custom-variables": {"name": "S", "value": "k6", "is_secret": True},
        f"{hooks}/webhooks": {"name": "h", "url": "https://hooks.example/plain"},
    }
    for path, body in bodies.items():
        await api.post(path, body)
    await api.post(f"{hooks}/custom-variables", {"name": "P", "value": "plain", "is_secret": False})
    entries = (await api.as_org(None).get(f"{ADMIN}/requests")).body["requests"]
    assert len(entries) == len(bodies) + 1
    text = json.dumps(entries)
    logged = {e["path"]: e["body"] for e in entries}
    assert not any(f'"{secret}' in text for secret in ("k1", "k2", "k3", "https://k4", "k5", "k6"))
    assert logged[f"{v2}/confluent-cloud/accounts"]["data"]["attributes"] == {
        "api_key": "NATURALKEY",
        "api_secret": "***",
    }
    assert logged[f"{hooks}/webhooks"]["url"] == "https://hooks.example/plain"  # a webhook's url is no secret
    assert logged[f"{hooks}/custom-variables"]["value"] == "plain"  # the last one: a variable that is not secret

"""What adoption writes, for every subtype with a write-only secret (docs/integrations.md, "What adoption writes"):
the CLI against the emulator, with a destination that already has every source object under its natural key but
with other secrets."""

from __future__ import annotations

import copy
import json

from datadog_sync.emulator.service_seed import make_service_org, make_service_secrets
from datadog_sync.emulator.testing import emulated_orgs
from tests.support import invoke_emulated as invoke

SOURCE = make_service_org(
    n_webhooks=1,
    n_custom_variables=2,
    n_pagerduty=2,
    n_opsgenie=1,
    n_slack_channels=0,
    n_teams_handles=2,
    n_fastly=1,
    n_cloudflare=1,
    n_confluent=1,
    n_okta=1,
    seed=1,
)
#: Where each subtype's secret lives in the emulator's state: section, natural key field, secret field.
SECRETS = {
    "pagerduty": ("service_name", "service_key"),
    "opsgenie": ("name", "opsgenie_api_key"),
    "workflows_handles": ("name", "url"),
    "fastly": ("name", "api_key"),
    "cloudflare": ("name", "api_key"),
    "confluent_cloud": ("api_key", "api_secret"),
    "okta": ("name", "client_secret"),
}


def items(state: dict, section: str) -> list[dict]:
    found = state["services"][section]
    return found["services"] if section == "pagerduty" else found


def with_other_secrets(state: dict) -> dict:
    """The same objects, each secret replaced (made by hand in the destination, say)."""
    out = copy.deepcopy(state)
    out.pop("monitors", None)
    for section, (_, field) in SECRETS.items():
        for item in items(out, section):
            item[field] = f"https://old.example/{item[field][:4]}" if field == "url" else f"old-{item[field][:4]}"
    for var in out["services"]["custom_variables"]:
        var["value"] = "old-value"
    return out


def secrets_of(state: dict) -> dict[tuple[str, str], str]:
    found = {(s, i[n]): i[f] for s, (n, f) in SECRETS.items() for i in items(state, s)}
    found.update({("custom_variables", v["name"]): v["value"] for v in state["services"]["custom_variables"]})
    return found


def test_an_adopted_object_gets_the_files_secret_once_and_never_again(workdir):
    secrets = make_service_secrets(SOURCE)
    unlisted = secrets["pagerduty"].popitem()[0]  # adopted as it is: its key is kept
    path = workdir / "secrets.json"
    path.write_text(json.dumps(secrets))
    path.chmod(0o600)
    env = {"DD_INTEGRATIONS_SECRETS_FILE": str(path)}
    with emulated_orgs(source_state=SOURCE, destination_state=with_other_secrets(SOURCE)) as emu:
        assert invoke(emu, "import", **env).exit_code == 0
        diffs = invoke(emu, "diffs", **env)
        emu.clear_requests()
        sync = invoke(emu, "sync", **env)
        written = [(r["method"], r["path"]) for r in emu.requests("destination") if r["method"] != "GET"]
        after = secrets_of(emu.dump("destination"))
        emu.clear_requests()
        again = invoke(emu, "sync", **env)
        rewritten = [r for r in emu.requests("destination") if r["method"] != "GET"]
    expected = secrets_of(SOURCE)
    adopted = [key for key in expected if key[1] != unlisted and not key[1].startswith("VAR_0")]  # VAR_0: no secret
    # PagerDuty, Opsgenie, the secret variable, the Workflows handle, Fastly, Cloudflare, Confluent, Okta: 8 updates;
    # the webhook, the tenant-based handle and the PagerDuty service without a key in the file: unchanged.
    assert "Plan: 0 to create, 8 to update, 0 to delete, 3 unchanged." in diffs.stdout, diffs.stdout
    assert diffs.stdout.count("so the secrets file's is written once") == 8
    assert "old-" not in diffs.stdout and not any(value in diffs.stdout for value in expected.values())
    assert sync.exit_code == 0, sync.output
    assert "8 updated" in sync.stdout and len(written) == 8, written
    assert {key: after[key] for key in adopted} == {key: expected[key] for key in adopted}
    assert after[("pagerduty", unlisted)].startswith("old-")  # the file has no key for it: left as it is
    assert again.exit_code == 0 and rewritten == [] and "11 unchanged" in again.stdout


def test_a_secret_is_rotated_by_dropping_its_destination_state_entry(workdir):
    state = make_service_org(n_pagerduty=2, monitors=False, seed=3)
    first, second = (s["service_name"] for s in state["services"]["pagerduty"]["services"])
    secrets = make_service_secrets(state)
    path = workdir / "secrets.json"
    path.write_text(json.dumps(secrets))
    path.chmod(0o600)
    env = {"DD_INTEGRATIONS_SECRETS_FILE": str(path)}
    with emulated_orgs(source_state=state) as emu:
        assert invoke(emu, "migrate", **env).exit_code == 0
        secrets["pagerduty"][first] = "f" * 32
        path.write_text(json.dumps(secrets))
        unchanged = invoke(emu, "diffs", **env)  # a new key in the file alone shows nothing: it cannot be compared
        destination = workdir / "resources/destination/integrations.json"
        entries = json.loads(destination.read_text())
        del entries[f"pagerduty:{first}"]
        destination.write_text(json.dumps(entries))
        diffs = invoke(emu, "diffs", **env)
        emu.clear_requests()
        sync = invoke(emu, "sync", **env)
        written = [
            (r["method"], r["path"].rsplit("/", 1)[-1]) for r in emu.requests("destination") if r["method"] != "GET"
        ]
        keys = {
            s["service_name"]: s["service_key"] for s in emu.dump("destination")["services"]["pagerduty"]["services"]
        }
    assert "Plan: 0 to create, 0 to update, 0 to delete, 2 unchanged." in unchanged.stdout
    assert "Plan: 0 to create, 1 to update, 0 to delete, 1 unchanged." in diffs.stdout
    assert sync.exit_code == 0 and written == [("PUT", first)]
    assert keys == {first: "f" * 32, second: secrets["pagerduty"][second]}

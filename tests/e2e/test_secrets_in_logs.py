"""No secret reaches the output of a verbose run, whatever subtype sends it: a ``migrate -v`` of every subtype at once
logs each request and answer body, and every secret the secrets file gives (AWS secret access keys, GCP private keys,
Azure client secrets, service API keys and secrets, secret webhook variable values, Teams Workflows URLs) and the
org's own keys stay masked, while the flags of secret-looking fields (``secretless_auth_enabled``) stay readable."""

from __future__ import annotations

import json
import re

import pytest

from datadog_sync.emulator import make_aws_org, make_azure_org, make_gcp_org, make_secrets_file
from datadog_sync.emulator.cloud_seed import make_cloud_secrets
from datadog_sync.emulator.service_seed import make_service_org, make_service_secrets
from datadog_sync.emulator.testing import DESTINATION, SOURCE, emulated_orgs
from tests.support import invoke_emulated as invoke


def every_subtype() -> dict:
    state = {
        **make_aws_org(4, seed=3, key_account_share=0.5),
        **make_gcp_org(4, seed=3, key_account_share=0.5),
        **make_azure_org(3, seed=3),
        **make_service_org(
            n_webhooks=2,
            n_pagerduty=2,
            n_opsgenie=2,
            n_teams_handles=2,
            n_fastly=1,
            n_cloudflare=1,
            n_confluent=1,
            n_okta=1,
            n_custom_variables=4,
            seed=3,
        ),
    }
    state["azure"]["accounts"][0]["secretless_auth_enabled"] = True
    return state


def secrets_of(state: dict) -> dict:
    return {**make_secrets_file(state), **make_cloud_secrets(state), **make_service_secrets(state)}


def secret_values(secrets: dict) -> list[str]:
    """Every value of the secrets file: a GCP JSON key gives its key id and each line of its private key."""
    values: list[str] = []
    for section, entries in secrets.items():
        for entry in entries.values():
            if section == "gcp":
                values.append(entry["private_key_id"])
                values += [line for line in entry["private_key"].splitlines() if not line.startswith("-----")]
            elif isinstance(entry, dict):
                values.append(entry["secret_access_key"])
            else:
                values.append(entry)
    return values


@pytest.mark.parametrize("api", [pytest.param("v2", marks=pytest.mark.aws_api("v2")), "v1"])
def test_a_verbose_migrate_of_every_subtype_logs_no_secret_and_shows_boolean_flags(workdir, api):
    state = every_subtype()
    secrets = secrets_of(state)
    assert {"aws", "gcp", "azure", "webhooks", "pagerduty", "opsgenie", "ms_teams", "fastly", "okta"} <= set(secrets)
    path = workdir / "secrets.json"
    path.write_text(json.dumps(secrets))
    path.chmod(0o600)
    tenants = {"services": {"ms_teams_tenants": state["services"]["ms_teams_tenants"]}}  # the Teams tenant connected
    with emulated_orgs(source_state=state, destination_state=tenants) as emu:
        result = invoke(emu, "migrate", "-v", DD_INTEGRATIONS_SECRETS_FILE=str(path))
        dumped = json.dumps(emu.dump("destination"))
    assert result.exit_code == 0, result.stderr[-3000:]
    output = result.stdout + result.stderr
    values = secret_values(secrets)
    assert len(values) >= 20
    for value in (*values, SOURCE.api_key, SOURCE.app_key, DESTINATION.api_key, DESTINATION.app_key):
        assert value not in output
    # The secrets did travel: the destination holds them, the masked request bodies carried them.
    assert all(value in dumped for value in values)
    assert '"client_secret":"***"' in output and '"secret_access_key":"***"' in output
    assert '"private_key":"***"' in output and '"api_secret":"***"' in output
    # A boolean (or null) is never a secret, even under a secret-looking name.
    registrations = [line for line in output.splitlines() if "-> POST /api/v1/integration/azure " in line]
    assert len(registrations) == 3
    flags = sorted(flag for line in registrations for flag in re.findall(r'"secretless_auth_enabled":(\w+)', line))
    assert flags == ["false", "false", "true"]
    assert re.search(r'"is_secret":(true|false)', output)

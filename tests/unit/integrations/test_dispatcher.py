"""The integrations resource dispatches to subtypes; handoff helpers; secrets-file errors surface clearly."""

from __future__ import annotations

import pytest

from datadog_sync.planner import Change
from datadog_sync.resources import registry
from datadog_sync.resources.base import ResourceError
from datadog_sync.resources.integrations import SUBTYPES, IntegrationsResource
from datadog_sync.resources.integrations.aws import handoff
from datadog_sync.resources.integrations.subtype import Subtype
from tests.unit.integrations.conftest import ROLE, org_state


def test_registered_as_integrations():
    assert registry()["integrations"] is IntegrationsResource
    assert set(SUBTYPES) == {"aws"}


def test_unknown_subtype_is_a_clear_error(harness):
    resource = harness().resource
    with pytest.raises(ResourceError, match="unknown integrations subtype 'gcp' \\(known: aws\\)"):
        resource.subtype_of("gcp:project")
    with pytest.raises(ResourceError, match="unknown integrations subtype"):
        resource.preview({"name": "azure"})


def test_malformed_secrets_file_fails_the_listing_with_the_file_named(tmp_path, emu, harness):
    h = harness(secrets={"aws": []})
    with pytest.raises(ResourceError, match="secrets.json"):
        h.resource.subtypes  # noqa: B018 - building subtypes reads the file


async def test_current_destination_without_client_trusts_state(harness):
    resource = harness().resource
    stored = {"aws:1": {"name": "aws", "account_id": "1", "role_name": "R", "external_id": "e"}}
    current = await resource.current_destination(None, {}, stored)
    assert current["aws:1"]["external_id"] == "e" and current["aws:1"]["host_tags"] == []
    assert await resource.current_destination(None, {}, {}) == {}


async def test_dispatch_through_the_resource(emu, clients, harness):
    emu.seed("source", org_state(ROLE))
    h = harness()
    (raw,) = await h.resource.list_resources(clients[0])
    key, obj = await h.resource.import_resource(raw, clients[0])
    current = await h.resource.current_destination(clients[1], {key: obj}, {})
    assert current == {}
    assert h.resource.diff(obj, obj) == []
    assert h.resource.redacted({**obj, "external_id": "x"}) == obj
    result = await h.resource.create(clients[1], key, obj)
    h.state.destination["integrations"][key] = result
    h.resource.after_apply([Change("integrations", key, "create", desired=obj)])
    assert handoff.handoff_path(h.config.destination_resources_path).exists()


def test_subtype_base_defaults(harness):
    h = harness()
    base = Subtype(h.ctx, h.resource.log, h.resource.secrets)
    assert base.diff({"a": 1}, {"a": 1}) == [] and base.redacted({"a": 1}) == {"a": 1}
    assert base.after_apply([]) is None


async def test_subtype_base_requires_the_hooks(harness):
    h = harness()
    base = Subtype(h.ctx, h.resource.log, h.resource.secrets)
    assert await base.preflight(None, []) == []
    for call in (
        lambda: base.list_resources(None),
        lambda: base.import_resource({}, None),
        lambda: base.current_destination(None, {}, {}),
        lambda: base.create(None, "k", {}),
        lambda: base.update(None, "k", {}, {}),
        lambda: base.delete(None, "k", {}),
    ):
        with pytest.raises(NotImplementedError):
            await call()
    for call in (lambda: base.key_of({}), lambda: base.preview({})):
        with pytest.raises(NotImplementedError):
            call()


@pytest.mark.parametrize(
    ("url", "account"),
    [
        ("https://api.datadoghq.com", "464622532012"),
        ("https://api.datadoghq.eu", "464622532012"),
        ("https://api.ddog-gov.com", "065115117704"),
        ("https://api.ap1.datadoghq.com", "417141415827"),
        ("https://api.ap2.datadoghq.com", handoff.PLACEHOLDER),
        ("http://127.0.0.1:8126", "464622532012"),
    ],
)
def test_datadog_principal_per_site(url, account):
    assert handoff.datadog_aws_account(url) == account


def test_handoff_without_anything_to_report_writes_nothing(harness):
    h = harness()
    assert handoff.report(h.ctx, h.resource.log, {}) is None
    assert not handoff.handoff_path(h.config.destination_resources_path).exists()

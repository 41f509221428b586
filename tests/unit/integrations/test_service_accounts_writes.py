"""The account-based service subtypes' writes through the real HTTP client against the emulator (no mocks of our
classes): what a whole CLI run cannot reach easily (a create racing another, a stale Okta id, a vanished account)."""

from __future__ import annotations

import pytest

from datadog_sync.http.client import Client
from datadog_sync.resources.base import ResourceError, SkipResource
from datadog_sync.resources.integrations.okta import model as okta_model
from tests.e2e.test_cli_answers import portal
from tests.unit.integrations.conftest import FAST, writes
from tests.unit.integrations.service_accounts import services

CORP = {"id": "u-1", "name": "corp", "domain": "https://corp.okta.com/", "auth_method": "oauth", "client_id": "c1"}
SECRETS = {"okta": {"corp": "s3cret-okta"}, "fastly": {"edge": "k-fastly"}, "confluent_cloud": {"K1": "s-conf"}}


def okta_item(account: dict) -> dict:
    attrs = {k: v for k, v in account.items() if k != "id"}
    return {"id": account["id"], "type": "okta-accounts", "attributes": attrs}


async def test_a_create_of_an_existing_account_adopts_it_and_a_stale_id_is_found_by_name(emu, clients, harness):
    _, dst = clients
    okta = harness(secrets=SECRETS).resource.subtypes["okta"]
    emu.seed("destination", services(okta=[{**CORP, "domain": "https://old.okta.com/"}]))
    desired = okta_model.from_api(okta_item(CORP))
    created = await okta.create(dst, "okta:corp", desired)  # 409, then an update of the listed account
    assert created["domain"] == "https://corp.okta.com/" and created["id"] != "u-1"
    assert [m for m, _ in writes(emu)] == ["POST", "PATCH"]
    emu.clear_requests()
    await okta.delete(dst, "okta:corp", {**created, "id": "u-1"})  # the old id answers 400: found by name
    assert [m for m, _ in writes(emu)] == ["DELETE", "DELETE"]
    await okta.delete(dst, "okta:corp", created)  # gone: deleted already
    assert emu.dump("destination").get("services", {}).get("okta") in (None, [])


async def test_secrets_are_needed_where_the_api_needs_them(emu, clients, harness):
    _, dst = clients
    subtypes = harness(secrets={}).resource.subtypes
    with pytest.raises(SkipResource, match="no API key or client secret for Okta account corp"):
        await subtypes["okta"].create(dst, "okta:corp", okta_model.from_api(okta_item(CORP)))
    cf = {"name": "cloudflare", "account_name": "cf", "id": "x", "resources": ["web"], "zones": []}
    with pytest.raises(SkipResource, match="the API needs it on every update"):
        await subtypes["cloudflare"].update(dst, "cloudflare:cf", {**cf, "resources": []}, cf)
    assert writes(emu) == []


async def test_an_account_gone_meanwhile_and_a_refused_delete(emu, clients, harness):
    _, dst = clients
    sub = harness(secrets=SECRETS).resource.subtypes
    fastly = {"name": "fastly", "account_name": "edge", "id": "f" * 32, "services": []}
    with pytest.raises(ResourceError, match="Fastly account edge, service s1: 404"):
        await sub["fastly"].update(dst, "fastly:edge", {**fastly, "services": [{"id": "s1", "tags": []}]}, fastly)
    await sub["fastly"].delete(dst, "fastly:edge", fastly)  # 404: deleted already
    emu.set_permissions("destination", ["integrations_read", "user_app_keys", "user_access_read"])
    emu.seed("destination", services(fastly=[{"id": "f" * 32, "name": "edge", "api_key": "k", "services": []}]))
    with pytest.raises(ResourceError, match="Fastly account edge: 403"):
        await sub["fastly"].delete(dst, "fastly:edge", fastly)


async def test_listings_of_another_shape_and_items_without_a_natural_key(emu, clients, harness):
    _, dst = clients
    okta = harness().resource.subtypes["okta"]
    assert okta.key_of({"id": "x", "attributes": {}}) is None
    with pytest.raises(SkipResource, match="without account_name"):
        await okta.import_resource({"id": "x", "attributes": {}}, dst)
    assert await okta.current_destination(None, {}, {"okta:a": {"x": 1}}) == {"okta:a": {"x": 1}}
    assert okta.secret_names({"account_name": "corp"}) == ["corp"] and okta.handles({}) == []
    assert okta.same_object({"account_name": "a"}, {"account_name": "a"})
    assert okta.redacted({"account_name": "a", "client_secret": "s"}) == {"account_name": "a"}


def make_client_at(url: str) -> Client:
    return Client(url, api_key="k", app_key="a", org="destination", retry=FAST)


async def test_answers_of_other_shapes_and_refusals_name_the_account(harness):
    sub = harness(secrets=SECRETS).resource.subtypes
    model_obj = okta_model.from_api(okta_item(CORP))
    with portal({"/api/v2/integrations/okta/accounts": {"accounts": []}}, status=409) as url:
        client = make_client_at(url)
        try:
            with pytest.raises(ResourceError, match="does not look like a Datadog API answer"):
                await sub["okta"].list_resources(client)
            assert await sub["okta"].create(client, "okta:corp", model_obj) == model_obj  # an answer without it
        finally:
            await client.close()
    listed = {"data": [okta_item(CORP)]}
    with portal({"/api/v2/integrations/okta/accounts": listed}, status=404) as url:
        client = make_client_at(url)
        try:  # a 404 for an account the listing still shows under that id: not deleted, an error
            with pytest.raises(ResourceError, match="Okta account corp: 404"):
                await sub["okta"].delete(client, "okta:corp", model_obj)
        finally:
            await client.close()
    with portal({}, status=500) as url:
        client = make_client_at(url)
        fastly = {"name": "fastly", "account_name": "edge", "id": "f", "services": [{"id": "s", "tags": []}]}
        try:
            with pytest.raises(ResourceError, match="Fastly account edge, service s: 500"):
                await sub["fastly"].update(client, "fastly:edge", {**fastly, "services": []}, fastly)
        finally:
            await client.close()

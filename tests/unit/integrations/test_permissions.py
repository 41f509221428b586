"""Permission pre-flight against the emulator's application-key and user-permission endpoints."""

from __future__ import annotations

import logging

from datadog_sync.planner import Change
from datadog_sync.preflight import PermissionCheck, needed_permissions
from datadog_sync.resources.integrations.aws import model

ROLE_OBJ = {
    **model.normalize_account({"account_id": "1", "role_name": "R"}),
    "tag_filters": {},
    "logs": model.empty_logs(),
}
WITH_FILTER = {**ROLE_OBJ, "tag_filters": {"sqs": "a:b"}}

CREATE = Change("integrations", "aws:1", "create", desired=ROLE_OBJ)
CREATE_WITH_FILTER = Change("integrations", "aws:2", "create", desired=WITH_FILTER)
UPDATE = Change("integrations", "aws:3", "update", desired=ROLE_OBJ, current=ROLE_OBJ)
DELETE = Change("integrations", "aws:4", "delete", current=ROLE_OBJ)
NOOP = Change("integrations", "aws:5", "noop", desired=ROLE_OBJ, current=ROLE_OBJ)


async def preflight(h, client, changes):
    """The host's one pre-flight step, over the integrations resource (each subtype's declared permissions)."""
    return await PermissionCheck(h.ctx, client).blocked(h.resource, changes)


def test_needed_permissions_follow_the_plan(harness):
    aws = harness().aws
    assert needed_permissions(aws, [NOOP]) == {}
    assert needed_permissions(aws, [CREATE]) == {"aws_configurations_manage": ["aws:1"]}
    assert needed_permissions(aws, [CREATE_WITH_FILTER, UPDATE, DELETE]) == {
        "aws_configurations_manage": ["aws:2", "aws:4"],
        "aws_configuration_edit": ["aws:2", "aws:3"],
    }


async def test_full_permissions_pass(emu, clients, harness):
    h = harness()
    assert await preflight(h, clients[1], [CREATE_WITH_FILTER, UPDATE, DELETE]) == {}
    assert await preflight(h, clients[1], [NOOP]) == {}


async def test_owner_without_write_permissions_is_stopped_with_each_missing_permission(emu, clients, harness, caplog):
    emu.set_permissions("destination", ["aws_configuration_read", "user_app_keys", "user_access_read"])
    with caplog.at_level(logging.ERROR):
        blocked = await preflight(harness(), clients[1], [CREATE_WITH_FILTER, UPDATE, DELETE])
    # Each change is blocked by the permissions its own writes need, no other.
    assert {key: [p.split("`")[1] for p in why] for key, why in blocked.items()} == {
        "aws:2": ["aws_configurations_manage", "aws_configuration_edit"],
        "aws:3": ["aws_configuration_edit"],
        "aws:4": ["aws_configurations_manage"],
    }
    assert "2 account(s) need `aws_configurations_manage`: aws:2, aws:4" in caplog.text
    assert "2 account(s) need `aws_configuration_edit`: aws:2, aws:3" in caplog.text


async def test_scoped_key_is_narrowed_to_its_scopes(emu, clients, harness):
    emu.set_app_key_scopes("destination", ["aws_configuration_read", "aws_configuration_edit", "user_app_keys"])
    blocked = await preflight(harness(), clients[1], [UPDATE, DELETE])
    assert blocked == {
        "aws:4": ["the destination key lacks `aws_configurations_manage` (see the permission pre-flight above)"]
    }


async def test_scoped_key_whose_owner_cannot_be_read_uses_its_scopes(emu, clients, harness):
    emu.set_permissions("destination", ["aws_configuration_read", "aws_configuration_edit", "user_app_keys"])
    emu.set_app_key_scopes("destination", ["aws_configuration_edit", "user_app_keys"])
    assert await preflight(harness(), clients[1], [UPDATE]) == {}


async def test_check_not_allowed_says_so_and_goes_on(emu, clients, harness, caplog):
    emu.set_permissions("destination", ["aws_configuration_read", "aws_configuration_edit"])
    with caplog.at_level(logging.WARNING):
        assert await preflight(harness(), clients[1], [CREATE, DELETE]) == {}
    assert "cannot check the destination key's permissions" in caplog.text and "user_app_keys" in caplog.text


async def test_unscoped_key_whose_owner_cannot_be_read_goes_on(emu, clients, harness, caplog):
    emu.set_permissions("destination", ["aws_configuration_read", "user_app_keys"])
    with caplog.at_level(logging.WARNING):
        assert await preflight(harness(), clients[1], [DELETE]) == {}
    assert "cannot check" in caplog.text


async def test_unknown_key_is_not_checked(emu, clients, harness, caplog):
    h = harness()
    h.config = h.ctx.config = type(h.config)(
        **{**vars(h.config), "destination": type(h.config.destination)("destination", emu.url, "k", "zzzz")}
    )
    with caplog.at_level(logging.WARNING):
        assert await preflight(h, clients[1], [DELETE]) == {}
    assert "cannot tell which application key" in caplog.text
    h.ctx.config = type(h.config)(
        **{**vars(h.config), "destination": type(h.config.destination)("destination", emu.url, "k", None)}
    )
    assert await preflight(h, clients[1], [DELETE]) == {}

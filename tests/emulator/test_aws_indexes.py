"""The emulator's AWS lookups stay right when accounts are added, replaced and removed without a rebuild."""

import copy

from datadog_sync.emulator.state import AwsAccount, AwsIntegration


def scan(aws: AwsIntegration) -> dict:
    """What each lookup answers, computed by scanning the list (the behaviour the indexes must keep)."""
    out = {}
    for a in aws.accounts:
        out.setdefault(("config", a.config_id), a)
        out.setdefault(("filtering", a.identifier), a)
        out.setdefault(("key", a.access_key_id), a)
    return out


def check(aws: AwsIntegration) -> None:
    for (kind, value), expected in scan(aws).items():
        found = {"config": aws.find_config, "filtering": aws.find_for_filtering, "key": aws.find_key}[kind](value)
        assert found is expected, (kind, value)
    for a in aws.accounts:
        assert aws.account_id_in_use(a.account_id)
        others = [b for b in aws.accounts if b is not a and b.account_id == a.account_id]
        assert aws.account_id_in_use(a.account_id, ignore=a) == bool(others)
    assert not aws.account_id_in_use("000000000000")


def test_add_replace_remove_keep_every_lookup_equal_to_a_scan():
    aws = AwsIntegration()
    role = [AwsAccount(account_id=f"1000000000{i:02d}", role_name="r") for i in range(5)]
    key = AwsAccount(account_id="200000000000", access_key_id="AKIA1", secret_access_key="s")
    for account in [*role, key]:
        aws.add(account)
        check(aws)
    updated = copy.deepcopy(role[2])
    updated.role_name = "renamed"
    aws.replace(role[2], updated)  # same lookup keys: swapped in place
    assert aws.accounts[2] is updated
    check(aws)
    moved = copy.deepcopy(key)
    moved.access_key_id = "AKIA2"
    aws.replace(key, moved)  # a lookup key changed: rebuilt on the next lookup
    assert aws.find_key("AKIA1") is None and aws.find_key("AKIA2") is moved
    check(aws)
    aws.remove(role[0])
    assert role[0] not in aws.accounts and aws.find_config(role[0].config_id) is None
    check(aws)
    aws.add(AwsAccount(account_id="100000000001", role_name="twin"))  # a second account with a used id
    check(aws)

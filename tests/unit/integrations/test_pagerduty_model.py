"""The ``pagerduty`` stored shape, checks and payloads; payloads validated against datadog-api-client's models."""

from __future__ import annotations

import pytest
from datadog_api_client.v1.model.pager_duty_service import PagerDutyService
from datadog_api_client.v1.model.pager_duty_service_key import PagerDutyServiceKey
from datadog_api_client.v1.model.pager_duty_service_name import PagerDutyServiceName

from datadog_sync.resources.integrations.pagerduty import model
from tests.client_models import deserialize

#: The legacy listing as recorded (TestAccDatadogIntegrationPagerdutyServiceObject_Basic #1).
LEGACY = {
    "subdomain": "testdomain",
    "schedules": ["https://ddog.pagerduty.com/schedules/X123VF"],
    "api_token": "*****",
    "services": [
        {"service_name": "testing_foo", "service_key": "*****"},
        {"service_name": "ops team", "service_key": "*****"},
    ],
    "show_all_incidents": False,
    "filter_services": [],
}


def test_the_legacy_listing_gives_names_only_and_the_2018_shape_too():
    assert model.listed_services(LEGACY) == [
        {"name": "pagerduty", "service_name": "testing_foo"},
        {"name": "pagerduty", "service_name": "ops team"},
    ]
    assert model.listed_services({"services": [{"service": "old", "key": "*****"}, {"key": "x"}, "junk"]}) == [
        {"name": "pagerduty", "service_name": "old"}
    ]
    assert model.listed_services({}) == [] and model.listed_services([]) == []


def test_identity_handle_and_path():
    obj = model.from_api({"service_name": "ops team"})
    assert model.state_key(obj) == "pagerduty:ops team"
    assert model.handle(obj) == "@pagerduty-ops team"
    assert model.path_name("ops team") == "ops%20team" and model.path_name("a/b+c") == "a%2Fb%2Bc"
    assert deserialize({"service_name": "ops team"}, PagerDutyServiceName).service_name == "ops team"


def test_payloads_fit_the_client_models():
    obj = {"name": "pagerduty", "service_name": "payments"}
    create = deserialize(model.create_payload(obj, "k" * 32), PagerDutyService)
    assert (create.service_name, create.service_key) == ("payments", "k" * 32)
    assert deserialize(model.update_payload("k" * 32), PagerDutyServiceKey).service_key == "k" * 32


def test_nothing_is_compared_the_key_drift_cannot_be_seen():
    assert model.differences({"service_name": "a"}, {"service_name": "a"}) == []


@pytest.mark.parametrize(
    ("key", "obj", "problem"),
    [
        ("pagerduty:a", {"name": "pagerduty", "service_name": "a"}, None),
        ("pagerduty:a", {"name": "pagerduty", "service_name": 3}, "service_name: expected a string, got a number"),
        ("pagerduty:a", {"name": "pagerduty", "service_name": "a", "service_key": "k"}, "never kept in state"),
        ("pagerduty:", {"name": "pagerduty"}, "service_name: needed"),
        ("pagerduty:b", {"name": "pagerduty", "service_name": "a"}, "stored under pagerduty:b"),
    ],
)
def test_problems(key, obj, problem):
    found = model.problems(key, obj)
    assert (found == []) if problem is None else (problem in found[0])

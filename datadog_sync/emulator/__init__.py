"""A faithful local emulator of the Datadog API parts datadog-sync uses (AWS, GCP and Azure integrations,
service integrations such as webhooks, PagerDuty and Slack, and friends).

    from datadog_sync.emulator import Emulator, OrgSpec, run_emulator_in_thread

See docs/emulator.md for flags, knobs, the admin API and the state format.
"""

from datadog_sync.emulator.cloud_seed import make_azure_org, make_cloud_secrets, make_gcp_org
from datadog_sync.emulator.core import EmulatorCore, OrgSpec
from datadog_sync.emulator.knobs import Knobs
from datadog_sync.emulator.seed import make_aws_org, make_secrets_file
from datadog_sync.emulator.server import Emulator, ThreadedEmulator, run_emulator_in_thread
from datadog_sync.emulator.service_seed import make_service_org, make_service_secrets

__all__ = [
    "Emulator",
    "EmulatorCore",
    "Knobs",
    "OrgSpec",
    "ThreadedEmulator",
    "make_aws_org",
    "make_azure_org",
    "make_cloud_secrets",
    "make_gcp_org",
    "make_secrets_file",
    "make_service_org",
    "make_service_secrets",
    "run_emulator_in_thread",
]

"""Where the Confluent Cloud integration lives (https://docs.datadoghq.com/api/latest/confluent-cloud/): accounts
under ``/api/v2/integrations/confluent-cloud/accounts`` and each account's resources under
``/accounts/{id}/resources``; reads need ``integrations_read``, writes ``manage_integrations``."""

from datadog_sync.resources.integrations.v2_accounts import BASE, MANAGE, READ

PATH = f"{BASE}/confluent-cloud/accounts"
CHILDREN = "resources"

__all__ = ["CHILDREN", "MANAGE", "PATH", "READ"]

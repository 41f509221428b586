"""Where the Fastly integration lives (https://docs.datadoghq.com/api/latest/fastly-integration/): accounts under
``/api/v2/integrations/fastly/accounts`` and each account's services under ``/accounts/{id}/services``. Every read
needs ``integrations_read``, every write ``manage_integrations``."""

from datadog_sync.resources.integrations.v2_accounts import BASE, MANAGE, READ

PATH = f"{BASE}/fastly/accounts"
CHILDREN = "services"

__all__ = ["CHILDREN", "MANAGE", "PATH", "READ"]

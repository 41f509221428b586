"""Where the Okta integration lives (https://docs.datadoghq.com/api/latest/okta-integration/): accounts under
``/api/v2/integrations/okta/accounts``; reads need ``integrations_read``, writes ``manage_integrations``."""

from datadog_sync.resources.integrations.v2_accounts import BASE, MANAGE, READ

PATH = f"{BASE}/okta/accounts"

__all__ = ["MANAGE", "PATH", "READ"]

"""Where the Cloudflare integration lives (https://docs.datadoghq.com/api/latest/cloudflare-integration/): accounts
under ``/api/v2/integrations/cloudflare/accounts``; reads need ``integrations_read``, writes ``manage_integrations``."""

from datadog_sync.resources.integrations.v2_accounts import BASE, MANAGE, READ

PATH = f"{BASE}/cloudflare/accounts"

__all__ = ["MANAGE", "PATH", "READ"]

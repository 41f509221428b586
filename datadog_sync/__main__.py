from datadog_sync.cli import cli

cli()

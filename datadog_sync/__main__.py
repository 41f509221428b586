from datadog_sync.cli import main

main()

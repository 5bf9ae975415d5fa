"""Allow ``python -m agentstatus``."""

from agentstatus.cli.main import main

main()

"""The ``agentstatus`` command line: serve, and manage a database directly."""

"""The service layer: what the native API and the CLI can do, on any storage engine."""

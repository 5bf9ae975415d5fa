"""The HTTP layer: the Voicenter-compatible endpoints, the native API, and operations."""

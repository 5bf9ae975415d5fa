"""agentstatus: a self-hosted, Voicenter-compatible agent status service."""

__version__ = "0.1.0"

"""The default status catalogue every new organisation starts with (SPEC.md section 2),
held by ``wire/catalogue.py`` (the client shares it), and the two statuses the server
gives a meaning of its own."""

from __future__ import annotations

from agentstatus.wire.catalogue import DEFAULT_CATALOGUE, AgentStatus, StatusDefinition

__all__ = ["BUILT_IN", "DEFAULT_CATALOGUE", "LOGIN", "LOGOUT", "StatusDefinition"]

LOGIN = AgentStatus.LOGIN.value
LOGOUT = AgentStatus.LOGOUT.value
BUILT_IN = frozenset({LOGIN, LOGOUT})

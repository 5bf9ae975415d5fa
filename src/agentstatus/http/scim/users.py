"""Agents as SCIM ``User`` resources, and the one filter the Users list understands.

``id`` is the agent's row id (stable for its life), ``userName`` its user id, ``displayName``
its name, ``active`` whether it may log in."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from scim2_models import InvalidFilterException, Meta, ScimFilter, User
from scim2_models.path.expressions import CompareOperator, Comparison

from agentstatus.service.agent_records import AgentRecord

AgentUser = User[Any]
"""A User without extensions (an agent has none)."""

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"


def user_of(record: AgentRecord, base: str) -> AgentUser:
    return AgentUser(
        id=str(record.row_id),
        external_id=record.external_id,
        user_name=record.user_id,
        display_name=record.name or None,
        active=record.active,
        meta=Meta(
            resource_type="User",
            created=datetime.fromtimestamp(record.created_ms / 1000, UTC),
            location=f"{base}/Users/{record.row_id}",
        ),
    )


def user_name_filter(text: str) -> str:
    """The user id of a ``userName eq "…"`` filter, parsed by scim2-models; any other
    filter is an InvalidFilterException.

    Identity providers look a user up by ``userName eq "…"`` before creating it (Okta,
    Entra, OneLogin); nothing else is asked of an agent list, and only this is served
    (attribute names and operators are case-insensitive, RFC 7644 section 3.4.2.2)."""
    node = ScimFilter[AgentUser](text).ast
    if not (
        isinstance(node, Comparison)
        and node.attr_path.uri in (None, USER_SCHEMA)
        and node.attr_path.attr.lower() == "username"
        and node.attr_path.sub_attr is None
        and node.op == CompareOperator.eq
        and isinstance(node.value, str)
    ):
        raise InvalidFilterException(
            detail='only the filter userName eq "<user id>" is supported', filter=text
        )
    return node.value

"""Checks shared by the management operations, each raising InvalidInput with a clear line."""

from __future__ import annotations

import re

from agentstatus.domain.integers import INT32_MAX
from agentstatus.service.errors import ErrorCode, InvalidInput

ORG_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
COLOR = re.compile(r"#[0-9A-Fa-f]{6}")
MAX_ID_LENGTH = 128
MAX_NAME_LENGTH = 256
MAX_STATUS_ID = INT32_MAX


def org_name(name: str) -> str:
    if not ORG_NAME.fullmatch(name):
        raise InvalidInput(
            f"invalid organisation name {name!r}: use 1-64 letters, digits, '_' or '-'"
        )
    return name


def identifier(kind: str, value: str) -> str:
    value = value.strip()
    if not value:
        raise InvalidInput(f"{kind} must not be empty")
    if len(value) > MAX_ID_LENGTH:
        raise InvalidInput(f"{kind} is longer than {MAX_ID_LENGTH} characters")
    if any(ch.isspace() or not ch.isprintable() for ch in value):
        raise InvalidInput(f"{kind} {value!r} must not contain spaces or control characters")
    return value


def display_name(value: str | None, *, max_length: int = MAX_NAME_LENGTH) -> str:
    value = (value or "").strip()
    if len(value) > max_length:
        raise InvalidInput(f"name is longer than {max_length} characters")
    if any(not ch.isprintable() for ch in value):
        raise InvalidInput("name must not contain control characters")
    return value


def status_id(value: int) -> int:
    if not 1 <= value <= MAX_STATUS_ID:
        raise InvalidInput(f"status id must be between 1 and {MAX_STATUS_ID}")
    return value


def color(value: str) -> str:
    if not COLOR.fullmatch(value.strip()):
        raise InvalidInput(f"invalid colour {value!r}: use #RRGGBB")
    return value.strip().lower()


def code(value: str) -> str:
    if not value or len(value) > 256 or any(ch.isspace() or not ch.isprintable() for ch in value):
        raise InvalidInput("a code must be 1-256 printable characters without spaces")
    return value


MAX_REASON_LENGTH = 200


def reason(value: str | None) -> str | None:
    """A supervisor's reason for a change: free text of at most 200 characters, kept as
    typed but trimmed; None when there is none (an empty text is none)."""
    value = (value or "").strip()
    if len(value) > MAX_REASON_LENGTH:
        raise InvalidInput(
            f"the reason is longer than {MAX_REASON_LENGTH} characters",
            code=ErrorCode.INVALID_REASON,
        )
    if any(not ch.isprintable() for ch in value):
        raise InvalidInput(
            "the reason must not contain control characters", code=ErrorCode.INVALID_REASON
        )
    return value or None

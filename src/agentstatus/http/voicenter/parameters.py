"""Reading the Voicenter endpoints' parameters the way real CRMs send them (SPEC.md 3).

Names match case-insensitively, ``sipid`` is an alias of ``ExtensionUser``, values are
trimmed, and a POST may carry JSON or a form. Anything that cannot be read is row 1.

JSON is read with orjson: the standard library's reader accepts ``NaN``, ``Infinity``,
UTF-16 and UTF-32 bodies and lone surrogates, and raises ``RecursionError`` on deep
nesting, all of which orjson refuses (row 1). So this module is the server's, not part of
the stdlib-only :mod:`agentstatus.wire`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl

import orjson

from agentstatus.wire.outcomes import Row
from agentstatus.wire.redaction import REDACTED as _REDACTED
from agentstatus.wire.redaction import parameter_name as canonical_key

MAX_BODY = 16 * 1024


_JSON_TYPES = frozenset({"application/json", "text/json", "text/plain", ""})
_FORM_TYPE = "application/x-www-form-urlencoded"


class Unreadable(ValueError):
    """The request cannot be read (row 1)."""


def media_type(content_type: str | None) -> str:
    if not content_type:
        return ""
    return content_type.split(";", 1)[0].strip().lower()


def _scalar(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise Unreadable("a boolean is not a parameter value")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, str):
        return value
    raise Unreadable("a parameter value must be a string or a number")


def _merge_pairs(params: dict[str, str | None], pairs: list[tuple[str, str]]) -> None:
    for key, value in pairs:
        params.setdefault(canonical_key(key), value)


def read_parameters(
    method: str, query_string: bytes, content_type: str | None, body: bytes
) -> dict[str, str | None]:
    """All parameters by canonical (lower-case) name; the body's win over the query's.

    Within one source the first occurrence of a name wins.
    """
    try:
        query = query_string.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Unreadable("the query string is not UTF-8") from exc
    params: dict[str, str | None] = {}
    if method == "POST" and body.strip():
        if len(body) > MAX_BODY:
            raise Unreadable("body too large")
        kind = media_type(content_type)
        if kind == _FORM_TYPE and body.lstrip().startswith(b"{"):
            kind = "application/json"  # curl -d '{...}' labels JSON as a form
        if kind == _FORM_TYPE:
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise Unreadable("the form is not UTF-8") from exc
            _merge_pairs(params, parse_qsl(text, keep_blank_values=True))
        elif kind in _JSON_TYPES or kind.endswith("+json"):
            try:
                unmarked = body.removeprefix(b"\xef\xbb\xbf")
                document = orjson.loads(unmarked)
            except orjson.JSONDecodeError as exc:
                raise Unreadable("malformed JSON") from exc
            if not isinstance(document, dict):
                raise Unreadable("the JSON is not an object")
            for key, value in _first_wins(unmarked, document).items():
                params.setdefault(canonical_key(key), _scalar(value))
        else:
            raise Unreadable("unsupported content type")
    _merge_pairs(params, parse_qsl(query, keep_blank_values=True))
    return params


@dataclass(frozen=True, slots=True)
class StatusParameters:
    """A readable, complete ``SetStatusFromAPI`` request. ``status`` is None when the
    value given is not an integer (row 9, decided after authentication)."""

    code: str
    user_id: str
    extension: str
    status: int | None


def _present(params: Mapping[str, str | None], *names: str) -> str:
    for name in names:
        value = params.get(name)
        if value is not None and value.strip():
            return value.strip()
    return ""


# No catalogue holds a status beyond 64 bits (the engines answer row 9 for those); a much
# longer string of digits is not converted at all (Python refuses more than 4,300 digits,
# which was an HTTP 500).
_MAX_STATUS_DIGITS = 64


def parse_status(text: str) -> int | None:
    if text.isascii() and text.isdigit():
        digits = text.lstrip("0") or "0"
        return int(digits) if len(digits) <= _MAX_STATUS_DIGITS else None
    return None


def _first_wins(body: bytes, document: dict[str, object]) -> dict[str, object]:
    """The JSON object with the first occurrence of a repeated key (as in a query string),
    where orjson keeps the last. orjson has validated the body; only a body that may
    repeat a key (more ``":`` than keys) is read again, by the standard library."""
    if body.count(b'":') <= len(document):
        return document
    try:
        pairs: list[tuple[str, object]] = json.loads(body, object_pairs_hook=list)
    except (ValueError, RecursionError) as exc:  # nested deeper than the stdlib recurses
        raise Unreadable("malformed JSON") from exc
    first: dict[str, object] = {}
    for key, value in pairs:
        first.setdefault(key, value)  # a nested object comes back as a list: row 1 anyway
    return first


def status_parameters(params: Mapping[str, str | None]) -> StatusParameters | Row:
    """Rows 2-4 of the outcomes table, or the parameters."""
    code = _present(params, "code")
    user_id = _present(params, "userid")
    if not code or not user_id:
        return Row.MISSING_CODE_OR_USER
    extension = _present(params, "extensionuser", "sipid")
    if not extension:
        return Row.MISSING_EXTENSION
    status = _present(params, "status")
    if not status:
        return Row.MISSING_STATUS
    return StatusParameters(code, user_id, extension, parse_status(status))


_SAFE_IN_LOGS = frozenset({"userid", "extensionuser", "sipid", "status", "extension", "queue"})
# Names are logged only when known: a client that escapes its whole query
# (``?Code%3D...``) or sends the Code bare (``?<code>``) puts the secret in a *name*.
_NAMES_IN_LOGS = _SAFE_IN_LOGS | {
    "code",
    "user_id",
    "user",
    "after",
    "limit",
    "from",
    "to",
    "format",
}


def redact_query(query_string: bytes) -> str:
    """The query string with every value but the harmless ones replaced, and every
    unknown name too, for logs."""
    try:
        pairs = parse_qsl(query_string.decode("utf-8", "replace"), keep_blank_values=True)
    except ValueError:
        return "[unreadable]"
    shown = []
    for key, value in pairs:
        name = canonical_key(key)
        shown_key = key if name in _NAMES_IN_LOGS else _REDACTED
        shown.append(f"{shown_key}={value if name in _SAFE_IN_LOGS else _REDACTED}")
    return "&".join(shown)

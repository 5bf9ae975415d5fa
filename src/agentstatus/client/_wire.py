"""The Voicenter wire format as the client speaks it: requests (and copies without the Code),
and the objects of successful answers."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from ..wire import comet, statuses_list
from ..wire.paths import PATHS, SET_STATUS, route_key
from ..wire.redaction import REDACTED, shown
from ._models import AgentStatus, Extension, ExtensionPresence, Queue, QueueCaller, Status

LOGOUT = AgentStatus.LOGOUT
ENDPOINTS = frozenset(route_key(p) for p in PATHS)
_SET_STATUS_KEY = route_key(SET_STATUS)

_PRIVATE_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})


@dataclass(frozen=True, slots=True)
class Call:
    """One API call: the request to send, a copy without the Code for exceptions, and what
    the call was about (for messages in plain words)."""

    request: httpx.Request = field(repr=False)
    redacted: httpx.Request
    subject: Mapping[str, object]

    @property
    def changes_state(self) -> bool:
        return route_key(self.redacted.url.path) == _SET_STATUS_KEY


def build_call(
    http: httpx.Client | httpx.AsyncClient,
    method: str,
    url: str,
    params: Mapping[str, object],
    subject: Mapping[str, object],
    timeout: float | httpx.Timeout,
) -> Call:
    redacted_params = {k: shown(k, v) for k, v in params.items()}
    headers = {k: v for k, v in http.headers.items() if k.lower() not in _PRIVATE_HEADERS}
    if method == "GET":
        query = {k: str(v) for k, v in params.items()}
        request = http.build_request("GET", url, params=query, timeout=timeout)
        redacted = httpx.Request(
            "GET", url, params={k: str(v) for k, v in redacted_params.items()}, headers=headers
        )
    else:
        request = http.build_request("POST", url, json=dict(params), timeout=timeout)
        redacted = httpx.Request("POST", url, json=redacted_params, headers=headers)
    return Call(request, redacted, dict(subject))


def scrub(text: str, secret: str) -> str:
    """``text`` with every occurrence of ``secret`` replaced (for third-party messages)."""
    return text.replace(secret, REDACTED) if secret else text


def redact_url(url: httpx.URL) -> httpx.URL:
    """The URL of one of the Voicenter endpoints without the Code in its query string."""
    if route_key(url.path) not in ENDPOINTS or not url.query:
        return url
    params: list[tuple[str, str | int | float | bool | None]] = [
        (k, shown(k, v)) for k, v in url.params.multi_items()
    ]
    return url.copy_with(params=httpx.QueryParams(params))


class _RedactCodeInURLs(logging.Filter):
    """httpx logs every request's URL ("HTTP Request: GET …?code=…"); with ``method="GET"``
    that URL holds the Code, so the record's URL arguments are replaced before any handler
    sees them."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(isinstance(a, httpx.URL) for a in record.args):
            record.args = tuple(
                redact_url(a) if isinstance(a, httpx.URL) else a for a in record.args
            )
        return True


_REDACTING_FILTER = _RedactCodeInURLs()


def redact_code_in_httpx_logs() -> None:
    """Install the filter on httpx's logger (once; installing again changes nothing)."""
    logging.getLogger("httpx").addFilter(_REDACTING_FILTER)


def _get(obj: Mapping[str, Any], *names: str, default: Any = None) -> Any:
    """A field by any of its names, case-insensitively (Voicenter's casing varies)."""
    lowered = {k.lower(): v for k, v in obj.items()}
    for name in names:
        if name.lower() in lowered:
            return lowered[name.lower()]
    return default


def _objects(fields: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    items = _get(fields, key, default=[])
    return [item for item in items if isinstance(item, Mapping)] if isinstance(items, list) else []


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def statuses_from(fields: Mapping[str, Any]) -> list[Status]:
    return [
        Status(
            _int(_get(s, statuses_list.ID), 0),
            str(_get(s, statuses_list.NAME, default="")),
            _get(s, statuses_list.COLOR),
            raw=s,
        )
        for s in _objects(fields, statuses_list.STATUSES)
    ]


def _phone(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def extensions_from(fields: Mapping[str, Any]) -> list[Extension]:
    return [
        Extension(
            str(_get(e, comet.SIP, comet.USERNAME, default="")),
            str(_get(e, comet.NAME, default="")),
            _phone(_get(e, comet.PEER_STATUS)),
            e,
        )
        for e in _objects(fields, comet.EXTENSIONS)
    ]


def presence_from(fields: Mapping[str, Any]) -> list[ExtensionPresence]:
    listing: list[ExtensionPresence] = []
    for e in _objects(fields, comet.EXTENSIONS):
        user = _get(e, comet.ONLINE_USER_ID, default=0)
        calls = _get(e, comet.CALLS, default=[])
        listing.append(
            ExtensionPresence(
                extension=str(_get(e, comet.USERNAME, comet.SIP, default="")),
                name=str(_get(e, comet.USER_NAME, default="")),
                user_id=None if user in (0, "0", "", None) else str(user),
                status=_int(_get(e, comet.ONLINE_USER_STATUS), LOGOUT),
                calls=tuple(c for c in calls if isinstance(c, Mapping))
                if isinstance(calls, list)
                else (),
                raw=e,
            )
        )
    return listing


def queues_from(fields: Mapping[str, Any]) -> list[Queue]:
    return [
        Queue(
            name=str(_get(q, comet.QUEUE_NAME, default="")),
            id=_int(_get(q, comet.QUEUE_ID), 0),
            weight=_int(_get(q, comet.QUEUE_WEIGHT), 0),
            callers=tuple(
                QueueCaller(
                    phone=str(_get(c, comet.CALLER_PHONE_NUMBER, default="") or ""),
                    call_id=str(_get(c, comet.CALLER_CALL_ID, default="")),
                    join_time=_int(_get(c, comet.CALLER_JOIN_TIME), 0),
                    duration=_int(_get(c, comet.CALLER_DURATION), 0),
                    raw=c,
                )
                for c in _objects(q, comet.QUEUE_CALLERS)
            ),
            raw=q,
        )
        for q in _objects(fields, comet.QUEUES)
    ]

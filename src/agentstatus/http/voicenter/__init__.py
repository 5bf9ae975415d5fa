"""The Voicenter-compatible endpoints (SPEC.md 3 and 4) as raw ASGI handlers: one shared
request pipeline, one small module per endpoint; and the real-time monitor's login
(SPEC.md 9, ``monitor_login``), which answers in the Events SDK's shape."""

from __future__ import annotations

from typing import Any

from agentstatus.http.context import AppContext
from agentstatus.http.voicenter.get_extensions import GetExtensions
from agentstatus.http.voicenter.get_extensions_calls import GetExtensionsCalls
from agentstatus.http.voicenter.get_queues_callers import GetQueuesCallers
from agentstatus.http.voicenter.get_statuses_list import GetStatusesList
from agentstatus.http.voicenter.monitor_login import with_monitor_routes
from agentstatus.http.voicenter.pipeline import Handler, VoicenterEndpoint
from agentstatus.http.voicenter.set_status import SetStatusFromAPI
from agentstatus.wire.paths import route_key

__all__ = ["Handler", "voicenter_routes"]


def voicenter_routes(context: AppContext) -> dict[str, Handler]:
    """Each endpoint by the key its path matches under (:func:`route_key`), the monitor's
    login endpoints included."""
    endpoints: tuple[type[VoicenterEndpoint[Any]], ...] = (
        SetStatusFromAPI,
        GetStatusesList,
        GetExtensions,
        GetExtensionsCalls,
        GetQueuesCallers,
    )
    return with_monitor_routes(context, {route_key(e.path): e(context) for e in endpoints})

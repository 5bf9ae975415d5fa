"""The monitor socket's source (``http.monitor_socket.MonitorSource``) for a running
service: a socket token is checked by ``service.monitor_login`` (in a thread: it reads the
database), and a session opened on the organisation's feed by ``events.monitor``, capped
per login and per what the login was made from (an API token, a web user)."""

from __future__ import annotations

import asyncio

from agentstatus.domain.monitor import MonitorIdentity
from agentstatus.events import credentials
from agentstatus.events.fanout import Fanout
from agentstatus.events.monitor import open_monitor_session
from agentstatus.events.monitor_session import MonitorSession
from agentstatus.service.monitor_login import socket_identity
from agentstatus.storage.types import Engine


class ServiceMonitorSource:
    def __init__(self, engine: Engine, fanout: Fanout) -> None:
        self._engine = engine
        self._fanout = fanout

    async def authenticate(self, token: str) -> MonitorIdentity | None:
        return await asyncio.to_thread(socket_identity, self._engine, token)

    async def open(self, identity: MonitorIdentity) -> MonitorSession:
        # Its own owner space: a person's monitor sockets do not take their boards' slots.
        owner = f"monitor-{identity.owner}" if identity.owner else None
        credential = credentials.monitor(identity.grant_id, owner)
        return await open_monitor_session(self._fanout, identity, credential)

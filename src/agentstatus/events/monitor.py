"""Voicenter's real-time monitor over the organisation's event feed (SPEC section 9, issue
25): what every monitor socket of an organisation reads, made once per event.

The organisation's :class:`MonitorFeed` is made when its first monitor socket opens and is
the feed's tap (``events.fanout.FeedTap``): it reads the state in one consistent read
(``events.monitor_state.load``), takes every event the feed reads after it, applies it
and hands the messages it makes to every socket. A socket is a :class:`MonitorSubscription`
attached to the feed without being handed its events: it is counted with the streams,
holds a slot of its credential (``StreamSlots``), is dropped when it falls ``buffer``
messages behind (``lagged``), when its credential is revoked (``revoked``) and when the
feed or the server stops (``closed``), exactly like an event stream.

An identical status set again records nothing (SPEC 3.2) but is announced to the monitor
sockets, as Voicenter does (:func:`status_repeated`). On PostgreSQL with several instances
only the sockets of the instance that took the request hear it: the instances tell each
other only that an organisation has new events (``events.pg_listener``), and a repeat is
no event.

What the history does not carry, the monitor does not show: a call's events are recorded
only while an agent is logged in at its extension, so an extension's calls are shown while
an agent is at it (its logout or move empties ``calls[]``; the ends would never come); a
renamed extension or agent keeps its old name until the state is read again (when the
organisation's next first socket opens). Choices where
the recording is silent: ``ExtensionsUpdated`` carries a string, the numeric ids now
monitored ("" for all); a queue's ``UserID`` and ``DistributorID`` are the organisation's
numeric id; an answered caller still waiting is ``EXIT`` (with ``AnsweredAgent``, as
recorded) then ``ANSWER``, one that left first (Asterisk's order) ``EXIT`` then ``ANSWER``;
an abandoned caller is ``ABANDONED`` only.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque

from agentstatus.domain.history_event import HistoryEvent
from agentstatus.domain.monitor import MonitorIdentity
from agentstatus.events.credentials import Credential
from agentstatus.events.fanout import Dropped, EventFilter, Fanout, OrgFeed, Subscription
from agentstatus.events.monitor_session import MonitorEnded, MonitorMessage, MonitorSession
from agentstatus.events.monitor_state import (
    MonitorState,
    Tagged,
    load,
    message,
    names_now,
    server_time,
)
from agentstatus.service.errors import Unavailable
from agentstatus.wire import monitor_events as wire

log = logging.getLogger(__name__)


class MonitorSubscription(Subscription):
    """One socket's bounded buffer of monitor messages; ``extensions`` narrows it (None:
    all; queue messages reach every socket)."""

    def __init__(self, cursor: int, limit: int, on_lagged: Fanout) -> None:
        super().__init__(EventFilter(), cursor, limit, on_lagged.count_lagged)
        self.extensions: frozenset[int] | None = None
        self._messages: deque[Tagged] = deque()

    def push(self, made: list[Tagged]) -> None:
        if self.dropped is not None:
            return
        only = self.extensions
        for tagged in made:
            wanted = tagged.extension_id
            if only is not None and wanted is not None and wanted not in only:
                continue
            if len(self._messages) >= self.limit:
                self._on_lagged()
                self.drop(Dropped.LAGGED)
                return
            self._messages.append(tagged)
        if self._messages:
            self._ready.set()

    def forget_extensions(self) -> None:
        """Drop the extension messages waiting: a full status just sent supersedes them
        (a queue's stay: the status says nothing of queues)."""
        self._messages = deque(t for t in self._messages if t.extension_id is None)

    def drop(self, reason: Dropped) -> None:
        if self.dropped is None:
            self._messages.clear()
        super().drop(reason)

    async def take(self) -> list[MonitorMessage]:
        while not self._messages and self.dropped is None:
            self._ready.clear()
            await self._ready.wait()
        self.quiet_since = time.monotonic()
        if self.dropped is not None:
            raise MonitorEnded(self.dropped.value)
        taken = [t.message for t in self._messages]
        self._messages.clear()
        return taken


class MonitorFeed:
    """One organisation's monitor state beside its feed (the feed's tap)."""

    def __init__(self, fanout: Fanout, feed: OrgFeed) -> None:
        self._fanout = fanout
        self._feed = feed
        self.state: MonitorState | None = None
        self.sessions: set[MonitorSubscription] = set()
        self._pending: list[HistoryEvent] = []
        """Events read while the state loads or its names are read again (in order)."""
        self._repeats: list[tuple[str, int]] = []
        self._all_status: tuple[tuple[int, wire.ServerTime], MonitorMessage] | None = None
        self._busy: asyncio.Future[None] | None = asyncio.ensure_future(self._load())

    async def ready(self) -> MonitorState:
        """The state, once loaded (raises Unavailable when it cannot be read now)."""
        while self._busy is not None and self.state is None:
            await asyncio.shield(self._busy)  # _load and _rename never raise
        if self.state is None:
            raise Unavailable("the monitor cannot start now; try again")
        return self.state

    async def _load(self) -> None:
        fanout, feed = self._fanout, self._feed
        try:
            loaded = await asyncio.to_thread(load, fanout.engine, fanout.fence, feed.oid)
        except Exception as exc:  # the database away, or no consistent read in time
            log.warning(
                "the monitor state of organisation %d could not be read (%s)",
                feed.oid,
                type(exc).__name__,
            )
            if feed.tap is self:
                feed.tap = None  # the next socket tries again
            return
        finally:
            self._busy = None
        self.state = MonitorState(feed.oid, loaded)
        self._drain()

    async def _rename(self) -> None:
        try:
            names = await asyncio.to_thread(names_now, self._fanout.engine, self._feed.oid)
        except Exception as exc:  # the database away: the events are shown as far as known
            log.warning("could not read the monitor's names again (%s)", type(exc).__name__)
            names = None
        self._busy = None
        if self.state is not None and names is not None:
            self.state.renamed(names)
        self._drain(renamed=True)

    def all_status(self, now: wire.ServerTime) -> MonitorMessage:
        """``AllExtensionsStatus`` of every extension, encoded once for every socket that
        connects (or resyncs) in the same second and state (a thousand sockets reconnect
        together after a network drop)."""
        state = self.state
        assert state is not None
        key = (state.version, now)
        if self._all_status is None or self._all_status[0] != key:
            shaped = wire.all_extensions_status(state.extensions_json(now), now)
            self._all_status = (key, message(wire.ALL_EXTENSIONS_STATUS, shaped))
        return self._all_status[1]

    def take(self, events: list[HistoryEvent]) -> None:
        """The feed's events, in order (``FeedTap``)."""
        self._pending.extend(events)
        if self._busy is None:
            self._drain()

    def repeat(self, user_id: str, at_ms: int) -> None:
        """An identical status set again: announced after the events read before it."""
        self._repeats.append((user_id, at_ms))

    def _drain(self, renamed: bool = False) -> None:
        state = self.state
        if state is None:
            return
        pending, self._pending = self._pending, []
        now = state.now()
        made: list[Tagged] = []
        for index, event in enumerate(pending):
            if event.id <= state.cursor:
                continue
            if not renamed and not state.knows(event):
                # Made after the load: read the names again, then go on from this event.
                self._pending = pending[index:] + self._pending
                self._busy = asyncio.ensure_future(self._rename())
                break
            made += state.apply(event, now)
        else:
            repeats, self._repeats = self._repeats, []
            for user_id, at_ms in repeats:
                made += state.repeated(user_id, at_ms, now)
        if made:
            for session in list(self.sessions):
                session.push(made)


class Session:
    """One monitor socket's view of its organisation (``MonitorSession``, and the answer
    to ``keepalive``)."""

    def __init__(self, feed: MonitorFeed, state: MonitorState, sub: MonitorSubscription) -> None:
        self._feed = feed
        self._state = state
        self._sub = sub
        self._greeting = self._greet()
        """Made as the session attaches: its messages follow exactly this state, however
        late the socket asks for it."""

    def _time(self) -> wire.ServerTime:
        return server_time(self._state.zone)

    def greeting(self) -> list[MonitorMessage]:
        return list(self._greeting)

    def _greet(self) -> list[MonitorMessage]:
        now = self._time()
        return [
            message(wire.LOGIN_SUCCESS, wire.login_success(now)),
            message(wire.LOGIN_STATUS, wire.login_status(self._state.queues(), now)),
            self._all(now),
        ]

    def _all(self, now: wire.ServerTime) -> MonitorMessage:
        if self._sub.extensions is None:
            return self._feed.all_status(now)
        extensions = self._state.extensions_json(now, self._sub.extensions)
        return message(wire.ALL_EXTENSIONS_STATUS, wire.all_extensions_status(extensions, now))

    async def next(self) -> list[MonitorMessage]:
        return await self._sub.take()

    def resync(self) -> list[MonitorMessage]:
        self._sub.forget_extensions()
        return [self._all(self._time())]

    def monitor(self, extensions: str) -> list[MonitorMessage]:
        wanted = [part.strip() for part in extensions.split(",") if part.strip()]
        if not wanted:
            self._sub.extensions = None
        else:
            ids = self._state.extension_ids()
            known = set(ids.values())
            chosen = {ids[w] for w in wanted if w in ids}
            chosen |= {int(w) for w in wanted if w.isascii() and w.isdigit() and int(w) in known}
            self._sub.extensions = frozenset(chosen)
        self._sub.forget_extensions()
        updated = wire.extensions_updated(self._sub.extensions)
        return [message(wire.EXTENSIONS_UPDATED, updated), self._all(self._time())]

    def keepalive(self) -> MonitorMessage:
        """The answer to ``keepalive``: ``keepaliveResponse``."""
        return message(wire.KEEPALIVE_RESPONSE, wire.keepalive_response(self._time()))

    def close(self) -> None:
        self._sub.close()


async def open_monitor_session(
    fanout: Fanout, identity: MonitorIdentity, credential: Credential | None
) -> Session:
    """A monitor socket's session on its organisation's feed. Raises TooMany when the
    credential (or its owner) has its most sockets and streams open here, and Unavailable
    when the organisation's feed or monitor state cannot start now."""
    release = fanout.streams.take(credential)
    try:
        try:
            feed = await fanout.feed(identity.org, identity.org_id)
        except TimeoutError:
            raise Unavailable("the monitor cannot start now; try again") from None
        while True:
            tap = feed.tap
            if not isinstance(tap, MonitorFeed):
                tap = MonitorFeed(fanout, feed)
                feed.tap = tap
            state = await tap.ready()
            if feed.tap is tap:
                break  # (else its last socket closed meanwhile, and the feed let it go)
    except BaseException:
        release()
        raise
    # No await from here: the greeting is the state the session's messages follow.
    sub = MonitorSubscription(feed.cursor, fanout.buffer, fanout)
    sub.credential = credential
    sub.release = release
    tap.sessions.add(sub)
    fanout.attach_unfed(feed, sub)
    on_close = sub.on_close

    def detach() -> None:
        tap.sessions.discard(sub)
        if not tap.sessions and feed.tap is tap:
            feed.tap = None  # no state kept, no message made, for an unwatched organisation
        on_close()

    sub.on_close = detach
    return Session(tap, state, sub)


def status_repeated(fanout: Fanout, org_id: int, user_id: str, at_ms: int) -> None:
    """An agent set the status it was in again (SPEC 3.2: nothing recorded): the
    organisation's monitor sockets on this instance are told, as Voicenter does. Nothing
    happens (no query) for an organisation without monitor sockets here."""
    feed = fanout.existing_feed(org_id)
    if feed is None or not isinstance(feed.tap, MonitorFeed):
        return
    feed.tap.repeat(user_id, at_ms)
    # Its feed reads what was committed before it, then announces it.
    fanout.hub.notify(org_id)


_SESSION_IS_A_MONITOR_SESSION: type[MonitorSession] = Session  # checked by mypy

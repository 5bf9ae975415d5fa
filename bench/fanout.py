"""The fan-out part: many Server-Sent Events subscribers of one agentstatus instance.

One ``agentstatus serve`` process on SQLite with ``agents`` agents (``bench/dataset.py``),
and, in one other process (this one), every subscriber and the producer of changes:

(i)  ``org_subscribers_i`` subscribers of the whole organisation, ``rate_i`` changes/s;
(ii) ``agent_subscribers_ii`` subscribers of one agent each (``?user_id=U``; the agents
     are covered evenly, two subscribers each with the default sizes) plus
     ``org_subscribers_ii`` of the whole organisation, ``rate_ii`` changes/s;
(iii) ``panels_iii`` open agent panels (issue 13): each its own panel link, on the panel's
     stream (``/panel/{org}/api/events``, the link's agent only), the agents covered
     evenly as in (ii), ``rate_iii`` changes/s;
(iv) ``monitor_sockets_iv`` Voicenter monitor sockets of the organisation (issue 25): one
     login (``POST /monitorAPI/Login/Token``), then each a WebSocket at ``/socket.io/``
     speaking Engine.IO 3 as the Events SDK's socket.io 1.3.7 does, ``rate_iv`` changes/s.
     Its snapshot is ``AllExtensionsStatus``; its events ``ExtensionEvent``
     (``userStatusUpdate``: the extension names the agent, ``representativeStatus`` the
     status). Target: p99 within 1.5x of (i)'s, measured in the same run.

Each scenario connects all its subscribers at once and times the first connect to the last
snapshot; then the producer sends changes at a fixed rate (open loop: request k is sent at
``start + k / rate`` whatever the answers do) through ``SetStatusFromAPI`` GET over a pool
of keep-alive connections, walking agents through the shift so that every request is a
real change. The n-th event a subscriber receives for agent U is the n-th change sent for
U (its ``new.status`` is checked against it); its latency is its arrival (the monotonic
time the read that carried it returned) minus the monotonic time the change's OK answer
was read. Producer and subscribers share this process, hence one clock.

Subscribers of (i)-(iii) are raw asyncio streams: an HTTP/1.1 request, the chunked body
decoded by hand, SSE blocks split on blank lines; of an event only ``id``, ``user_id`` and
``new.status`` are read. A subscriber the server disconnects reconnects with
``Last-Event-ID`` (counted). An event for an agent a subscriber did not ask for is counted
as *extra* (the server does not filter) and otherwise ignored.

``python -m bench.fanout [--smoke]`` runs this part alone; ``bench/run.py`` runs it as one
part of ``make bench``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import resource
import shutil
import sys
import tempfile
import time
from array import array
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Engine

from agentstatus.service import panel_links
from agentstatus.service.panel_links import MAX_TTL_SECONDS
from agentstatus.service.tokens import Role, create_token
from agentstatus.storage.migrate import open_database
from bench.checks import Check, verdicts
from bench.dataset import CODE, ORG, SHIFT, USER_BASE, build_sqlite
from bench.harness import OK_MARKER, Server, agentstatus_server, read_answer

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
SCENARIOS = ("i", "ii", "iii", "iv")
HOST = "127.0.0.1"
PRODUCER_POOL = 4
"""Keep-alive connections the producer opens first; it opens more if all are busy."""
READ_SIZE = 256 * 1024
SNAPSHOT_TIMEOUT = 60.0
"""Longest wait for every subscriber's snapshot before the changes start anyway."""
DRAIN_TIMEOUT = 10.0
"""Longest wait, after the last change, for every expected event."""
RECONNECT_PAUSE = 0.2
ANSWER_TIMEOUT = 120.0
"""Longest wait, after the schedule's end, for the answers still outstanding."""


# --- the plan and the results ------------------------------------------------------------


@dataclass(frozen=True)
class FanoutPlan:
    agents: int = 1_000
    org_subscribers_i: int = 1_000
    rate_i: float = 10.0
    agent_subscribers_ii: int = 2_000
    org_subscribers_ii: int = 50
    rate_ii: float = 50.0
    panels_iii: int = 2_000
    rate_iii: float = 50.0
    monitor_sockets_iv: int = 1_000
    rate_iv: float = 10.0
    seconds: float = 25.0
    """The measured window of each scenario."""
    warmup: float = 3.0
    """Changes sent before the window (delivered and counted, not in the latencies)."""

    def scenarios(self) -> list[Scenario]:
        return [
            Scenario("i", self.org_subscribers_i, 0, self.rate_i),
            Scenario("ii", self.org_subscribers_ii, self.agent_subscribers_ii, self.rate_ii),
            Scenario("iii", 0, self.panels_iii, self.rate_iii, panels=True),
            Scenario("iv", self.monitor_sockets_iv, 0, self.rate_iv, monitor=True),
        ]


FULL = FanoutPlan()
SMOKE = FanoutPlan(
    agents=50,
    org_subscribers_i=100,
    rate_i=5.0,
    agent_subscribers_ii=100,
    org_subscribers_ii=5,
    rate_ii=10.0,
    panels_iii=100,
    rate_iii=10.0,
    monitor_sockets_iv=100,
    rate_iv=5.0,
    seconds=1.0,
    warmup=0.5,
)


@dataclass(frozen=True)
class Scenario:
    key: str
    org_subscribers: int
    agent_subscribers: int
    rate: float
    panels: bool = False
    """The one-agent subscribers are agent panels, each with its own link."""
    monitor: bool = False
    """The organisation's subscribers are Voicenter monitor sockets (one login)."""

    @property
    def label(self) -> str:
        if self.monitor:
            return f"({self.key}) {self.org_subscribers:,} monitor sockets, {self.rate:g}/s"
        parts = []
        if self.agent_subscribers:
            kind = "panel" if self.panels else "x one agent"
            parts.append(f"{self.agent_subscribers:,} {kind}")
        if self.org_subscribers:
            parts.append(f"{self.org_subscribers:,} x org")
        return f"({self.key}) {' + '.join(parts)}, {self.rate:g}/s"


@dataclass(frozen=True)
class ScenarioResult:
    key: str
    label: str
    org_subscribers: int
    agent_subscribers: int
    rate: float
    """Changes per second planned."""
    seconds: float
    """The measured window."""
    changes: int
    """Changes sent in the scenario (warm-up and window); every one should be OK."""
    window_changes: int
    non_ok: int
    first_bad: str
    sent_rate: float
    """Changes per second actually sent in the window (the schedule kept or not)."""
    answer_p50_ms: float | None
    answer_p99_ms: float | None
    """The producer's request latency (sent to OK answer): the status path under fan-out."""
    answers_late_s: float
    """From the end of the schedule to the last answer."""
    expected: int
    """(subscriber, event) deliveries expected: every change times its subscribers."""
    delivered: int
    missing: int
    duplicates: int
    """Events received again (an id not above the last one the subscriber had)."""
    mismatched: int
    """Events whose new status is not the one the matched change asked for."""
    unexpected: int
    """Events of a subscribed agent beyond the changes sent for it, or unreadable."""
    extra: int
    """Events of agents the subscriber did not ask for (no filter on the server)."""
    reconnects: int
    """Connection attempts after each subscriber's first (after a drop, a refused
    connection or a non-200 answer)."""
    lagged: int
    """Streams the server dropped for falling behind (a ``lagged`` event, then the end)."""
    connect_errors: int
    bad_answers: int
    """Stream requests answered other than 200 (a reconnect follows)."""
    latency_samples: int
    before_ok: int
    """Events that arrived before their change's OK answer was read (negative latency:
    the answer, not the event, was late)."""
    p50_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    server_cpu_cores: float
    """Server CPU seconds (user + system, every thread) per wall second of the window."""
    load_cpu_cores: float
    """The same for this load process (subscribers and producer)."""
    load_lag_p99_ms: float | None
    """p99 of how late the load process's event loop woke a 10 ms sleep in the window."""
    snapshots: int
    """Subscribers that received their snapshot."""
    snapshot_all_s: float | None
    """From the first connect to the last snapshot; None if one never came."""
    snapshot_p50_s: float | None
    drain_s: float
    """From the last change's answer until every expected event had arrived (or the
    timeout)."""

    @property
    def subscribers(self) -> int:
        return self.org_subscribers + self.agent_subscribers

    @property
    def undelivered(self) -> int:
        """Everything that is not one delivery of one expected event."""
        return self.missing + self.duplicates + self.mismatched + self.unexpected


@dataclass(frozen=True)
class FanoutResult:
    agents: int
    server: str
    scenarios: list[ScenarioResult] = field(default_factory=list)

    def scenario(self, key: str) -> ScenarioResult | None:
        return next((s for s in self.scenarios if s.key == key), None)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FanoutResult:
        names = {f.name for f in fields(ScenarioResult)}
        scenarios = [
            ScenarioResult(**{k: v for k, v in s.items() if k in names}) for s in data["scenarios"]
        ]
        return cls(data["agents"], data["server"], scenarios)


# --- the checks (the targets) -----------------------------------------------------


def _in(
    key: str, figure: Callable[[ScenarioResult], float]
) -> Callable[[FanoutResult], float | None]:
    """A figure of scenario ``key``; None (no verdict) if that scenario did not run."""

    def read(result: FanoutResult) -> float | None:
        scenario = result.scenario(key)
        return None if scenario is None else figure(scenario)

    return read


def _or_inf(value: float | None) -> float:
    return math.inf if value is None else value


def _checks() -> list[Check[FanoutResult]]:
    out: list[Check[FanoutResult]] = []
    for key in SCENARIOS:
        out += [
            Check(
                f"fan-out ({key}): every change answered OK",
                _in(key, lambda s: s.non_ok),
                "<=",
                0,
            ),
            Check(
                f"fan-out ({key}): every event delivered, once",
                _in(key, lambda s: s.undelivered),
                "<=",
                0,
            ),
            Check(
                f"fan-out ({key}): change-to-delivery p99 <= 100 ms",
                _in(key, lambda s: _or_inf(s.p99_ms)),
                "<=",
                100,
                "ms",
            ),
            Check(
                f"fan-out ({key}): every snapshot within 3 s",
                _in(key, lambda s: _or_inf(s.snapshot_all_s)),
                "<=",
                3,
                "s",
            ),
        ]
        if key == "i":
            out.append(
                Check(
                    "fan-out (i): server under half a core",
                    _in(key, lambda s: s.server_cpu_cores),
                    "<",
                    0.5,
                    "core",
                )
            )
    out.append(
        Check(
            "fan-out (iv): monitor p99 within 1.5x of (i)'s SSE",
            _monitor_to_sse,
            "<=",
            1.5,
            "x",
        )
    )
    return out


def _monitor_to_sse(result: FanoutResult) -> float | None:
    """(iv)'s change-to-event p99 over (i)'s, both of this run; None unless both ran."""
    sse, monitor = result.scenario("i"), result.scenario("iv")
    if sse is None or monitor is None:
        return None
    if sse.p99_ms is None or monitor.p99_ms is None:
        return math.inf
    return monitor.p99_ms / max(sse.p99_ms, 1e-9)


CHECKS = _checks()


def targets(result: FanoutResult) -> list[tuple[str, bool]]:
    return verdicts(CHECKS, result)


# --- the subscribers ------------------------------------------------------------------------


class Subscriber:
    __slots__ = (
        "connected",
        "index",
        "last_id",
        "seen",
        "snapshot_at",
        "token",
        "user",
        "user_bytes",
    )

    def __init__(self, index: int, user: int | None, token: str | None = None) -> None:
        self.index = index
        self.user = user
        self.token = token
        """A panel's own link token; None: the run's API token."""
        """Agent number (1-based) this subscriber asked for, or None: the organisation."""
        self.user_bytes = b"" if user is None else str(USER_BASE + user).encode()
        self.last_id = -1
        self.snapshot_at: float | None = None
        self.seen: dict[int, int] = {}
        """Per agent, how many of its events this subscriber has received."""
        self.connected = False


class Counters:
    __slots__ = (
        "bad_answers",
        "connect_errors",
        "delivered",
        "duplicates",
        "extra",
        "lagged",
        "mismatched",
        "reconnects",
        "unexpected",
    )

    def __init__(self) -> None:
        self.delivered = 0
        self.duplicates = 0
        self.mismatched = 0
        self.unexpected = 0
        self.extra = 0
        self.reconnects = 0
        self.connect_errors = 0
        self.bad_answers = 0
        self.lagged = 0


USER_KEY = b'"user_id"'
# (iv): what an ExtensionEvent's text is read for.
REASON_STATUS = b'"reason":"userStatusUpdate"'
EXTEN_USER = b'"extenUser":"'
REPRESENTATIVE_STATUS = b'"representativeStatus":'


class Run:
    """One scenario: its subscribers, its changes, the deliveries seen."""

    def __init__(
        self,
        port: int,
        token: str,
        scenario: Scenario,
        agents: int,
        panels: Sequence[str] = (),
        monitor_token: str = "",
    ) -> None:
        self.port = port
        self.token = token
        self.monitor_token = monitor_token
        """(iv): the socket token of the run's one monitor login."""
        self.scenario = scenario
        self.agents = agents
        self.counters = Counters()
        self.stopping = False
        # Changes, by global index g in sending order.
        self.change_user = array("l")
        self.change_status = array("b")
        self.change_ok = array("d")
        self.window_from = 0
        """Index of the first change of the measured window."""
        self.user_changes: list[list[int]] = [[] for _ in range(agents + 1)]
        # Deliveries: (change index, arrival time).
        self.delivery_change = array("l")
        self.delivery_at = array("d")
        self.subscribers: list[Subscriber] = []
        covered = min(agents, scenario.agent_subscribers)
        for s in range(scenario.agent_subscribers):
            self.subscribers.append(
                Subscriber(s, s % covered + 1, panels[s] if scenario.panels else None)
            )
        for s in range(scenario.org_subscribers):
            self.subscribers.append(Subscriber(scenario.agent_subscribers + s, None))
        self.subscribers_of = [scenario.org_subscribers] * (agents + 1)
        """Per agent, how many subscribers want its events."""
        for sub in self.subscribers:
            if sub.user is not None:
                self.subscribers_of[sub.user] += 1
        self.expected_total = 0

    # The stream.

    def _request(self, sub: Subscriber) -> bytes:
        target = f"/api/v1/orgs/{ORG}/events"
        if sub.token is not None:
            target = f"/panel/{ORG}/api/events"  # the link names the agent
        elif sub.user is not None:
            target += f"?user_id={USER_BASE + sub.user}"
        resume = f"Last-Event-ID: {sub.last_id}\r\n" if sub.snapshot_at is not None else ""
        return (
            f"GET {target} HTTP/1.1\r\nHost: {HOST}:{self.port}\r\n"
            f"Authorization: Bearer {sub.token or self.token}\r\nAccept: text/event-stream\r\n"
            f"{resume}\r\n"
        ).encode()

    async def subscribe(self, sub: Subscriber) -> None:
        """Until cancelled: connect, read, and reconnect whenever the stream ends (at
        once, unless the last stream lasted under a second: then after a pause)."""
        if self.scenario.monitor:
            await self._monitor(sub)
            return
        connected_at: float | None = None
        while not self.stopping:
            if connected_at is not None:
                self.counters.reconnects += 1
                if time.monotonic() - connected_at < 1.0:
                    await asyncio.sleep(RECONNECT_PAUSE)
            connected_at = time.monotonic()
            try:
                reader, writer = await asyncio.open_connection(HOST, self.port, limit=READ_SIZE)
            except OSError:
                self.counters.connect_errors += 1
                continue
            try:
                writer.write(self._request(sub))
                head = await reader.readuntil(b"\r\n\r\n")
                status_line, _, headers = head.partition(b"\r\n")
                if status_line.split()[1] != b"200":
                    self.counters.bad_answers += 1
                    continue
                sub.connected = True
                chunked = b"transfer-encoding: chunked" in headers.lower()
                await self._read_stream(sub, reader, chunked)
            except (OSError, ValueError, IndexError, EOFError, asyncio.LimitOverrunError):
                pass  # dropped, or unreadable framing: reconnect
            finally:
                sub.connected = False
                writer.close()

    async def _read_stream(
        self, sub: Subscriber, reader: asyncio.StreamReader, chunked: bool
    ) -> None:
        raw = bytearray()  # chunked framing not yet decoded
        body = bytearray()  # decoded: SSE text not yet split into blocks
        monotonic = time.monotonic
        ended = False
        while not ended:
            data = await reader.read(READ_SIZE)
            if not data:
                return
            now = monotonic()
            if chunked:
                raw += data
                pos = 0
                while True:
                    eol = raw.find(b"\r\n", pos)
                    if eol < 0:
                        break
                    size = int(raw[pos:eol].split(b";", 1)[0], 16)
                    if size == 0:
                        ended = True  # the server ended the stream (after these events)
                        break
                    end = eol + 2 + size
                    if len(raw) < end + 2:
                        break
                    body += raw[eol + 2 : end]
                    pos = end + 2
                if pos:
                    del raw[:pos]
            else:
                body += data
            start = 0
            while True:
                sep = body.find(b"\n\n", start)
                if sep < 0:
                    break
                self._on_block(sub, bytes(body[start:sep]), now)
                start = sep + 2
            if start:
                del body[:start]

    def _on_block(self, sub: Subscriber, block: bytes, now: float) -> None:
        event_id = -1
        kind = b""
        data = b""
        for line in block.split(b"\n"):
            name, _, value = line.partition(b":")
            if value[:1] == b" ":
                value = value[1:]
            if name == b"id":
                event_id = int(value)
            elif name == b"event":
                kind = value
            elif name == b"data":
                data = value
        if not kind:
            return  # retry:, a comment (keepalive)
        counters = self.counters
        if kind == b"snapshot":
            if sub.snapshot_at is None:
                sub.snapshot_at = now
            sub.last_id = event_id
            return
        if not kind.startswith(b"agent."):
            # ``lagged``: the server drops this stream for falling behind; it ends next
            # and is resumed from the last event received. Other kinds are not changes.
            if kind == b"lagged":
                counters.lagged += 1
            return
        if event_id <= sub.last_id:
            counters.duplicates += 1
            return
        sub.last_id = event_id
        if sub.user is not None:
            # Cheap: an event of another agent is only counted, not parsed. The value is
            # the string after the key (the first quote after it opens it).
            opening = data.find(b'"', data.find(USER_KEY) + len(USER_KEY))
            if data[opening + 1 : data.find(b'"', opening + 1)] != sub.user_bytes:
                counters.extra += 1
                return
        try:
            event = orjson.loads(data)
            user = int(event["user_id"]) - USER_BASE
            status = event["new"]["status"]
        except (ValueError, KeyError, TypeError):
            counters.unexpected += 1
            return
        self._deliver(sub, user, status, now)

    def _deliver(self, sub: Subscriber, user: int, status: int, now: float) -> None:
        """The n-th event for ``user`` this subscriber got is the n-th change sent for it."""
        counters = self.counters
        n = sub.seen.get(user, 0)
        sub.seen[user] = n + 1
        changes = self.user_changes[user] if 0 < user <= self.agents else []
        if n >= len(changes):
            counters.unexpected += 1
            return
        g = changes[n]
        if self.change_status[g] != status:
            counters.mismatched += 1
        self.delivery_change.append(g)
        self.delivery_at.append(now)
        counters.delivered += 1

    # (iv): a Voicenter monitor socket, Engine.IO 3 over a WebSocket, as the Events SDK's
    # socket.io 1.3.7 speaks it: the server's open packet ("0{...}") and namespace connect
    # ("40"), then events as '42["<name>",<payload>]'; the client pings ("2") within the
    # server's ping interval and the server answers "3". Like the SSE subscribers, a raw
    # asyncio stream: the WebSocket handshake and frames by hand (RFC 6455; the server's
    # frames are unmasked, the client's masked), and of an ExtensionEvent only the
    # extension and the status are read (the server's cost is measured, not a client's).

    async def _monitor(self, sub: Subscriber) -> None:
        connected_at: float | None = None
        while not self.stopping:
            if connected_at is not None:
                self.counters.reconnects += 1
                if time.monotonic() - connected_at < 1.0:
                    await asyncio.sleep(RECONNECT_PAUSE)
            connected_at = time.monotonic()
            try:
                reader, writer = await asyncio.open_connection(HOST, self.port, limit=READ_SIZE)
            except OSError:
                self.counters.connect_errors += 1
                continue
            pinger: asyncio.Task[None] | None = None
            try:
                writer.write(self._upgrade())
                head = await reader.readuntil(b"\r\n\r\n")
                if head.split()[1] != b"101":
                    self.counters.bad_answers += 1
                    continue
                sub.connected = True
                async for text in _ws_texts(reader):
                    if text[:2] == b"42":
                        self._on_monitor_event(sub, text, time.monotonic())
                    elif text[:1] == b"0" and pinger is None:  # open: ping in time
                        interval = orjson.loads(text[1:])["pingInterval"] / 1000
                        pinger = asyncio.create_task(_eio3_pings(writer, interval))
            except (OSError, ValueError, IndexError, EOFError, asyncio.LimitOverrunError):
                pass  # dropped, or unreadable framing: reconnect
            finally:
                sub.connected = False
                if pinger is not None:
                    pinger.cancel()
                writer.close()

    def _upgrade(self) -> bytes:
        return (
            f"GET /socket.io/?token={self.monitor_token}&EIO=3&transport=websocket HTTP/1.1\r\n"
            f"Host: {HOST}:{self.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: YWdlbnRzdGF0dXMtYmVuYw==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()

    def _on_monitor_event(self, sub: Subscriber, text: bytes, now: float) -> None:
        if text.startswith(b'42["AllExtensionsStatus"'):
            if sub.snapshot_at is None:
                sub.snapshot_at = now
            return
        if not text.startswith(b'42["ExtensionEvent"') or REASON_STATUS not in text:
            return
        try:
            at = text.index(EXTEN_USER) + len(EXTEN_USER)
            user = int(text[at : text.index(b'"', at)].removeprefix(b"sip")) - USER_BASE
            at = text.index(REPRESENTATIVE_STATUS) + len(REPRESENTATIVE_STATUS)
            status = int(text[at : text.index(b",", at)])
        except ValueError:
            self.counters.unexpected += 1
            return
        self._deliver(sub, user, status, now)

    # The producer.

    def add_change(self, user: int, status: int) -> int:
        g = len(self.change_user)
        self.change_user.append(user)
        self.change_status.append(status)
        self.change_ok.append(math.nan)
        self.user_changes[user].append(g)
        self.expected_total += self.subscribers_of[user]
        return g


async def _eio3_pings(writer: asyncio.StreamWriter, interval: float) -> None:
    """An Engine.IO 3 client's pings ("2", a masked text frame), a little inside the
    server's interval."""
    mask = b"\x00\x00\x00\x00"  # a zero mask leaves the payload as it is
    ping = bytes([0x81, 0x80 | 1]) + mask + b"2"
    try:
        while True:
            await asyncio.sleep(interval * 0.8)
            writer.write(ping)
    except Exception:  # the socket closed: its reader reconnects
        return


async def _ws_texts(reader: asyncio.StreamReader) -> AsyncIterator[bytes]:
    """The text messages of a server's WebSocket frames (unfragmented, as it sends them);
    ends at a close frame."""
    while True:
        first, second = await reader.readexactly(2)
        size = second & 0x7F
        if size == 126:
            size = int.from_bytes(await reader.readexactly(2))
        elif size == 127:
            size = int.from_bytes(await reader.readexactly(8))
        payload = await reader.readexactly(size)
        opcode = first & 0x0F
        if opcode == 0x8:
            return
        if opcode == 0x1:
            yield payload


@dataclass
class Walk:
    """Where each agent is in its shift, kept across scenarios (the server remembers)."""

    agents: int
    steps: list[int] = field(default_factory=list)
    next_agent: int = 0

    def __post_init__(self) -> None:
        self.steps = [0] * (self.agents + 1)  # everybody starts logged out

    def next_change(self, covered: int) -> tuple[int, int]:
        """(agent, status): the next agent round-robin among the first ``covered``, and
        the next step of its shift (always a change: consecutive steps differ, and step
        0 is a login from logged out)."""
        agent = self.next_agent % covered + 1
        self.next_agent += 1
        status = SHIFT[self.steps[agent] % len(SHIFT)]
        self.steps[agent] += 1
        return agent, status


def _change_request(port: int, agent: int, status: int) -> bytes:
    user = USER_BASE + agent
    return (
        f"GET /UserLogin/SetStatusFromAPI?Code={CODE}&UserId={user}&ExtensionUser=sip{user}"
        f"&Status={status} HTTP/1.1\r\nHost: {HOST}:{port}\r\n\r\n"
    ).encode()


Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class Producer:
    def __init__(self, run: Run, walk: Walk) -> None:
        self.run = run
        self.walk = walk
        self.idle: deque[Connection] = deque()
        self.non_ok = 0
        self.first_bad = ""
        self.answered = 0
        self.last_answer_at = 0.0
        self.answer_ms: list[float] = []

    async def _connect(self) -> Connection:
        return await asyncio.open_connection(HOST, self.run.port)

    async def open(self) -> None:
        for _ in range(PRODUCER_POOL):
            self.idle.append(await self._connect())

    def close(self) -> None:
        while self.idle:
            self.idle.popleft()[1].close()

    async def _send(self, g: int, request: bytes) -> None:
        for attempt in (1, 2):
            # FIFO, so that every pooled connection is used often and none idles into
            # the server's keep-alive timeout.
            conn = self.idle.popleft() if self.idle else await self._connect()
            reader, writer = conn
            try:
                sent = time.monotonic()
                writer.write(request)
                status, body = await read_answer(reader)
            except (OSError, asyncio.IncompleteReadError):
                writer.close()
                if attempt == 2:
                    raise
                # The server had closed it. A repeated change is harmless: the same
                # status on the same extension is OK and records nothing.
                continue
            except asyncio.CancelledError:  # no answer in time: the connection is dropped
                writer.close()
                raise
            now = time.monotonic()
            self.idle.append(conn)
            self.answered += 1
            self.last_answer_at = now
            self.answer_ms.append((now - sent) * 1000)
            if status == 200 and OK_MARKER in body:
                self.run.change_ok[g] = now
            else:
                self.non_ok += 1
                self.first_bad = self.first_bad or f"{status} {body.decode(errors='replace')}"
            return

    async def produce(
        self, rate: float, warmup: float, seconds: float, pid: int, lag: LoopLag
    ) -> Window:
        """Open loop: change k is sent at ``start + k / rate``. Returns the measured
        window's CPU readings."""
        covered = min(self.walk.agents, self.run.scenario.agent_subscribers or self.walk.agents)
        warm = round(warmup * rate)
        total = warm + max(1, round(seconds * rate))
        tasks: set[asyncio.Task[None]] = set()
        failures: list[BaseException] = []

        def done(task: asyncio.Task[None]) -> None:
            tasks.discard(task)
            if not task.cancelled() and task.exception() is not None:
                failures.append(task.exception())  # type: ignore[arg-type]

        start = time.monotonic() + 0.05
        window = Window()
        for k in range(total + 1):
            delay = start + k / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            if k == warm:
                self.run.window_from = len(self.run.change_user)
                window.begin(pid)
                lag.measuring = True
            if k == total:
                window.end(pid)
                lag.measuring = False
                break
            agent, status = self.walk.next_change(covered)
            g = self.run.add_change(agent, status)
            task = asyncio.create_task(self._send(g, _change_request(self.run.port, agent, status)))
            tasks.add(task)
            task.add_done_callback(done)
        if tasks:
            _done, late = await asyncio.wait(tasks, timeout=ANSWER_TIMEOUT)
            for task in late:  # never answered: non-OK
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
            if late:
                self.first_bad = self.first_bad or (
                    f"{len(late)} changes unanswered {ANSWER_TIMEOUT:g} s after the schedule"
                )
        if failures:  # no answer at all: counted as non-OK (its OK time stays NaN)
            self.first_bad = self.first_bad or repr(failures[0])
        return window


def _process_cpu_s(pid: int) -> float:
    stat = Path(f"/proc/{pid}/stat").read_text()
    after_name = stat[stat.rindex(")") + 2 :].split()
    # Fields 14 and 15 of proc(5): utime and stime, in clock ticks; after the name the
    # list starts at field 3.
    return (int(after_name[11]) + int(after_name[12])) / CLOCK_TICKS


def _self_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Window:
    started: float = 0.0
    ended: float = 0.0
    server_cpu: float = 0.0
    load_cpu: float = 0.0

    def begin(self, pid: int) -> None:
        self.started = time.monotonic()
        self.server_cpu = -_process_cpu_s(pid)
        self.load_cpu = -_self_cpu_s()

    def end(self, pid: int) -> None:
        self.ended = time.monotonic()
        self.server_cpu += _process_cpu_s(pid)
        self.load_cpu += _self_cpu_s()

    @property
    def wall(self) -> float:
        return max(self.ended - self.started, 1e-9)


class LoopLag:
    """How late this process's event loop wakes a 10 ms sleep: a busy load process
    delays every arrival it timestamps, and this shows by how much."""

    TICK = 0.01

    def __init__(self) -> None:
        self.measuring = False
        self.samples: list[float] = []

    async def watch(self) -> None:
        while True:
            before = time.monotonic()
            await asyncio.sleep(self.TICK)
            if self.measuring:
                self.samples.append(time.monotonic() - before - self.TICK)

    def p99_ms(self) -> float | None:
        value = _percentile(sorted(self.samples), 0.99)
        return None if value is None else max(0.0, value) * 1000


def _percentile(ordered: Sequence[float], p: float) -> float | None:
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


async def run_scenario(
    server: Server,
    token: str,
    scenario: Scenario,
    walk: Walk,
    plan: FanoutPlan,
    panels: Sequence[str] = (),
    monitor_token: str = "",
) -> ScenarioResult:
    assert server.process is not None
    pid = server.process.pid
    run = Run(server.port, token, scenario, plan.agents, panels, monitor_token)
    producer = Producer(run, walk)

    connect_started = time.monotonic()
    tasks = [asyncio.create_task(run.subscribe(sub)) for sub in run.subscribers]
    snapshot_times = await _snapshots(run, connect_started)
    _log(
        f"fan-out ({scenario.key}): {len(snapshot_times):,}/{len(run.subscribers):,} snapshots"
        f" in {time.monotonic() - connect_started:.2f} s; changes for"
        f" {plan.warmup + plan.seconds:.0f} s"
    )

    lag = LoopLag()
    lag_task = asyncio.create_task(lag.watch())
    try:
        await producer.open()
        window = await producer.produce(scenario.rate, plan.warmup, plan.seconds, pid, lag)
        answered_at = producer.last_answer_at or time.monotonic()
        drain_deadline = time.monotonic() + DRAIN_TIMEOUT
        while run.counters.delivered < run.expected_total and time.monotonic() < drain_deadline:
            await asyncio.sleep(0.01)
        drained = time.monotonic() - answered_at
    finally:
        run.stopping = True
        lag_task.cancel()
        closing = time.monotonic()
        for task in tasks:
            task.cancel()
        await asyncio.gather(lag_task, *tasks, return_exceptions=True)
        producer.close()
    _log(
        f"fan-out ({scenario.key}): drained {drained:.2f} s after the last answer; "
        f"subscribers closed in {time.monotonic() - closing:.2f} s"
    )

    return _scenario_result(scenario, run, producer, window, lag, snapshot_times, drained)


async def _snapshots(run: Run, connect_started: float) -> list[float]:
    """Seconds from the start of the connections to each subscriber's snapshot, sorted;
    waiting at most ``SNAPSHOT_TIMEOUT`` for them all."""
    deadline = connect_started + SNAPSHOT_TIMEOUT
    while time.monotonic() < deadline:
        if all(sub.snapshot_at is not None for sub in run.subscribers):
            break
        await asyncio.sleep(0.01)
    return sorted(sub.snapshot_at - connect_started for sub in run.subscribers if sub.snapshot_at)


def _scenario_result(
    scenario: Scenario,
    run: Run,
    producer: Producer,
    window: Window,
    lag: LoopLag,
    snapshot_times: list[float],
    drained: float,
) -> ScenarioResult:
    complete = len(snapshot_times) == len(run.subscribers)
    latencies = sorted(
        (at - run.change_ok[g]) * 1000
        for g, at in zip(run.delivery_change, run.delivery_at, strict=True)
        if g >= run.window_from and not math.isnan(run.change_ok[g])
    )
    answers = sorted(producer.answer_ms)
    c = run.counters
    window_changes = len(run.change_user) - run.window_from
    return ScenarioResult(
        key=scenario.key,
        label=scenario.label,
        org_subscribers=scenario.org_subscribers,
        agent_subscribers=scenario.agent_subscribers,
        rate=scenario.rate,
        seconds=window.wall,
        changes=len(run.change_user),
        window_changes=window_changes,
        non_ok=sum(1 for ok_at in run.change_ok if math.isnan(ok_at)),
        first_bad=producer.first_bad,
        sent_rate=window_changes / window.wall,
        answer_p50_ms=_percentile(answers, 0.5),
        answer_p99_ms=_percentile(answers, 0.99),
        answers_late_s=max(0.0, producer.last_answer_at - window.ended),
        expected=run.expected_total,
        delivered=c.delivered,
        missing=max(0, run.expected_total - c.delivered),
        duplicates=c.duplicates,
        mismatched=c.mismatched,
        unexpected=c.unexpected,
        extra=c.extra,
        reconnects=c.reconnects,
        lagged=c.lagged,
        connect_errors=c.connect_errors,
        bad_answers=c.bad_answers,
        latency_samples=len(latencies),
        before_ok=sum(1 for x in latencies if x < 0),
        p50_ms=_percentile(latencies, 0.50),
        p99_ms=_percentile(latencies, 0.99),
        max_ms=latencies[-1] if latencies else None,
        server_cpu_cores=window.server_cpu / window.wall,
        load_cpu_cores=window.load_cpu / window.wall,
        load_lag_p99_ms=lag.p99_ms(),
        snapshots=len(snapshot_times),
        snapshot_all_s=snapshot_times[-1] if complete and snapshot_times else None,
        snapshot_p50_s=_percentile(snapshot_times, 0.5),
        drain_s=drained,
    )


# --- the part ----------------------------------------------------------------------------


def raise_fd_limit(needed: int) -> int:
    """Raise this process's soft limit on open files (children, the server among them,
    inherit it); returns the limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        soft = want
    return soft


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _panel_links(engine: Engine, plan: FanoutPlan) -> list[str]:
    """One link per panel of (iii), for the agent its subscriber follows (as ``Run``
    assigns them: panel s follows agent ``s % covered + 1``)."""
    covered = min(plan.agents, plan.panels_iii)
    return [
        panel_links.create_link(
            engine, ORG, str(USER_BASE + s % covered + 1), None, MAX_TTL_SECONDS
        ).token
        for s in range(plan.panels_iii)
    ]


def _monitor_login(port: int, api_token: str) -> str:
    """(iv)'s one monitor login, as the Events SDK makes it: its socket token."""
    import httpx

    answer = httpx.post(
        f"http://{HOST}:{port}/monitorAPI/Login/Token", json={"token": api_token}, timeout=30
    )
    answer.raise_for_status()
    return str(answer.json()["Data"]["Socket"]["Token"])


def run_fanout(
    plan: FanoutPlan, workdir: Path, *, scenarios: Sequence[str] = SCENARIOS
) -> FanoutResult:
    """Build the data set, start one agentstatus (its own process), run the scenarios
    one after the other on it from this process, and stop it."""
    import uvloop

    chosen = [s for s in plan.scenarios() if s.key in scenarios]
    most = max((s.org_subscribers + s.agent_subscribers for s in chosen), default=0)
    limit = raise_fd_limit(2 * most + 1024)
    if limit < most + 256:
        raise RuntimeError(f"the open-files limit ({limit}) is too low for {most} subscribers")
    path = workdir / "fanout.db"
    build_sqlite(path, plan.agents)
    engine = open_database(f"sqlite:///{path}")
    try:
        token = create_token(engine, Role.SUPERVISOR, ORG, label="bench fan-out").token
        panels = _panel_links(engine, plan) if "iii" in scenarios else []
    finally:
        engine.dispose()
    server = agentstatus_server("agentstatus-fanout", f"sqlite:///{path}", workdir)
    # Every subscriber here shares one token (thousands of boards and panels, one harness):
    # the per-token cap of streams (issue 11) is lifted for it.
    server.env["AGENTSTATUS_EVENTS_STREAMS_PER_TOKEN"] = "0"  # noqa: S105 - a count
    result = FanoutResult(agents=plan.agents, server=server.name)
    try:
        server.start()
        monitor_token = _monitor_login(server.port, token) if "iv" in scenarios else ""
        walk = Walk(plan.agents)
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            for scenario in chosen:
                _log(f"fan-out {scenario.label}: connecting")
                done = runner.run(
                    run_scenario(server, token, scenario, walk, plan, panels, monitor_token)
                )
                result.scenarios.append(done)
                _log(
                    f"fan-out {scenario.label}: delivered {done.delivered:,}/{done.expected:,},"
                    f" p99 {_ms(done.p99_ms)} ms, server CPU {done.server_cpu_cores:.2f},"
                    f" snapshots {_s(done.snapshot_all_s)} s, extra {done.extra:,}"
                )
                runner.run(asyncio.sleep(1.0))  # the server lets the closed streams go
    finally:
        server.stop()
    return result


# --- the report ---------------------------------------------------------------------------


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _s(value: float | None) -> str:
    return "never" if value is None else f"{value:.2f}"


def table(result: FanoutResult) -> str:
    lines = [
        f"fan-out: one agentstatus on SQLite, {result.agents:,} agents; subscribers and the "
        "producer in one other process"
    ]
    header = (
        f"{'scenario':<38} | {'changes':>7} | {'delivered/expected':>19} | {'p50 ms':>6} | "
        f"{'p99 ms':>6} | {'max ms':>7} | {'server CPU':>10} | {'snapshots':>9} | "
        f"{'extra':>9} | {'reconn':>6}"
    )
    lines += [header, "-" * len(header)]
    for s in result.scenarios:
        delivered = f"{s.delivered:,}/{s.expected:,}"
        lines.append(
            f"{s.label:<38} | {s.window_changes:>7,} | {delivered:>19} | {_ms(s.p50_ms):>6} | "
            f"{_ms(s.p99_ms):>6} | {_ms(s.max_ms):>7} | {s.server_cpu_cores:>10.2f} | "
            f"{_s(s.snapshot_all_s):>9} | {s.extra:>9,} | {s.reconnects:>6}"
        )
    for s in result.scenarios:
        k = f"  ({s.key})"
        lines += [
            f"{k} changes: {s.seconds:.1f} s window, {s.sent_rate:.1f}/s sent ({s.changes:,} "
            f"with the warm-up), non-OK {s.non_ok}; answered in p50 {_ms(s.answer_p50_ms)} ms, "
            f"p99 {_ms(s.answer_p99_ms)} ms, the last {s.answers_late_s:.2f} s after the "
            "schedule's end",
            f"{k} events: missing {s.missing:,}, duplicated {s.duplicates:,}, mismatched "
            f"{s.mismatched:,}, unexpected {s.unexpected:,}, before their OK answer "
            f"{s.before_ok:,}; all in {s.drain_s:.2f} s after the last answer",
            f"{k} streams: snapshots {s.snapshots:,}/{s.subscribers:,} (median "
            f"{_s(s.snapshot_p50_s)} s), connect errors {s.connect_errors}, non-200 "
            f"{s.bad_answers}, dropped as lagged {s.lagged}, reconnects {s.reconnects}; load "
            "process CPU "
            f"{s.load_cpu_cores:.2f}, its loop late by {_ms(s.load_lag_p99_ms)} ms at p99",
        ]
        if s.first_bad:
            lines.append(f"  ({s.key}) first non-OK answer: {s.first_bad[:200]}")
    lines.append("")
    lines.append(f"{'fan-out check':<52} {'figure':>10}  {'target':<12}")
    for check in CHECKS:
        value = check.value(result)
        if value is None:
            continue
        verdict = "MET" if check.met(value) else "NOT MET"
        figure = (
            f"{value:,.0f}" if math.isfinite(value) and value == int(value) else f"{value:,.2f}"
        )
        lines.append(f"{check.name:<52} {figure:>10}  {check.bound():<12}  {verdict}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.fanout", description="The fan-out part of the benchmark alone."
    )
    parser.add_argument("--smoke", action="store_true", help="tiny numbers (seconds)")
    parser.add_argument("--seconds", type=float, help="measured window of each scenario")
    parser.add_argument("--warmup", type=float, help="seconds of changes before the window")
    parser.add_argument("--only", choices=SCENARIOS, help="run one scenario")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args(argv)
    plan = SMOKE if args.smoke else FULL
    changes: dict[str, float] = {}
    if args.seconds:
        changes["seconds"] = args.seconds
    if args.warmup is not None:
        changes["warmup"] = args.warmup
    plan = FanoutPlan(**{**asdict(plan), **changes})
    workdir = Path(tempfile.mkdtemp(prefix="agentstatus-fanout-"))
    try:
        result = run_fanout(plan, workdir, scenarios=[args.only] if args.only else SCENARIOS)
    finally:
        if args.keep:
            _log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(result.to_json(), indent=2) + "\n")
    print(table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

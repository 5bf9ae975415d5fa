"""The failed-authentication limiter of SPEC.md section 6.

Each client (an IPv4 address; an IPv6 /64, which one subscriber usually holds whole) may
fail ``limit`` times in a window that opens at its first failure; after that it is answered
429 until the window closes, even with a correct Code.

The allowance holds under bursts: a lookup whose outcome is not known yet holds one of the
allowance while it runs, so at most ``limit`` lookups of one client are ever evaluated in a
window by one instance, however many arrive at once. Requests beyond the allowance wait
for the outstanding lookups to settle (at most ``max_wait_seconds``) rather than being
refused. A Code that has already authenticated from a client is not a guess when that
client sends it again: such lookups hold nothing and never wait, so a CRM sending hundreds
of concurrent requests with its Code is not slowed.

On PostgreSQL the counts are shared (``shared``, see ``storage.auth_failures``): every
failure is counted in the database too, which answers the count of every instance, and
the instances tell each other. Nothing of it is on the path of a request that succeeds.

Cost and memory are bounded whatever the number of clients: windows open in time order,
so the expired ones are popped from the front of a queue; at ``max_addresses`` the oldest
window is forgotten early (on PostgreSQL the shared count remembers it).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ipaddress
import math
import os
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from functools import lru_cache
from typing import NamedTuple, Protocol

from agentstatus.wire.outcomes import Row

WINDOW_SECONDS = 60.0
MAX_ADDRESSES = 100_000
"""Clients with an open window (and, separately, clients with a trusted Code) tracked at
most; beyond it the oldest is forgotten."""
CODES_PER_ADDRESS = 16
"""Codes remembered as trusted per client (a proxy may speak for several organisations)."""
_OPAQUE_KEY = 64


@lru_cache(maxsize=4096)
def client_key(address: str) -> str:
    """What the limiter counts for ``address``: the IPv4 address itself (also for an
    IPv4-mapped IPv6 address), the /64 of an IPv6 address (a subscriber is given a whole
    /64 and may use every address in it), anything else as it is."""
    if ":" not in address:
        return address if len(address) <= _OPAQUE_KEY else _opaque(address)
    try:
        ip = ipaddress.IPv6Address(address)
    except ValueError:
        return address if len(address) <= _OPAQUE_KEY else _opaque(address)
    if ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ipaddress.IPv6Network((int(ip) >> 64 << 64, 64)))


def _opaque(address: str) -> str:
    # Keys are stored in a VARCHAR(64) and sent in notifications: keep them short.
    return "#" + hashlib.sha256(address.encode("utf-8", "surrogatepass")).hexdigest()[:40]


class SharedCounts(Protocol):
    """The failure counts of every instance on one database (``storage.auth_failures``)."""

    def record(self, key: str) -> Awaitable[None]:
        """Count one failure of ``key``; done when the shared count has come back (it is
        reported through ``FailedAuthLimiter.report``)."""

    def refresh(self, key: str) -> Awaitable[None]:
        """Read the shared count of ``key`` now; done when it has been reported."""


class Refusal(NamedTuple):
    """The request is answered with ``row`` (5: blocked; 11: waited too long) at once."""

    row: Row
    retry_after: int


class Ticket:
    """A request let through the limiter; settle it with ``authenticated``, ``failed`` or
    ``abandoned`` once its outcome is known."""

    __slots__ = ("key", "reserved", "tag")

    def __init__(self, key: str | None, tag: bytes, reserved: bool) -> None:
        self.key = key
        self.tag = tag
        self.reserved = reserved
        """True when the lookup holds one of the allowance until it settles."""


UNLIMITED = Ticket(None, b"", False)
"""The ticket of a request without a client address, or with the limiter off."""


class _Window:
    """Failures of one client in a window; replaced, never reopened, so that the queue of
    windows can tell a current entry from a stale one by identity."""

    __slots__ = ("expires", "failures", "key", "opened")

    def __init__(self, key: str, expires: float, failures: int, opened: int | None) -> None:
        self.key = key
        self.expires = expires
        self.failures = failures
        self.opened = opened
        """When the shared window opened (database milliseconds); None until known."""


class _Trust:
    __slots__ = ("expires", "tags")

    def __init__(self, expires: float) -> None:
        self.expires = expires
        self.tags: list[bytes] = []


class _Waiter(NamedTuple):
    future: asyncio.Future[Ticket | Refusal]
    tag: bytes


class _Pending:
    """Lookups of one client whose outcome is not known yet, and requests waiting."""

    __slots__ = ("held", "unsettled", "waiters")

    def __init__(self) -> None:
        self.unsettled = 0
        self.held = 0
        """Failures already counted locally that still hold their share until the shared
        count comes back (PostgreSQL only)."""
        self.waiters: deque[_Waiter] = deque()


class FailedAuthLimiter:
    def __init__(
        self,
        limit: int = 20,
        window_seconds: float = WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        *,
        max_wait_seconds: float = 5.0,
        max_addresses: int = MAX_ADDRESSES,
        shared: SharedCounts | None = None,
    ) -> None:
        self.limit = limit
        self.window = window_seconds
        self.max_wait = max_wait_seconds
        self.max_addresses = max(1, max_addresses)
        self.evicted = 0
        """Windows forgotten early because ``max_addresses`` were open."""
        self._clock = clock
        self._shared = shared
        self._instances = 1
        self._windows: dict[str, _Window] = {}
        # In the order the windows were opened, so (nearly) in the order they close: the
        # expired ones are at the front. Stale entries (replaced windows) are skipped.
        self._order: deque[_Window] = deque()
        self._trusted: OrderedDict[str, _Trust] = OrderedDict()
        self._pending: dict[str, _Pending] = {}
        # Codes are remembered by a keyed digest: nothing here could be matched against
        # the stored SHA-256 digests, nor leak a Code.
        self._secret = os.urandom(16)

    # -- the pipeline's calls ----------------------------------------------------------

    async def admit(self, address: str | None, code: str) -> Ticket | Refusal:
        """Let a request with ``code`` from ``address`` be looked up, or refuse it."""
        if address is None or self.limit <= 0:
            return UNLIMITED
        key = client_key(address)
        now = self._clock()
        self._expire(now)
        window = self._live_window(key, now)
        if window is not None and window.failures >= self.limit:
            return self._blocked(window, now)
        tag = hashlib.blake2b(
            code.encode("utf-8", "surrogatepass"), key=self._secret, digest_size=16
        ).digest()
        if self._is_trusted(key, tag, now):
            return Ticket(key, tag, False)
        if (
            self._shared is not None
            and window is not None
            and window.failures > self.limit - self._instances
        ):
            # Close to the limit and more than one instance: the others may have failed
            # since we last heard. One read, only for a client that has nearly used its
            # allowance and sends a Code that has not worked from it.
            await self._refresh(key)
            now = self._clock()
            window = self._live_window(key, now)
            if window is not None and window.failures >= self.limit:
                return self._blocked(window, now)
        pending = self._pending.get(key)
        if pending is None:
            pending = self._pending[key] = _Pending()
        if self._may_start(pending, window.failures if window else 0):
            pending.unsettled += 1
            return Ticket(key, tag, True)
        return await self._wait(key, tag, pending)

    def authenticated(self, ticket: Ticket) -> None:
        """The Code was right (any row but 6 and 11): it is trusted from this client."""
        key = ticket.key
        if key is None:
            return
        now = self._clock()
        newly = self._trust(key, ticket.tag, now)
        pending = self._pending.get(key)
        if pending is None:
            return
        if ticket.reserved:
            pending.unsettled -= 1
        if newly:
            self._release_trusted(pending, key, ticket.tag)
        self._pump(key, pending, now)

    async def failed(self, ticket: Ticket) -> None:
        """Row 6: one failure of the client. On PostgreSQL it returns once the shared count
        has come back, so that the answer is sent after every instance can know of it."""
        key = ticket.key
        if key is None:
            return
        now = self._clock()
        self._expire(now)
        window = self._live_window(key, now)
        if window is None:
            window = self._open(key, now + self.window, 0, None)
        window.failures += 1
        pending = self._pending.get(key)
        if ticket.reserved and pending is not None:
            pending.unsettled -= 1
            if self._shared is not None:
                pending.held += 1
        if pending is not None:
            self._pump(key, pending, now)
        if self._shared is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(self._shared.record(key)), self.max_wait)
        except TimeoutError:
            pass  # answered anyway: the local count holds
        finally:
            if ticket.reserved and pending is not None:
                pending.held -= 1
                self._pump(key, pending, self._clock())

    def abandoned(self, ticket: Ticket) -> None:
        """The outcome is unknown (row 11, an error, a cancelled request): nothing counts."""
        key = ticket.key
        if key is None or not ticket.reserved:
            return
        pending = self._pending.get(key)
        if pending is not None:
            pending.unsettled -= 1
            self._pump(key, pending, self._clock())

    # -- what the shared counts tell -------------------------------------------------

    def report(self, key: str, opened_ms: int, failures: int, remaining_seconds: float) -> None:
        """The shared count of ``key``: ``failures`` in the window opened at ``opened_ms``
        (database time), which closes in ``remaining_seconds``."""
        if self.limit <= 0 or remaining_seconds <= 0:
            return
        now = self._clock()
        expires = now + min(remaining_seconds, self.window)
        window = self._live_window(key, now)
        if window is None:
            self._open(key, expires, failures, opened_ms)
        elif window.opened is None or window.opened == opened_ms:
            # The same window: never count fewer than we know; follow the shared clock
            # when ours differs by more than a second (a window opened by another).
            window.failures = max(window.failures, failures)
            window.opened = opened_ms
            if abs(window.expires - expires) > 1.0:
                self._open(key, expires, window.failures, opened_ms)
        elif window.opened < opened_ms:
            self._open(key, expires, failures, opened_ms)  # a newer window
        else:
            return  # a report about a window that has closed since
        pending = self._pending.get(key)
        if pending is not None:
            self._pump(key, pending, now)

    def set_instances(self, count: int) -> None:
        """How many instances share the counts: each lets at most its share of what is
        left of an allowance be looked up at once."""
        self._instances = max(1, count)

    @property
    def instances(self) -> int:
        return self._instances

    def sizes(self) -> dict[str, int]:
        """How much is tracked (the bound of memory)."""
        return {
            "windows": len(self._windows),
            "queue": len(self._order),
            "trusted": len(self._trusted),
            "pending": len(self._pending),
        }

    def retry_after(self, address: str | None) -> int | None:
        """Seconds to wait when the address is blocked now, else None."""
        if address is None or self.limit <= 0:
            return None
        now = self._clock()
        window = self._live_window(client_key(address), now)
        if window is None or window.failures < self.limit:
            return None
        return self._blocked(window, now).retry_after

    # -- inside ----------------------------------------------------------------------

    def _blocked(self, window: _Window, now: float) -> Refusal:
        return Refusal(Row.RATE_LIMITED, max(1, math.ceil(window.expires - now)))

    def _may_start(self, pending: _Pending, failures: int) -> bool:
        room = self.limit - failures
        if pending.unsettled >= room:
            return False
        # Each instance may have only its share of what is left in flight, so that all of
        # them together cannot start more than the allowance at the same moment.
        share = -(-room // self._instances)
        return pending.unsettled + pending.held < share

    async def _wait(self, key: str, tag: bytes, pending: _Pending) -> Ticket | Refusal:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Ticket | Refusal] = loop.create_future()
        pending.waiters.append(_Waiter(future, tag))
        timer = loop.call_later(self.max_wait, _give_up, future)
        try:
            return await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                handed = future.result()
                if isinstance(handed, Ticket):
                    self.abandoned(handed)
            raise
        finally:
            timer.cancel()
            if not pending.waiters or pending.waiters[0].future.done():
                self._pump(key, pending, self._clock())

    def _pump(self, key: str, pending: _Pending, now: float) -> None:
        """Hand the room that is free to the waiters, in order; refuse them all when the
        client is blocked; forget the client's pending entry when nothing is left."""
        waiters = pending.waiters
        window = self._live_window(key, now)
        if window is not None and window.failures >= self.limit:
            refusal = self._blocked(window, now)
            while waiters:
                waiter = waiters.popleft()
                if not waiter.future.done():
                    waiter.future.set_result(refusal)
        else:
            failures = window.failures if window else 0
            while waiters:
                waiter = waiters[0]
                if waiter.future.done():
                    waiters.popleft()
                    continue
                if not self._may_start(pending, failures):
                    break
                waiters.popleft()
                pending.unsettled += 1
                waiter.future.set_result(Ticket(key, waiter.tag, True))
        idle = not waiters and pending.unsettled <= 0 and pending.held <= 0
        if idle and self._pending.get(key) is pending:
            del self._pending[key]

    def _release_trusted(self, pending: _Pending, key: str, tag: bytes) -> None:
        """Waiters with a Code that has just worked from their client need not wait."""
        kept: deque[_Waiter] = deque()
        for waiter in pending.waiters:
            if waiter.future.done():
                continue
            if waiter.tag == tag:
                waiter.future.set_result(Ticket(key, tag, False))
            else:
                kept.append(waiter)
        pending.waiters = kept

    def _is_trusted(self, key: str, tag: bytes, now: float) -> bool:
        trust = self._trusted.get(key)
        if trust is None:
            return False
        if trust.expires <= now:
            del self._trusted[key]
            return False
        return tag in trust.tags

    def _trust(self, key: str, tag: bytes, now: float) -> bool:
        """Remember that ``tag`` worked from ``key`` (for a window from now); True when it
        was not trusted yet."""
        trust = self._trusted.get(key)
        if trust is None or trust.expires <= now:
            if trust is None and len(self._trusted) >= self.max_addresses:
                self._trusted.popitem(last=False)  # the longest unused
            trust = self._trusted[key] = _Trust(now + self.window)
        else:
            trust.expires = now + self.window
        self._trusted.move_to_end(key)
        if tag in trust.tags:
            return False
        if len(trust.tags) >= CODES_PER_ADDRESS:
            del trust.tags[0]
        trust.tags.append(tag)
        return True

    def _live_window(self, key: str, now: float) -> _Window | None:
        window = self._windows.get(key)
        if window is not None and window.expires <= now:
            del self._windows[key]
            return None
        return window

    def _open(self, key: str, expires: float, failures: int, opened: int | None) -> _Window:
        if key not in self._windows:
            while len(self._windows) >= self.max_addresses and self._order:
                # Full: forget the oldest window (the next to close) early.
                oldest = self._order.popleft()
                if self._windows.get(oldest.key) is oldest:
                    del self._windows[oldest.key]
                    self.evicted += 1
        window = self._windows[key] = _Window(key, expires, failures, opened)
        self._order.append(window)
        if len(self._order) > 2 * self.max_addresses:
            # Replaced windows left stale entries; keep the queue within its bound.
            self._order = deque(sorted(self._windows.values(), key=lambda w: w.expires))
        return window

    def _expire(self, now: float) -> None:
        """Drop the windows and trusted clients that have lapsed: O(1) amortised, each
        entry is dropped once."""
        order = self._order
        while order and order[0].expires <= now:
            window = order.popleft()
            if self._windows.get(window.key) is window:
                del self._windows[window.key]
        trusted = self._trusted
        while trusted:
            key, trust = next(iter(trusted.items()))
            if trust.expires > now:
                break
            del trusted[key]

    async def _refresh(self, key: str) -> None:
        assert self._shared is not None
        with contextlib.suppress(TimeoutError):  # then decide on what we know
            await asyncio.wait_for(asyncio.shield(self._shared.refresh(key)), self.max_wait)


def _give_up(future: asyncio.Future[Ticket | Refusal]) -> None:
    # Waited as long as a lookup may take: answer "try again" (row 11) rather than hold
    # the request, and the connection, any longer.
    if not future.done():
        future.set_result(Refusal(Row.UPDATE_FAILED, 1))

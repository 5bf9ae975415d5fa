"""Delivering webhooks from the durable outbox: claim, sign, POST, record, retry.

Each instance claims due deliveries with ``FOR UPDATE SKIP LOCKED`` (SQLite serialises
claims with its write lock) and leases them for a while, so in the normal case one
instance delivers each event once; a crash mid-delivery only means the lease expires
and the delivery is made again — at least once, always. Receivers de-duplicate by the
event id header.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import orjson

from agentstatus.domain.clock import now_ms
from agentstatus.domain.secret_box import SecretBox, SecretKeyError
from agentstatus.events import signing
from agentstatus.outbound import OutboundPolicy, OutboundRefused, check_url, outbound_client
from agentstatus.service.webhooks import error_summary
from agentstatus.storage import deliveries
from agentstatus.storage.types import Engine
from agentstatus.wire.backoff import backoff

log = logging.getLogger(__name__)

MAX_ERROR = 500  # characters of a stored error
BODY_CAP = 4096  # bytes of an answer's body ever read
ERROR_BODY = 200  # bytes of it kept in the error


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    lease_seconds: float = 30.0
    retry_base_seconds: float = 5.0
    retry_max_seconds: float = 3600.0
    give_up_after_seconds: float = 24 * 3600.0
    timeout_seconds: float = 10.0
    poll_seconds: float = 0.5
    batch: int = 50
    per_endpoint: int = 10  # claimed at once for one endpoint
    max_in_flight: int = 500  # attempts of one instance at once (sockets, memory)

    def backoff(self, attempts: int) -> float:
        """Exponential, capped, with full jitter between half and one-and-a-half times."""
        return backoff(max(attempts, 1), self.retry_base_seconds, self.retry_max_seconds, high=1.5)


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    endpoint_id: int
    url: str
    secret_enc: str
    event_type: str
    event_id: str
    body: bytes
    attempts: int
    created_ms: int
    content_type: str = "application/json"

    @property
    def message_id(self) -> str:
        """The Standard Webhooks ``webhook-id``: the same on every attempt of this delivery.
        With the creation time, since SQLite reuses the ids of deleted rows."""
        return f"msg_{self.id}_{self.created_ms}"


def claim_due(
    engine: Engine,
    policy: DeliveryPolicy,
    *,
    busy: frozenset[int] = frozenset(),
    only: int | None = None,
) -> list[Claimed]:
    """Lease what is due, oldest first: at most ``policy.batch``, at most
    ``policy.per_endpoint`` of one endpoint (so that every claimed attempt starts at once
    and ends by its deadline, well inside the lease), none of the endpoints in ``busy``
    (this instance's endpoints with attempts in flight), only delivery ``only`` if given."""
    now = now_ms()
    lease = deliveries.Lease(
        now, now + int(policy.lease_seconds * 1000), policy.batch, policy.per_endpoint, busy, only
    )
    return [_ready(d) for d in deliveries.claim(engine, lease)]


def cloudevent(event_id: str, event: dict[str, Any]) -> dict[str, Any]:
    """The event as a CloudEvents 1.0 structured JSON envelope: the event itself is its
    ``data``; ``id`` the same as X-Agentstatus-Event-Id, ``type`` the event's type."""
    envelope: dict[str, Any] = {
        "specversion": "1.0",
        "id": event_id,
        "source": f"/orgs/{quote(str(event.get('org', '')), safe='')}",
        "type": event.get("type", ""),
        "datacontenttype": "application/json",
    }
    if isinstance(event.get("at"), str):
        envelope["time"] = event["at"]
    envelope["data"] = event
    return envelope


def _ready(d: deliveries.ClaimedDelivery) -> Claimed:
    """A claimed delivery with its body (the event, or its CloudEvents envelope) and event
    id."""
    event: dict[str, Any]
    if d.event is None:
        event = orjson.loads(d.payload or "{}")
        # SQLite reuses the ids of deleted rows; with the creation time a test event's
        # id never repeats.
        event_id = f"test-{d.created_ms}-{d.id}"
    else:
        event = d.event.as_event_json()
        event_id = str(d.event.id)
    if d.cloudevents:
        body = orjson.dumps(cloudevent(event_id, event))
        content_type = "application/cloudevents+json; charset=utf-8"
    else:
        body = orjson.dumps(event) if d.event is not None else (d.payload or "{}").encode()
        content_type = "application/json"
    return Claimed(
        d.id,
        d.endpoint_id,
        d.url,
        d.secret_enc,
        d.event_type,
        event_id,
        body,
        d.attempts,
        d.created_ms,
        content_type,
    )


def record_result(
    engine: Engine,
    policy: DeliveryPolicy,
    claimed: Claimed,
    status_code: int | None,
    error: str | None,
) -> str:
    """Mark delivered, schedule a retry, or give up; returns the new state."""
    now = now_ms()
    values: dict[str, object] = {"last_status_code": status_code, "last_error": error}
    if status_code is not None and 200 <= status_code < 300:
        state = "delivered"
        values.update(state=state, finished_ms=now, last_error=None)
    elif now - claimed.created_ms >= policy.give_up_after_seconds * 1000:
        state = "failed"
        values.update(state=state, finished_ms=now)
    else:
        state = "pending"
        values.update(next_attempt_ms=now + int(policy.backoff(claimed.attempts) * 1000))
    deliveries.record(engine, claimed.id, **values)
    return state


def _printable(text: str) -> str:
    """Control characters escaped: a receiver's answer is shown in an operator's terminal."""
    return "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)


async def _read_capped(response: httpx.Response, into: bytearray) -> None:
    """At most ``BODY_CAP`` bytes of the body, as sent (no decompression: a small gzip
    body can inflate to gigabytes); the rest is never read (the connection is dropped)."""
    async for chunk in response.aiter_raw():
        into += chunk[: BODY_CAP - len(into)]
        if len(into) >= BODY_CAP:
            return


async def attempt(
    client: httpx.AsyncClient,
    box: SecretBox,
    claimed: Claimed,
    outbound: OutboundPolicy,
    deadline_seconds: float,
) -> tuple[int | None, str | None]:
    """POST one delivery, all of it (resolving, connecting, sending, the answer's head and
    up to ``BODY_CAP`` of its body) within ``deadline_seconds``; (status code, error text).

    Delivered is a 2xx head within the deadline: the body of a 2xx answer is read only to
    keep the connection reusable, and never makes it fail."""
    timestamp = int(time.time())
    try:
        secret = box.open(claimed.secret_enc)
    except SecretKeyError as exc:
        # Recorded on the delivery and retried like a refusal: the other endpoints are not
        # held, and the operator sees why in `agentstatus webhook deliveries`.
        return None, str(exc)
    try:
        url = check_url(claimed.url, outbound)  # saved before the policy, or since changed
    except OutboundRefused as exc:
        return None, str(exc)[:MAX_ERROR]
    headers = {
        "Content-Type": claimed.content_type,
        "User-Agent": "agentstatus-webhooks",
        "Accept-Encoding": "identity",
        signing.EVENT_ID_HEADER: claimed.event_id,
        signing.EVENT_TYPE_HEADER: claimed.event_type,
        signing.DELIVERY_HEADER: str(claimed.id),
        signing.TIMESTAMP_HEADER: str(timestamp),
        signing.SIGNATURE_HEADER: signing.sign(secret, timestamp, claimed.body),
        signing.STANDARD_ID_HEADER: claimed.message_id,
        signing.STANDARD_TIMESTAMP_HEADER: str(timestamp),
        signing.STANDARD_SIGNATURE_HEADER: signing.standard_sign(
            secret, claimed.message_id, timestamp, claimed.body
        ),
    }
    status: int | None = None
    body = bytearray()
    try:
        async with asyncio.timeout(deadline_seconds):
            async with client.stream("POST", url, content=claimed.body, headers=headers) as r:
                status = r.status_code
                await _read_capped(r, body)
    except TimeoutError:
        if status is None:
            return None, f"timeout: no answer within {deadline_seconds:g} s"
    except OutboundRefused as exc:
        return None, str(exc)[:MAX_ERROR]
    except httpx.HTTPError as exc:
        if status is None:
            return None, _printable(f"{type(exc).__name__}: {exc}")[:MAX_ERROR]
    assert status is not None
    if 200 <= status < 300:
        return status, None
    excerpt = body[:ERROR_BODY].decode("utf-8", errors="replace")
    return status, _printable(f"HTTP {status}: {excerpt}")[:MAX_ERROR]


class WebhookDeliverer:
    """The background task of one instance that empties the outbox.

    Each endpoint's claimed deliveries are attempted by a task of their own, and an endpoint
    with attempts in flight is not claimed for again until they end: a receiver that is slow
    or never answers holds its own deliveries only (each attempt ends by its deadline),
    never another endpoint's, another organisation's or the next claim."""

    def __init__(
        self,
        engine: Engine,
        box: SecretBox | None,
        policy: DeliveryPolicy,
        outbound: OutboundPolicy,
    ) -> None:
        self._engine = engine
        self._box = box
        self.policy = policy
        self.outbound = outbound
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._busy: dict[int, asyncio.Task[None]] = {}  # endpoint id: its attempts
        self.delivered = 0

    def wake(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        if self._box is not None:
            self._task = asyncio.create_task(self._run(), name="webhook-deliverer")

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def client(self) -> httpx.AsyncClient:
        return outbound_client(self.outbound, self.policy.timeout_seconds)

    async def run_once(self, client: httpx.AsyncClient, *, only: int | None = None) -> int:
        """Claim what is due (or only delivery ``only``) and attempt it, waiting for every
        attempt; returns how many were attempted. For ``webhook test``."""
        claimed = await asyncio.to_thread(claim_due, self._engine, self.policy, only=only)
        await asyncio.gather(
            *(self._endpoint(client, items) for items in _by_endpoint(claimed).values())
        )
        return len(claimed)

    async def _dispatch(self, client: httpx.AsyncClient) -> int:
        """Claim for the endpoints without attempts in flight and start their attempts;
        returns how many were claimed, without waiting for any."""
        # Each busy endpoint may have up to per_endpoint attempts in flight.
        if len(self._busy) * self.policy.per_endpoint >= self.policy.max_in_flight:
            return 0
        busy = frozenset(self._busy)
        claimed = await asyncio.to_thread(claim_due, self._engine, self.policy, busy=busy)
        for endpoint_id, items in _by_endpoint(claimed).items():
            task = asyncio.create_task(self._endpoint(client, items), name="webhook-endpoint")
            self._busy[endpoint_id] = task
            task.add_done_callback(functools.partial(self._ended, endpoint_id))
        return len(claimed)

    def _ended(self, endpoint_id: int, _: asyncio.Task[None]) -> None:
        self._busy.pop(endpoint_id, None)
        self._wake.set()  # the endpoint's next deliveries may be due already

    async def _endpoint(self, client: httpx.AsyncClient, items: list[Claimed]) -> None:
        """One endpoint's claimed deliveries, started at once in claim order."""
        await asyncio.gather(*(self._one(client, item) for item in items))

    async def _one(self, client: httpx.AsyncClient, item: Claimed) -> None:
        assert self._box is not None
        try:
            code, error = await attempt(
                client, self._box, item, self.outbound, self.policy.timeout_seconds
            )
            state = await asyncio.to_thread(
                record_result, self._engine, self.policy, item, code, error
            )
        except Exception:
            # Unrecorded, it is attempted again when its lease ends.
            log.exception("webhook delivery %d to endpoint %d failed", item.id, item.endpoint_id)
            return
        if state == "delivered":
            self.delivered += 1
        elif error:
            log.info(
                "webhook delivery %d to endpoint %d: %s (%s)",
                item.id,
                item.endpoint_id,
                error_summary(error),
                state,
            )

    async def _run(self) -> None:
        async with self.client() as client:
            try:
                while True:
                    self._wake.clear()
                    try:
                        if await self._dispatch(client):
                            # More may be due: of other endpoints (one claim takes at most
                            # per_endpoint of each), or beyond the batch.
                            continue
                    except Exception:
                        log.exception("webhook delivery claim failed; retrying")
                    with contextlib.suppress(TimeoutError):
                        # (see fanout's feed: not wait_for, which may swallow a cancel)
                        async with asyncio.timeout(self.policy.poll_seconds):
                            await self._wake.wait()
            finally:
                for task in list(self._busy.values()):
                    task.cancel()
                await asyncio.gather(*self._busy.values(), return_exceptions=True)


def _by_endpoint(claimed: list[Claimed]) -> dict[int, list[Claimed]]:
    grouped: dict[int, list[Claimed]] = {}
    for item in claimed:
        grouped.setdefault(item.endpoint_id, []).append(item)
    return grouped

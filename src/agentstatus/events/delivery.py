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
import logging
import random
import time
from dataclasses import dataclass

import httpx
import orjson
from sqlalchemy import Engine, select, update

from agentstatus.domain.clock import now_ms
from agentstatus.domain.secret_box import SecretBox, SecretKeyError
from agentstatus.events import signing
from agentstatus.events.model import Event
from agentstatus.storage.database import reading
from agentstatus.storage.schema import history, organisations, webhook_deliveries, webhook_endpoints

log = logging.getLogger(__name__)

MAX_ERROR = 500


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    lease_seconds: float = 30.0
    retry_base_seconds: float = 5.0
    retry_max_seconds: float = 3600.0
    give_up_after_seconds: float = 24 * 3600.0
    timeout_seconds: float = 10.0
    poll_seconds: float = 0.5
    batch: int = 50

    def backoff(self, attempts: int) -> float:
        """Exponential, capped, with full jitter between half and one-and-a-half times."""
        delay = min(self.retry_base_seconds * 2.0 ** max(attempts - 1, 0), self.retry_max_seconds)
        return delay * random.uniform(0.5, 1.5)


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


def _due_exists(engine: Engine, now: int) -> bool:
    d = webhook_deliveries
    with reading(engine) as conn:
        return (
            conn.execute(
                select(d.c.id).where(d.c.state == "pending", d.c.next_attempt_ms <= now).limit(1)
            ).first()
            is not None
        )


def claim_due(engine: Engine, policy: DeliveryPolicy) -> list[Claimed]:
    now = now_ms()
    if not _due_exists(engine, now):
        return []
    d, w, h = webhook_deliveries, webhook_endpoints, history
    with engine.begin() as conn:
        ids = (
            conn.execute(
                select(d.c.id)
                .where(d.c.state == "pending", d.c.next_attempt_ms <= now)
                .order_by(d.c.next_attempt_ms, d.c.id)
                .limit(policy.batch)
                .with_for_update(skip_locked=True)
            )
            .scalars()
            .all()
        )
        if not ids:
            return []
        conn.execute(
            update(d)
            .where(d.c.id.in_(ids))
            .values(
                next_attempt_ms=now + int(policy.lease_seconds * 1000), attempts=d.c.attempts + 1
            )
        )
        rows = conn.execute(
            select(
                d.c.id,
                d.c.endpoint_id,
                d.c.event_type,
                d.c.payload,
                d.c.attempts,
                d.c.created_ms,
                d.c.history_id,
                w.c.url,
                w.c.secret_enc,
                organisations.c.name,
                h.c.user_id,
                h.c.prev_extension,
                h.c.new_extension,
                h.c.prev_status,
                h.c.new_status,
                h.c.at_ms,
                h.c.source,
            )
            .join(w, w.c.id == d.c.endpoint_id)
            .join(organisations, organisations.c.id == w.c.org_id)
            .outerjoin(h, h.c.id == d.c.history_id)
            .where(d.c.id.in_(ids))
            .order_by(d.c.id)
        ).all()
    claimed = []
    for r in rows:
        if r.history_id is None:
            body = (r.payload or "{}").encode()
            # SQLite reuses the ids of deleted rows; with the creation time a test event's
            # id never repeats.
            event_id = f"test-{r.created_ms}-{r.id}"
        else:
            event = Event(
                r.history_id,
                r.name,
                r.user_id,
                r.prev_extension,
                r.new_extension,
                r.prev_status,
                r.new_status,
                r.at_ms,
                r.source,
            )
            body = orjson.dumps(event.as_json())
            event_id = str(r.history_id)
        claimed.append(
            Claimed(
                r.id,
                r.endpoint_id,
                r.url,
                r.secret_enc,
                r.event_type,
                event_id,
                body,
                r.attempts,
                r.created_ms,
            )
        )
    return claimed


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
    with engine.begin() as conn:
        conn.execute(
            update(webhook_deliveries).where(webhook_deliveries.c.id == claimed.id).values(**values)
        )
    return state


async def attempt(
    client: httpx.AsyncClient, box: SecretBox, claimed: Claimed
) -> tuple[int | None, str | None]:
    """POST one delivery; (status code, error text)."""
    timestamp = int(time.time())
    try:
        secret = box.open(claimed.secret_enc)
    except SecretKeyError as exc:
        # Recorded on the delivery and retried like a refusal: the round goes on for the
        # other endpoints, and the operator sees why in `agentstatus webhook deliveries`.
        return None, str(exc)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "agentstatus-webhooks",
        signing.EVENT_ID_HEADER: claimed.event_id,
        signing.EVENT_TYPE_HEADER: claimed.event_type,
        signing.DELIVERY_HEADER: str(claimed.id),
        signing.TIMESTAMP_HEADER: str(timestamp),
        signing.SIGNATURE_HEADER: signing.sign(secret, timestamp, claimed.body),
    }
    try:
        response = await client.post(claimed.url, content=claimed.body, headers=headers)
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"[:MAX_ERROR]
    if 200 <= response.status_code < 300:
        return response.status_code, None
    return response.status_code, f"HTTP {response.status_code}: {response.text[:200]}"[:MAX_ERROR]


class WebhookDeliverer:
    """The background task of one instance that empties the outbox."""

    def __init__(self, engine: Engine, box: SecretBox | None, policy: DeliveryPolicy) -> None:
        self._engine = engine
        self._box = box
        self.policy = policy
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
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

    async def run_once(self, client: httpx.AsyncClient) -> int:
        """Claim what is due and attempt it; returns how many were attempted."""
        assert self._box is not None
        box = self._box
        claimed = await asyncio.to_thread(claim_due, self._engine, self.policy)

        async def one(item: Claimed) -> None:
            code, error = await attempt(client, box, item)
            state = await asyncio.to_thread(
                record_result, self._engine, self.policy, item, code, error
            )
            if state == "delivered":
                self.delivered += 1
            elif error:
                log.info(
                    "webhook delivery %d to endpoint %d: %s (%s)",
                    item.id,
                    item.endpoint_id,
                    error,
                    state,
                )

        await asyncio.gather(*(one(item) for item in claimed))
        return len(claimed)

    async def _run(self) -> None:
        async with httpx.AsyncClient(timeout=self.policy.timeout_seconds) as client:
            while True:
                self._wake.clear()
                try:
                    if await self.run_once(client):
                        continue
                except Exception:
                    log.exception("webhook delivery round failed; retrying")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.policy.poll_seconds)

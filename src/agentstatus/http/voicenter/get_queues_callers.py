"""``GetQueuesCallers`` (issue 24): the callers waiting in each of the phone system's queues
now, Voicenter-style. Its refusals are Voicenter's ``ERR`` family (``QUEUE_ANSWERS``);
everything else is the pipeline's, as for the other Comet endpoints."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import NamedTuple

import orjson

from agentstatus.domain.clock import now_ms
from agentstatus.domain.commands import Source
from agentstatus.domain.queues import QueueNow
from agentstatus.http.voicenter.answers import QUEUE_ANSWERS
from agentstatus.http.voicenter.pipeline import VoicenterEndpoint, code_of
from agentstatus.service.voicenter import read_queues
from agentstatus.wire import comet
from agentstatus.wire.outcomes import Row
from agentstatus.wire.paths import GET_QUEUES_CALLERS


class QueuesRequest(NamedTuple):
    code: str
    queue: str | None
    """Only the queue of this name (``queue=``); an unknown one answers no queues."""


class GetQueuesCallers(VoicenterEndpoint[QueuesRequest]):
    name = "GetQueuesCallers"
    path = GET_QUEUES_CALLERS
    answers = QUEUE_ANSWERS
    failure = "could not read the queues"

    def request(self, params: Mapping[str, str | None]) -> QueuesRequest | Row:
        code = code_of(params)
        if not code:
            return Row.MISSING_CODE_OR_USER
        return QueuesRequest(code, (params.get("queue") or "").strip() or None)

    async def answer(self, request: QueuesRequest, method: str, address: str | None) -> bytes | Row:
        return await asyncio.to_thread(self._read, request, Source(method), address)

    def _read(self, request: QueuesRequest, source: Source, address: str | None) -> bytes | Row:
        at = now_ms()
        found = read_queues(
            self.context.engine,
            request.code,
            address,
            self.name,
            request.queue,
            source=source,
            at_ms=at,
        )
        if isinstance(found, Row):
            return found
        return orjson.dumps(comet.queues_ok([item(q, at) for q in found]))


def item(queue: QueueNow, at_ms: int) -> dict[str, object]:
    """One queue as GetQueuesCallers shows it, its callers longest-waiting first."""
    settings = queue.settings
    callers = [
        comet.caller(w.caller.phone, w.caller.call_id, w.joined_ms, at_ms) for w in queue.waiting
    ]
    return comet.queue(settings.name, settings.id, settings.weight, callers)

"""``GetStatusesList`` (SPEC.md 4): the organisation's enabled statuses; its refusals are
rows of the outcomes table."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import orjson

from agentstatus.domain.commands import Source
from agentstatus.http.voicenter.answers import OUTCOME_ANSWERS
from agentstatus.http.voicenter.pipeline import VoicenterEndpoint, code_of
from agentstatus.service.voicenter import read_statuses
from agentstatus.wire import statuses_list
from agentstatus.wire.outcomes import Row
from agentstatus.wire.paths import GET_STATUSES_LIST


class GetStatusesList(VoicenterEndpoint[str]):
    name = "GetStatusesList"
    path = GET_STATUSES_LIST
    answers = OUTCOME_ANSWERS
    failure = "could not read the status catalogue"

    def request(self, params: Mapping[str, str | None]) -> str | Row:
        return code_of(params) or Row.MISSING_CODE_OR_USER

    async def answer(self, request: str, method: str, address: str | None) -> bytes | Row:
        return await asyncio.to_thread(self._read, request, Source(method), address)

    def _read(self, code: str, source: Source, address: str | None) -> bytes | Row:
        found = read_statuses(self.context.engine, code, address, self.name, source=source)
        if isinstance(found, Row):
            return found
        listing = [statuses_list.status(s.id, s.name, s.color) for s in found]
        return orjson.dumps(statuses_list.statuses(listing))

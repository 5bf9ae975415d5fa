"""What Voicenter's two Comet endpoints share (SPEC.md 4): a ``code`` and an optional
``extension``, the organisation's extensions as the service reads them, and ``ERR``
objects for every refusal."""

from __future__ import annotations

import asyncio
from abc import abstractmethod
from collections.abc import Mapping
from typing import NamedTuple

import orjson

from agentstatus.domain.commands import Source
from agentstatus.http.voicenter.answers import COMET_ANSWERS
from agentstatus.http.voicenter.pipeline import VoicenterEndpoint, code_of
from agentstatus.service.voicenter import ExtensionState, read_extensions
from agentstatus.wire import comet
from agentstatus.wire.outcomes import Row


class CometRequest(NamedTuple):
    code: str
    extension: str | None


class CometEndpoint(VoicenterEndpoint[CometRequest]):
    answers = COMET_ANSWERS
    failure = "could not read extensions"

    def request(self, params: Mapping[str, str | None]) -> CometRequest | Row:
        code = code_of(params)
        if not code:
            return Row.MISSING_CODE_OR_USER
        return CometRequest(code, (params.get("extension") or "").strip() or None)

    async def answer(self, request: CometRequest, method: str, address: str | None) -> bytes | Row:
        return await asyncio.to_thread(self._read, request, Source(method), address)

    def _read(self, request: CometRequest, source: Source, address: str | None) -> bytes | Row:
        found = read_extensions(
            self.context.engine, request.code, address, self.name, request.extension, source=source
        )
        if isinstance(found, Row):
            return found
        return orjson.dumps(comet.ok([self.item(e) for e in found]))

    @staticmethod
    @abstractmethod
    def item(extension: ExtensionState) -> dict[str, object]:
        """One extension as this endpoint shows it."""

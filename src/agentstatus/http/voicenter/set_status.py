"""``SetStatusFromAPI`` (SPEC.md 3): a status change, decided and stored by the status
store; the pipeline has already answered rows 1-5."""

from __future__ import annotations

from collections.abc import Mapping

from agentstatus.domain.codes import digest
from agentstatus.domain.commands import Source, StatusCommand
from agentstatus.http.voicenter.answers import OUTCOME_ANSWERS
from agentstatus.http.voicenter.parameters import StatusParameters, status_parameters
from agentstatus.http.voicenter.pipeline import VoicenterEndpoint
from agentstatus.wire.outcomes import Row
from agentstatus.wire.paths import SET_STATUS


class SetStatusFromAPI(VoicenterEndpoint[StatusParameters]):
    name = "SetStatusFromAPI"
    path = SET_STATUS
    answers = OUTCOME_ANSWERS
    failure = "status store failed"

    def request(self, params: Mapping[str, str | None]) -> StatusParameters | Row:
        return status_parameters(params)

    async def answer(self, request: StatusParameters, method: str, address: str | None) -> Row:
        ctx = self.context
        command = StatusCommand(
            user_id=request.user_id,
            extension=request.extension,
            status=request.status,
            source=Source.GET if method == "GET" else Source.POST,
            client_addr=address,
            code_hash=digest(request.code),
        )
        result = await ctx.changes.apply(command)
        return result.row

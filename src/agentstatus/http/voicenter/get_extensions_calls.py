"""``GetExtensionsCalls`` (SPEC.md 4): who is logged in at each extension, in which status."""

from __future__ import annotations

from agentstatus.http.voicenter.comet import CometEndpoint
from agentstatus.service.voicenter import ExtensionState
from agentstatus.wire import comet
from agentstatus.wire.paths import GET_EXTENSIONS_CALLS


class GetExtensionsCalls(CometEndpoint):
    name = "GetExtensionsCalls"
    path = GET_EXTENSIONS_CALLS

    @staticmethod
    def item(extension: ExtensionState) -> dict[str, object]:
        return comet.extension_calls(
            extension.sip,
            extension.name,
            extension.user_id,
            extension.status,
            extension_id=extension.extension_id,
            representative=extension.agent_name,
            calls=[
                comet.call(
                    call_id=c.id,
                    direction=c.direction.value,
                    state=c.state.value,
                    caller_name=c.caller_name,
                    caller_number=c.caller_number,
                    dialled=c.dialled,
                    started_ms=c.started_ms,
                    answered_ms=c.answered_ms,
                )
                for c in extension.calls
            ],
        )

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
            extension.sip, extension.name, extension.user_id, extension.status
        )

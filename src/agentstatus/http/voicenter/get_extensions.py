"""``GetExtensions`` (SPEC.md 4): the organisation's extensions."""

from __future__ import annotations

from agentstatus.http.voicenter.comet import CometEndpoint
from agentstatus.service.voicenter import ExtensionState
from agentstatus.wire import comet
from agentstatus.wire.paths import GET_EXTENSIONS


class GetExtensions(CometEndpoint):
    name = "GetExtensions"
    path = GET_EXTENSIONS

    @staticmethod
    def item(extension: ExtensionState) -> dict[str, object]:
        return comet.extension(extension.sip, extension.name)

"""``GetExtensions`` (SPEC.md 4): the organisation's extensions."""

from __future__ import annotations

from agentstatus.domain.phone_registration import PhoneState
from agentstatus.http.voicenter.comet import CometEndpoint
from agentstatus.service.voicenter import ExtensionState
from agentstatus.wire import comet
from agentstatus.wire.paths import GET_EXTENSIONS


class GetExtensions(CometEndpoint):
    name = "GetExtensions"
    path = GET_EXTENSIONS

    @staticmethod
    def item(extension: ExtensionState) -> dict[str, object]:
        phone = extension.phone
        return comet.extension(
            extension.sip, extension.name, None if phone is PhoneState.UNKNOWN else phone.value
        )

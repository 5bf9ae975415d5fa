"""The paths of the five Voicenter endpoints, spelled as Voicenter documents them; the
server matches them case-insensitively, with or without a trailing slash."""

from __future__ import annotations

SET_STATUS = "/UserLogin/SetStatusFromAPI"
GET_STATUSES_LIST = "/UserLogin/GetStatusesList"
GET_EXTENSIONS = "/Comet/api/GetExtensions"
GET_EXTENSIONS_CALLS = "/comet/API/GetExtensionsCalls"
GET_QUEUES_CALLERS = "/comet/API/GetQueuesCallers"

PATHS = (SET_STATUS, GET_STATUSES_LIST, GET_EXTENSIONS, GET_EXTENSIONS_CALLS, GET_QUEUES_CALLERS)


def route_key(path: str) -> str:
    """The form in which two paths that name the same endpoint are equal."""
    return path.rstrip("/").lower()

"""The paths of the four Voicenter endpoints, spelled as Voicenter documents them; the
server matches them case-insensitively, with or without a trailing slash."""

from __future__ import annotations

SET_STATUS = "/UserLogin/SetStatusFromAPI"
GET_STATUSES_LIST = "/UserLogin/GetStatusesList"
GET_EXTENSIONS = "/Comet/api/GetExtensions"
GET_EXTENSIONS_CALLS = "/comet/API/GetExtensionsCalls"

PATHS = (SET_STATUS, GET_STATUSES_LIST, GET_EXTENSIONS, GET_EXTENSIONS_CALLS)


def route_key(path: str) -> str:
    """The form in which two paths that name the same endpoint are equal."""
    return path.rstrip("/").lower()

"""The Voicenter wire request, as a CRM sends it."""

from __future__ import annotations

import httpx


def set_status(
    base_url: str, code: str, user_id: str, extension: str, status: int
) -> dict[str, object]:
    """``GET /UserLogin/SetStatusFromAPI``; returns the answer, which must be OK."""
    answer = httpx.get(
        f"{base_url}/UserLogin/SetStatusFromAPI",
        params={"Code": code, "UserId": user_id, "ExtensionUser": extension, "Status": status},
        timeout=10,
    )
    body: dict[str, object] = answer.json()
    assert body["StatusErroMessage"] == "OK", body
    return body

"""Voicenter's real-time monitor (SPEC section 9, issue 25): who a monitor socket is.

A CRM logs in over HTTP (``/monitorAPI/Login/Token`` or ``/Login/User``) and is given a
short-lived socket token; the socket (``/socket.io/?token=…``) is opened with it. This is
what the socket token stands for once checked: one organisation, seen by one person.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class MonitorIdentity:
    org: str
    """The organisation's name (the native API's ``{org}``)."""
    org_id: int
    """The organisation's numeric id: the events' ``accountID`` and ``topAccountID``."""
    grant_id: int
    """The login this socket token came from (its row): revoking it ends its sockets."""
    person_id: int
    """The login answer's ``PersonID``: the API token's or the web user's id."""
    owner: str = ""
    """What the login was made from (``token:3``, ``user:7``): the sockets are capped per
    owner too, so that logging in again does not lift the cap."""

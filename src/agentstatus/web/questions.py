"""The questions asked before a change that is hard to take back, one text each for both
places that ask it: the page's own dialog (a form's ``data-confirm``, templates reach
these as ``questions``) and the server's confirmation page, which answers the same form
sent without the confirmation (no script, or a click before the script ran)."""

from __future__ import annotations

from dataclasses import dataclass

from agentstatus.web.messages import N_


@dataclass(frozen=True, slots=True)
class Question:
    text: str
    """The question (a message id with ``%(name)s`` values), naming what changes."""
    button: str
    """The confirming button's label on the confirmation page."""


LOG_OUT = Question(
    N_("Log out %(name)s (%(user_id)s)? The agent stops getting calls and the extension is freed."),
    N_("Log out"),
)
LOG_OUT_ALL = Question(N_("Log out every agent of %(org)s?"), N_("Log everyone out"))
DEACTIVATE = Question(
    N_(
        "Deactivate %(name)s (%(user_id)s)? The agent is logged out and cannot log in again "
        "until activated."
    ),
    N_("Deactivate"),
)
REMOVE_EXTENSION = Question(N_("Remove extension %(extension)s?"), N_("Remove"))
NEW_PASSWORD = Question(
    N_("Give %(email)s a new password? Their sessions end."), N_("New password")
)
REMOVE_USER = Question(N_("Remove %(email)s?"), N_("Remove"))
REMOVE_ENDPOINT = Question(N_("Remove endpoint %(id)d and its deliveries?"), N_("Remove"))
REVOKE_TOKEN = Question(N_("Revoke token %(id)d? Programs using it stop working."), N_("Revoke"))
REVOKE_WALL_LINK = Question(
    N_("Revoke wall link %(id)d? Its screen stops showing the wall."), N_("Revoke")
)
REVOKE_WALL_LINKS = Question(
    N_("Revoke every wall link of %(org)s? Every screen stops showing the wall."),
    N_("Revoke every wall link"),
)
NEW_CODE = Question(
    N_(
        "Make a new Code for %(org)s? The old one stops working at once, and the CRM must be "
        "given the new one."
    ),
    N_("Make a new Code"),
)

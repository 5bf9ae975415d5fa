"""What the panel says, in the visitor's language. The panel's script has no catalogue of
its own: the server translates these and sends them with the panel's state, so every
string of the product is in the one ``.po`` file per language."""

from __future__ import annotations

from agentstatus.web.messages import N_

# Shown by the script (sent with the state, by key).
UI = {
    "panel": N_("Status panel"),
    "statuses": N_("Statuses"),
    "extension": N_("Extension"),
    "no_extension": N_("Not logged in"),
    "time_in_status": N_("Time in this status"),
    "need_extension": N_("Enter your extension to log in."),
    "connecting": N_("Connecting…"),
    "disconnected": N_("Disconnected. Reconnecting…"),
    "reconnected": N_("Reconnected."),
    "saving": N_("Saving…"),
    "overdue": N_("Over the limit"),
    "call_Ringing": N_("Ringing"),
    "call_Dialing": N_("Dialling"),
    "call_Talking": N_("On a call"),
    "call_Hold": N_("On hold"),
    "phone_offline": N_("Phone offline"),
    "log_out": N_("Log out"),
    "log_out_question": N_("Log out now? You get no calls until you log in again."),
    "cancel": N_("Cancel"),
    "ready": N_("Ready"),
    "wrap_up_left": N_("Wrap-up, time left"),
    "wrap_up": N_("Wrap-up"),
    "next_status": N_("Next status"),
    "queues": N_("Callers waiting in your queues"),
    "queue_waiting": N_("%(count)s waiting in %(queue)s"),
    "queue_longest": N_("longest %(wait)s"),
}

# Why a change or the link itself was refused (the answer's "detail"; "reason" is for code).
LINK_UNKNOWN = N_("This panel link is not valid. Ask your CRM for a new one.")
LINK_EXPIRED = N_("This panel link has expired. Reload the CRM page to get a new one.")
LINK_REVOKED = N_("This panel link was revoked. Ask your supervisor or your CRM.")
ORIGIN_REFUSED = N_("This site may not show the status panel of this organisation.")
ORIGIN_NOT_LISTED = N_(
    "This site (%(origin)s) may not show the status panel of %(org)s: it is not one of the "
    "organisation's embed origins. An administrator adds it on the Organisation page of "
    "the administration, or with: %(command)s (the command replaces the list: give the "
    "origins already listed too)."
)
EXTENSION_IN_USE = N_("Extension %(extension)s is in use by another agent.")
UNKNOWN_EXTENSION = N_("There is no extension %(extension)s in your organisation.")
NEED_EXTENSION = N_("Enter your extension to log in.")
STATUS_UNAVAILABLE = N_("This status is no longer available.")
NOT_SAVED = N_("The change was not saved; try again.")
BAD_REQUEST = N_("The panel sent a request the service does not understand; reload it.")
TOO_MANY = N_("Too many panels are open with this link; close one and try again.")
UNAVAILABLE = N_("The service is unavailable; the panel tries again.")

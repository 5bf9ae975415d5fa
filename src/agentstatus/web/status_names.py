"""The one place that decides how a status is named on a page: a status of the default
catalogue (SPEC.md section 2) that the organisation has not renamed is shown in the
reader's language (the Voicenter document's own Hebrew names); a renamed or added
status is shown as the organisation wrote it. The API keeps answering the stored names.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from agentstatus.domain.catalogue import DEFAULT_CATALOGUE
from agentstatus.service.statuses import Status
from agentstatus.web.i18n import translations
from agentstatus.web.messages import N_

# Marked for the catalogues (``make i18n``): the default names, exactly as stored.
_MARKED = (
    N_("Login"),
    N_("Logout"),
    N_("Lunch break"),
    N_("Administrative time"),
    N_("Private break"),
    N_("Other"),
    N_("Training"),
    N_("Department meeting"),
    N_("Summary (wrap-up)"),
)
DEFAULT_NAMES = {d.id: d.name for d in DEFAULT_CATALOGUE}
assert set(DEFAULT_NAMES.values()) == set(_MARKED)


def display_name(status_id: int, stored: str, code: str) -> str:
    """``stored`` in language ``code`` when it is the default name of that id, else as is."""
    if DEFAULT_NAMES.get(status_id) != stored:
        return stored
    return translations(code).gettext(stored)


def displayed(found: Iterable[Status], code: str) -> list[Status]:
    """The statuses with the names a page shows (everything else as stored)."""
    return [replace(s, name=display_name(s.id, s.name, code)) for s in found]

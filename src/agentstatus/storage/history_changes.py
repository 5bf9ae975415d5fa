"""Which history rows change a status, as a condition of a query on the history (the
repositories of the reports and the replay filter on it; ``service.history`` still has its
own copy until the history's reads move to storage)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, or_

from agentstatus.domain.event_types import WARN_POLICY
from agentstatus.storage.schema import history

IS_CHANGE: ColumnElement[bool] = and_(
    or_(history.c.policy.is_(None), history.c.policy != WARN_POLICY), history.c.call.is_(None)
)
"""The history rows that change a status: not a limit's warning nor a call's event (events
that change nothing); in Python, :func:`~agentstatus.domain.event_types.is_change`."""

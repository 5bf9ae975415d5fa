"""A Code chosen by the caller (``POST /orgs`` and ``rotate-code`` with ``code``): strong,
limited, and no oracle.

- It must be strong (``domain.codes.STRONG_RULE``), or it is refused (422, naming the rule)
  before anything is looked up. Guessing another organisation's Code this way is then as
  hopeless as guessing it on the wire.
- Every custom Code sent counts as one failed authentication of the sender's address in the
  failed-authentication limiter of the wire (``http.ratelimit``: 20 a minute by default,
  shared by every instance on PostgreSQL), accepted or not: a Code accepted also says it was
  nobody's. So this endpoint and the wire together give one allowance of tries, no more;
  past it the answer is 429 with Retry-After (and the wire answers row 5 to that address).
- Codes are unique (the wire finds the organisation by its Code alone), so a Code that is
  another organisation's cannot be set. The answer does not say why: the same 409 as any
  Code the store refuses. Only someone who already holds that other strong Code can get it
  at all, and they could ask the wire with it directly, within the same allowance.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from agentstatus.domain.codes import STRONG_RULE, is_strong
from agentstatus.http.context import AppContext
from agentstatus.http.errors import RateLimited
from agentstatus.http.ratelimit import Refusal
from agentstatus.http.requests import resolve_client
from agentstatus.service.errors import (
    AlreadyExists,
    CodeTaken,
    InvalidInput,
    ServiceError,
    Unavailable,
)
from agentstatus.wire.outcomes import Row

T = TypeVar("T")

WEAK = (
    f"a custom Code set through the API must be {STRONG_RULE}; or leave it out for a generated one"
)
REFUSED = "this Code cannot be used; choose another, or leave it out for a generated one"


async def with_custom_code(
    context: AppContext, request: Request, code: str, apply: Callable[[], T]
) -> T:
    """``apply()`` (in a thread) once ``code`` has passed the limiter and the rule."""
    limiter = context.limiter
    ticket = await limiter.admit(resolve_client(request.scope, context.trusted_proxies), code)
    if isinstance(ticket, Refusal):
        if ticket.row is Row.RATE_LIMITED:
            raise RateLimited(
                f"too many failed authentications and custom Codes from this address; "
                f"try again in {ticket.retry_after} s",
                ticket.retry_after,
            )
        raise Unavailable("busy; try again")
    try:
        if not is_strong(code):
            raise InvalidInput(WEAK)
        result = await run_in_threadpool(apply)
    except CodeTaken:
        await limiter.failed(ticket)
        raise AlreadyExists(REFUSED) from None
    except ServiceError:
        await limiter.failed(ticket)
        raise
    except BaseException:
        limiter.abandoned(ticket)  # the database failed, or the request was cancelled
        raise
    await limiter.failed(ticket)  # accepted: it still told that the Code was nobody's
    return result

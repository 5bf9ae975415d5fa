"""Builds the FastAPI application that serves everything but the hot path: the native
API under ``/api/v1`` and the operational endpoints."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from agentstatus import __version__
from agentstatus.http.api import (
    agents,
    events,
    extensions,
    history,
    missed_calls,
    monitor_logins,
    operations,
    organisations,
    panel_links,
    pbx,
    phone_offline,
    presence,
    presence_set,
    queues,
    reports,
    statuses,
    wall_links,
    webhooks,
    wrap_up,
)
from agentstatus.http.api.errors import install_error_handlers
from agentstatus.http.api.limits import BodyLimitMiddleware
from agentstatus.http.api.redirects import RelativeRedirectMiddleware
from agentstatus.http.context import AppContext
from agentstatus.http.errors import ERRORS
from agentstatus.http.scim.mount import PREFIX as SCIM_PREFIX
from agentstatus.http.scim.mount import ScimOnFirstUse

DESCRIPTION = """\
Native management API of agentstatus. The Voicenter-compatible endpoints
(/UserLogin/SetStatusFromAPI, …) are documented in docs/voicenter-api.md.

**Authentication**: `Authorization: Bearer <token>`, with a token made by
`agentstatus token create --role admin|supervisor [--org ORG]` (tokens are never made over
HTTP). *admin* may do everything; *supervisor* may read organisations, agents, extensions,
statuses, presence, history, reports and queues, log one agent out and put one in any status
(the token's label is recorded as who did it). A token with `--org` works only on that
organisation.

**Errors** are `{"detail": "<message>", "code": "<code>"}`: `detail` is for a person
(for a request that does not fit this document, FastAPI's list of field errors), `code`
is for programs and stable: one of the `ErrorCode` schema's values, each listed with its
meaning under the answers of the operations that give it. A rejected import adds
`"problems"`, one line per bad row, and imports nothing. 403 comes even when the
organisation does not exist; a body over 1 MiB (16 MiB for CSV) is a 413. The codes:

""" + "\n".join(
    f"- `{code.value}` ({kind.status}): {kind.meaning}" for code, kind in ERRORS.items()
)


def create_api(context: AppContext) -> FastAPI:
    api = FastAPI(
        title="agentstatus",
        version=__version__,
        description=DESCRIPTION,
        docs_url="/docs",
        redoc_url=None,
    )
    api.state.context = context
    install_error_handlers(api)
    api.add_middleware(BodyLimitMiddleware)
    api.add_middleware(RelativeRedirectMiddleware)
    v1 = APIRouter(prefix="/api/v1")
    for module in (
        organisations,
        panel_links,  # before agents: its paths start with an agent's (any) user id
        wall_links,
        monitor_logins,
        agents,
        extensions,
        statuses,
        wrap_up,  # before presence: its paths end in an agent's (any) user id
        presence,
        history,
        reports,
        events,
        webhooks,
        pbx,
        missed_calls,
        phone_offline,
        queues,
        presence_set,  # last: PUT …/presence/{user_id:path} takes any path below an agent
    ):
        v1.include_router(module.router)
    api.include_router(v1)
    api.include_router(operations.router)
    # SCIM answers its own error shape, so it is its own application (docs/scim.md).
    api.mount(SCIM_PREFIX, ScimOnFirstUse(context))
    return api

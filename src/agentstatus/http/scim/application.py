"""The SCIM 2.0 endpoints (RFC 7644), a Starlette application mounted at ``/scim/v2``.

Every answer is ``application/scim+json``; every refusal a SCIM ``Error`` message (status as
a string, ``scimType`` where RFC 7644 defines one), never the native API's error shape and
never a 500 for bad input. Writes go through ``service.agents`` as the native API's do:
``active: false`` and DELETE deactivate the agent, which logs it out (source ``admin``, the
token as actor); an agent's history is never deleted, so neither is the agent."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from scim2_models import (
    Context,
    Error,
    ForbiddenException,
    InvalidSyntaxException,
    InvalidValueException,
    ListResponse,
    MutabilityException,
    NotFoundException,
    PatchOp,
    ResourceType,
    ResponseParameters,
    Schema,
    SCIMException,
    SearchRequest,
    UniquenessException,
)
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from agentstatus.domain.integers import INT64_MAX, parse_int
from agentstatus.http.bearer import check_token, token_in
from agentstatus.http.context import AppContext
from agentstatus.http.errors import FOREIGN_ERRORS, answer_to
from agentstatus.http.scim import discovery
from agentstatus.http.scim.mount import PREFIX
from agentstatus.http.scim.users import AgentUser, user_name_filter, user_of
from agentstatus.service import agents
from agentstatus.service.agent_records import (
    AgentRecord,
    clean_external_id,
    record_by_id,
    record_page,
    set_external_id,
)
from agentstatus.service.errors import AlreadyExists, NotFound, ServiceError
from agentstatus.service.tokens import Role

MEDIA_TYPE = "application/scim+json"


@dataclass(frozen=True, slots=True)
class Caller:
    """The organisation an authenticated request acts on, and who it is recorded as."""

    org: str
    actor: str


class ScimResponse(JSONResponse):
    media_type = MEDIA_TYPE


def _error(error: Error, headers: dict[str, str] | None = None) -> Response:
    body = error.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)
    return ScimResponse(body, status_code=error.status or 400, headers=headers)


def _refusal(exc: Exception) -> Response:
    """A refusal of the service (unknown agent, duplicate, bad token…) as a SCIM Error."""
    if isinstance(exc, SCIMException):
        return _error(exc.to_error())
    if isinstance(exc, ValidationError):
        return _error(Error.from_validation_errors(exc)[0])
    found = answer_to(exc)
    if found is None:
        raise exc
    headers = found.headers
    if isinstance(exc, AlreadyExists) or found.status == 409:  # one agent per user id
        return _error(UniquenessException(detail=str(found.detail)).to_error(), headers)
    if found.status in (400, 422):  # a validation's refusal: SCIM says 400 invalidValue
        return _error(InvalidValueException(detail=str(found.detail)).to_error(), headers)
    return _error(Error(status=found.status, detail=str(found.detail)), headers)


async def _caller(context: AppContext, request: Request) -> Caller:
    token = token_in(request.headers.get("authorization"))
    info = await asyncio.to_thread(check_token, context.engine, token)
    if info.role is not Role.ADMIN:
        raise ForbiddenException(detail="SCIM needs an admin token")
    if info.org is None:
        raise ForbiddenException(detail="SCIM needs a token scoped to one organisation")
    return Caller(info.org, info.actor)


def _base(request: Request) -> str:
    """The SCIM service's URL (``…/scim/v2``), as the client reached it."""
    return str(request.url.replace(path=PREFIX, query="", fragment=""))


def _shown(request: Request) -> ResponseParameters[AgentUser]:
    """The ``attributes`` and ``excludedAttributes`` asked for (RFC 7644 section 3.9)."""
    asked = {
        name: request.query_params[name]
        for name in ("attributes", "excludedAttributes")
        if name in request.query_params
    }
    return ResponseParameters[AgentUser].model_validate(asked)


def _answer(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return ScimResponse(body, status_code=status, headers=headers)


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = json.loads(raw)
    except ValueError:
        raise InvalidSyntaxException(detail="the body is not JSON") from None
    if not isinstance(body, dict):
        raise InvalidSyntaxException(detail="the body is not a JSON object")
    return body


def _row_id(request: Request) -> int:
    found = parse_int(request.path_params["id"])
    if found is None or not 0 < found <= INT64_MAX:
        raise NotFoundException(detail=f"no User {request.path_params['id']!r}")
    return found


# The database's refusals too (a race, a value it cannot hold, unavailable).
_REFUSALS: tuple[type[Exception], ...] = (
    SCIMException,
    ValidationError,
    ServiceError,
    *FOREIGN_ERRORS,
)

Endpoint = Callable[[AppContext, Request, Caller], Awaitable[Response]]


def _authenticated(
    context: AppContext, endpoint: Endpoint
) -> Callable[[Request], Awaitable[Response]]:
    async def handle(request: Request) -> Response:
        try:
            caller = await _caller(context, request)
            return await endpoint(context, request, caller)
        except _REFUSALS as exc:
            return _refusal(exc)

    return handle


async def _record(context: AppContext, caller: Caller, row_id: int) -> AgentRecord:
    try:
        return await asyncio.to_thread(record_by_id, context.engine, caller.org, row_id)
    except NotFound:
        raise NotFoundException(detail=f"no User {row_id}") from None


def _user_answer(record: AgentRecord, request: Request, status: int = 200) -> Response:
    user = user_of(record, _base(request))
    ctx = Context.RESOURCE_CREATION_RESPONSE if status == 201 else Context.RESOURCE_QUERY_RESPONSE
    headers = (
        {"Location": user.meta.location}
        if status == 201 and user.meta and user.meta.location
        else None
    )
    return _answer(
        user.model_dump(scim_ctx=ctx, response_parameters=_shown(request)), status, headers
    )


def _int_param(request: Request, name: str) -> int:
    text = request.query_params[name]
    found = parse_int(text, -INT64_MAX)
    if found is None:
        raise InvalidValueException(detail=f"{name} must be a 64-bit integer")
    return found


async def _search(
    context: AppContext,
    request: Request,
    caller: Caller,
    search: SearchRequest[AgentUser],
) -> Response:
    """A page of Users: ``startIndex`` is 1-based (below 1 means 1); ``count`` above the
    maximum is lowered to it, below 0 means 0 (RFC 7644 section 3.4.2.4)."""
    start = max(1, min(search.start_index or 1, INT64_MAX))
    count = discovery.MAX_RESULTS if search.count is None else search.count
    count = max(0, min(count, discovery.MAX_RESULTS))
    user_id = None if search.filter is None else user_name_filter(str(search.filter))
    page = await asyncio.to_thread(
        lambda: record_page(
            context.engine, caller.org, user_id=user_id, offset=start - 1, limit=count
        )
    )
    base = _base(request)
    listed = ListResponse[AgentUser](
        total_results=page.total,
        start_index=start,
        items_per_page=len(page.records),
        resources=[user_of(r, base) for r in page.records],
    )
    dumped = listed.model_dump(scim_ctx=Context.SEARCH_RESPONSE, response_parameters=search)
    return _answer(dumped)


async def list_users(context: AppContext, request: Request, caller: Caller) -> Response:
    params = request.query_params
    asked: dict[str, Any] = {
        name: params[name]
        for name in ("filter", "attributes", "excludedAttributes")
        if name in params
    }
    for name in ("startIndex", "count"):
        if name in params:
            asked[name] = _int_param(request, name)
    search = SearchRequest[AgentUser].model_validate(asked)
    return await _search(context, request, caller, search)


async def search_users(context: AppContext, request: Request, caller: Caller) -> Response:
    """``POST /Users/.search`` (RFC 7644 section 3.4.3): the list, asked in a body."""
    body = await _body(request)
    search = SearchRequest[AgentUser].model_validate(body, scim_ctx=Context.SEARCH_REQUEST)
    return await _search(context, request, caller, search)


async def get_user(context: AppContext, request: Request, caller: Caller) -> Response:
    return _user_answer(await _record(context, caller, _row_id(request)), request)


async def create_user(context: AppContext, request: Request, caller: Caller) -> Response:
    user: AgentUser = AgentUser.model_validate(
        await _body(request), scim_ctx=Context.RESOURCE_CREATION_REQUEST
    )
    if not user.user_name:
        raise InvalidValueException(detail="userName is required")
    external_id = clean_external_id(user.external_id)
    await asyncio.to_thread(
        agents.add_agent, context.engine, caller.org, user.user_name, user.display_name
    )
    if user.active is False:
        await agents.update_agent(
            context.changes,
            context.engine,
            caller.org,
            user.user_name,
            active=False,
            actor=caller.actor,
        )
    page = await asyncio.to_thread(
        lambda: record_page(context.engine, caller.org, user_id=user.user_name, offset=0, limit=1)
    )
    record = page.records[0]
    if external_id is not None:
        await asyncio.to_thread(
            set_external_id, context.engine, caller.org, record.row_id, external_id
        )
        record = await _record(context, caller, record.row_id)
    return _user_answer(record, request, 201)


async def _change(
    context: AppContext, caller: Caller, record: AgentRecord, wanted: AgentUser
) -> AgentRecord:
    """Give the agent the wanted displayName and active, through the change path, and the
    wanted externalId; its userName (the user id) cannot change."""
    if wanted.user_name is not None and wanted.user_name != record.user_id:
        raise MutabilityException(detail="userName (the agent's user id) cannot change")
    external_id = clean_external_id(wanted.external_id)
    if external_id != record.external_id:
        await asyncio.to_thread(
            set_external_id, context.engine, caller.org, record.row_id, external_id
        )
    name = wanted.display_name or ""
    active = wanted.active
    if name != record.name or (active is not None and active != record.active):
        await agents.update_agent(
            context.changes,
            context.engine,
            caller.org,
            record.user_id,
            name=name if name != record.name else None,
            active=active if active != record.active else None,
            actor=caller.actor,
        )
    return await _record(context, caller, record.row_id)


async def replace_user(context: AppContext, request: Request, caller: Caller) -> Response:
    record = await _record(context, caller, _row_id(request))
    wanted: AgentUser = AgentUser.model_validate(
        await _body(request), scim_ctx=Context.RESOURCE_REPLACEMENT_REQUEST
    )
    return _user_answer(await _change(context, caller, record, wanted), request)


async def patch_user(context: AppContext, request: Request, caller: Caller) -> Response:
    record = await _record(context, caller, _row_id(request))
    patch = PatchOp[AgentUser].model_validate(
        await _body(request), scim_ctx=Context.RESOURCE_PATCH_REQUEST
    )
    user = user_of(record, _base(request))
    patch.patch(user)
    return _user_answer(await _change(context, caller, record, user), request)


async def delete_user(context: AppContext, request: Request, caller: Caller) -> Response:
    """Deactivate (and so log out) the agent: its history stays, and so does it."""
    record = await _record(context, caller, _row_id(request))
    if record.active:
        await agents.update_agent(
            context.changes,
            context.engine,
            caller.org,
            record.user_id,
            active=False,
            actor=caller.actor,
        )
    return Response(status_code=204)


async def service_provider_config(
    context: AppContext, request: Request, caller: Caller
) -> Response:
    return _answer(discovery.dump(discovery.service_provider_config(_base(request))))


def _listed(items: list[Any], model: Any) -> Response:
    listed = ListResponse[model](
        total_results=len(items), start_index=1, items_per_page=len(items), resources=items
    )
    return _answer(listed.model_dump(scim_ctx=Context.SEARCH_RESPONSE))


async def resource_types(context: AppContext, request: Request, caller: Caller) -> Response:
    return _listed([discovery.user_type(_base(request))], ResourceType)


async def resource_type(context: AppContext, request: Request, caller: Caller) -> Response:
    if request.path_params["id"] != "User":
        raise NotFoundException(detail=f"no ResourceType {request.path_params['id']!r}")
    return _answer(discovery.dump(discovery.user_type(_base(request))))


async def schemas(context: AppContext, request: Request, caller: Caller) -> Response:
    return _listed([discovery.user_schema(_base(request))], Schema)


async def schema(context: AppContext, request: Request, caller: Caller) -> Response:
    found = discovery.user_schema(_base(request))
    if request.path_params["id"] != found.id:
        raise NotFoundException(detail=f"no Schema {request.path_params['id']!r}")
    return _answer(discovery.dump(found))


async def _http_error(request: Request, exc: Exception) -> Response:
    """Starlette's own refusals (no such path, method not allowed) as SCIM Errors."""
    status = exc.status_code if isinstance(exc, HTTPException) else 400
    detail = "no such SCIM endpoint" if status == 404 else str(getattr(exc, "detail", "refused"))
    headers = getattr(exc, "headers", None)
    return _error(Error(status=status, detail=detail), headers)


def create_scim(context: AppContext) -> Starlette:
    def route(path: str, endpoint: Endpoint, methods: list[str]) -> Route:
        return Route(path, _authenticated(context, endpoint), methods=methods)

    return Starlette(
        routes=[
            route("/Users", list_users, ["GET"]),
            route("/Users", create_user, ["POST"]),
            route("/Users/.search", search_users, ["POST"]),
            route("/.search", search_users, ["POST"]),  # Users are the only resources
            route("/Users/{id}", get_user, ["GET"]),
            route("/Users/{id}", replace_user, ["PUT"]),
            route("/Users/{id}", patch_user, ["PATCH"]),
            route("/Users/{id}", delete_user, ["DELETE"]),
            route("/ServiceProviderConfig", service_provider_config, ["GET"]),
            route("/ResourceTypes", resource_types, ["GET"]),
            route("/ResourceTypes/{id}", resource_type, ["GET"]),
            route("/Schemas", schemas, ["GET"]),
            route("/Schemas/{id:path}", schema, ["GET"]),
        ],
        exception_handlers={HTTPException: _http_error},
    )

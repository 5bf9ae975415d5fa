"""What every administration page shares: the admin's request, the state of a form shown
again with its errors beside the fields, and the redirect after a change is made.

Error and confirmation messages are English message ids (marked with ``N_``) translated
in the templates; the confirmation travels as a fixed key in ``?done=``, never as user
text or a secret.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, TypeVar

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from agentstatus.service.errors import AlreadyExists, ImportRejected, NotFound, ServiceError
from agentstatus.web.pages import paging
from agentstatus.web.pages.common import PageRequest, Refused, page_request, render
from agentstatus.web.pages.paging import Paging

T = TypeVar("T")
ADMIN_PAGE = 200
"""Rows of an administration list on one page (a 50,000-agent organisation's list was
megabytes of HTML)."""
MAX_FIELD = 4096
MAX_FIELDS = 64
INVALID = 422
CONFLICT = 409


@dataclass(slots=True)
class Form:
    """One form's submitted values and its errors (message ids), keyed by field name."""

    name: str
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    details: dict[str, str] = field(default_factory=dict)
    """The service's own (English) words, where they tell which part was wrong."""
    problems: list[str] = field(default_factory=list)
    """The service's list of bad rows of a CSV import."""
    status: int = INVALID

    def id(self, key: str) -> str:
        return f"{self.name}-{key}"

    def value(self, key: str, default: str = "") -> str:
        return self.values.get(key, default)

    def error(self, key: str) -> str | None:
        return self.errors.get(key)

    def checked(self, key: str) -> bool:
        return self.values.get(key) == "on"

    @property
    def ok(self) -> bool:
        return not self.errors and not self.problems

    def check(
        self, key: str, message: str, run: Callable[[], T], *, detail: bool = False
    ) -> T | None:
        """``run()`` (a service check), or None with ``message`` beside field ``key``."""
        try:
            return run()
        except ServiceError as exc:
            self.refuse(key, message, exc, detail=detail)
            return None

    def refuse(
        self, key: str, message: str, exc: ServiceError | None = None, *, detail: bool = False
    ) -> None:
        self.errors.setdefault(key, message)
        if detail and exc is not None:
            self.details.setdefault(key, exc.message)
        if isinstance(exc, AlreadyExists):
            self.status = CONFLICT
        elif isinstance(exc, NotFound):
            self.status = 404
        if isinstance(exc, ImportRejected):
            self.problems = list(exc.problems)


async def admin_request(request: Request) -> PageRequest:
    """The page's admin visitor (Refused: sign in first, 403 for a supervisor)."""
    return await page_request(request, request.path_params["org"], admin=True)


AdminHandler = Callable[[Request, PageRequest], Awaitable[Response]]


def admin_page(handler: AdminHandler) -> Callable[[Request], Awaitable[Response]]:
    """A route for admins only: the handler gets the admin's page request; anyone else
    gets the sign-in page or a 403. A handler may raise Refused for its own refusals."""

    @wraps(handler)
    async def route(request: Request) -> Response:
        try:
            page = await admin_request(request)
            return await handler(request, page)
        except Refused as refused:  # not an admin, or a request the page cannot take
            return refused.response

    return route


async def read_form(request: Request, name: str, *, files: int = 0) -> tuple[Form, FormData]:
    data = await request.form(max_files=files, max_fields=MAX_FIELDS)
    values = {k: v[:MAX_FIELD] for k, v in data.items() if isinstance(v, str)}
    return Form(name, values), data


async def uploaded_text(data: FormData, key: str) -> str | None:
    """The uploaded file's text, or None when there is none or it is not UTF-8."""
    upload = data.get(key)
    try:
        if not isinstance(upload, UploadFile):
            return None
        return (await upload.read()).decode("utf-8")
    except UnicodeDecodeError:
        return None
    finally:
        # The spooled temporary files are ours to close: left to the garbage collector they
        # hold a descriptor each until then.
        await data.close()


def paginate(page: PageRequest, items: list[T]) -> tuple[list[T], Paging | None]:
    """An admin list's page (``ADMIN_PAGE`` rows)."""
    return paging.paginate(page, items, ADMIN_PAGE)


def area_path(page: PageRequest, area: str) -> str:
    """The address of an administration area's page."""
    return f"/o/{page.org}/admin/{area}"


def done(page: PageRequest, area: str, key: str) -> Response:
    """The redirect after a change (POST-redirect-GET), carrying the confirmation's key."""
    return RedirectResponse(f"{area_path(page, area)}?done={key}", status_code=303)


def show(
    page: PageRequest,
    area: str,
    values: Mapping[str, Any],
    confirmations: Mapping[str, str],
    status: int = 200,
) -> Response:
    """An area's page; ``confirmations`` maps the ``done`` keys to their messages."""
    confirmation = confirmations.get(page.request.query_params.get("done", ""))
    return render(
        page,
        f"admin_{area}.html",
        {"area": area, "confirmation": confirmation, **values},
        status,
    )


def failed(*forms: Form) -> int:
    """The status of a page shown again with errors: the first failed form's."""
    return next((f.status for f in forms if not f.ok), 200)

"""Long lists shown a page at a time (``?page=``): the admin lists and the report's agents.
One place reads the page number, so a number it cannot be is the same 422 everywhere."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlencode

from agentstatus.domain.integers import INT32_MAX, parse_int
from agentstatus.web import messages
from agentstatus.web.pages.common import PageRequest, Refused, error_page

T = TypeVar("T")
INVALID = 422


@dataclass(frozen=True, slots=True)
class Paging:
    number: int
    pages: int
    total: int
    previous: str | None
    next: str | None


def paginate(page: PageRequest, items: list[T], size: int) -> tuple[list[T], Paging | None]:
    """The rows of the page ``?page=`` asks for (Refused, 422, for a number it cannot be),
    and the links to the others, which keep the request's other parameters; None when
    everything fits on one page."""
    asked = parse_int(page.request.query_params.get("page", "1"), 1, INT32_MAX)
    if asked is None:
        raise Refused(error_page(page.request, INVALID, messages.BAD_NUMBER))
    if len(items) <= size:
        return items, None
    pages = -(-len(items) // size)
    number = min(asked, pages)
    kept = [(k, v) for k, v in page.request.query_params.multi_items() if k != "page"]

    def link(n: int) -> str:
        return f"{page.request.url.path}?{urlencode([*kept, ('page', str(n))])}"

    paging = Paging(
        number,
        pages,
        len(items),
        link(number - 1) if number > 1 else None,
        link(number + 1) if number < pages else None,
    )
    return items[(number - 1) * size : number * size], paging

"""The ``text/csv`` request body of the import endpoints, and what an import answers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.datastructures import Headers

from agentstatus.http.api.limits import CSV_MEDIA_TYPE, media_type
from agentstatus.http.api.models import ResponseBody
from agentstatus.http.errors import UnsupportedMediaType
from agentstatus.service.csv_rows import MAX_ROWS
from agentstatus.service.errors import InvalidInput


class ImportResult(ResponseBody):
    created: int
    updated: int


def csv_request_body(header: str) -> dict[str, Any]:
    """OpenAPI ``openapi_extra`` describing a CSV body with the given header line."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                CSV_MEDIA_TYPE: {
                    "schema": {"type": "string"},
                    "example": f"{header}\n",
                }
            },
            "description": (
                f"UTF-8 CSV with the header `{header}`, at most {MAX_ROWS:,} rows. Every row "
                "is checked first: a bad row (each is listed) means nothing is imported. The "
                "rows are then written a few thousand per transaction; should the database "
                "fail part-way (503), import the same file again to finish: rows already "
                "present are updated."
            ),
        }
    }


async def read_csv(request: Request) -> str:
    if media_type(Headers(scope=request.scope)) != CSV_MEDIA_TYPE:
        raise UnsupportedMediaType(f"send the file as Content-Type: {CSV_MEDIA_TYPE}")
    data = await request.body()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("the file is not UTF-8 text") from None


CsvText = Annotated[str, Depends(read_csv)]

"""Base classes of the API's request and response bodies."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class RequestBody(BaseModel):
    """A JSON request body: unknown fields are refused (422) rather than ignored."""

    model_config = ConfigDict(extra="forbid")


class ResponseBody(BaseModel):
    """A JSON answer, buildable from the service layer's dataclasses."""

    model_config = ConfigDict(from_attributes=True)

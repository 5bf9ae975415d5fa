"""Signing in to a real server's pages over HTTP, as a browser does (for the HTML tests)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
from sqlalchemy import Engine

from agentstatus.service import users
from agentstatus.service.tokens import Role

PASSWORD = "correct horse battery"
SAME_ORIGIN = {"sec-fetch-site": "same-origin"}


@dataclass(frozen=True, slots=True)
class WebUser:
    email: str
    password: str


def add_user(engine: Engine, email: str, role: Role, org: str | None, name: str = "") -> WebUser:
    users.add_user(engine, email, role, PASSWORD, org, name)
    return WebUser(email, PASSWORD)


@contextmanager
def signed_in(base_url: str, user: WebUser) -> Iterator[httpx.Client]:
    """An HTTP client holding a session cookie of ``user``."""
    with httpx.Client(base_url=base_url, timeout=10) as client:
        answer = client.post(
            "/sign-in",
            data={"email": user.email, "password": user.password, "next": "/"},
            headers=SAME_ORIGIN,
        )
        assert answer.status_code == 303, answer.text
        yield client


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()

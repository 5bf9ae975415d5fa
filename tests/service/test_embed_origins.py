"""Embed origins are kept exactly as a browser sends ``Origin``, so a plain comparison
decides; anything that is not an origin is refused in words."""

from __future__ import annotations

import pytest

from agentstatus.service.embed_origins import normalise_origin
from agentstatus.service.errors import InvalidInput


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("https://crm.example.com", "https://crm.example.com"),
        ("HTTPS://CRM.Example.com/", "https://crm.example.com"),
        ("https://crm.example.com:443", "https://crm.example.com"),
        ("http://crm.example.com:80", "http://crm.example.com"),
        ("https://crm.example.com:8443", "https://crm.example.com:8443"),
        ("http://localhost:3000", "http://localhost:3000"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("https://[2001:DB8::1]:8443", "https://[2001:db8::1]:8443"),
        ("https://xn--4dbrk0ce.example", "https://xn--4dbrk0ce.example"),
    ],
)
def test_origins_are_normalised(given: str, kept: str) -> None:
    assert normalise_origin(given) == kept


@pytest.mark.parametrize(
    "given",
    [
        "",
        "*",
        "null",
        "crm.example.com",
        "ftp://crm.example.com",
        "https://",
        "https://crm.example.com/app",
        "https://crm.example.com?x=1",
        "https://crm.example.com#x",
        "https://u:p@crm.example.com",
        "https://crm.example.com:port",
        "https://crm.example.com:70000",
        "https://cr m.example.com",
        "https://crm_example.com",
        "https://שלום.example",
        "https://[::g]",
        "https://" + "a" * 300,
    ],
)
def test_anything_else_is_refused(given: str) -> None:
    with pytest.raises(InvalidInput, match="origin"):
        normalise_origin(given)

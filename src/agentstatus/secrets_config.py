"""Finding the key that encrypts webhook secrets, for the server and the CLI alike."""

from __future__ import annotations

from agentstatus.domain.secret_box import (
    SecretBox,
    SecretKeyError,
    key_file_for,
    load_or_create_key_file,
)
from agentstatus.storage.database import parse_url, sqlite_path


def secret_box(database_url: str, secret_key: str | None) -> SecretBox:
    """AGENTSTATUS_SECRET_KEY when set; otherwise, on SQLite, a key file beside the
    database (created on first use). PostgreSQL deployments must set the key, since every
    instance needs the same one and it must not live in the database it protects."""
    if secret_key:
        return SecretBox(secret_key)
    url = parse_url(database_url)
    if url.get_backend_name() == "sqlite":
        return SecretBox(load_or_create_key_file(key_file_for(sqlite_path(url))))
    raise SecretKeyError(
        "webhooks on PostgreSQL need AGENTSTATUS_SECRET_KEY (the same on every instance)"
    )


def optional_secret_box(database_url: str, secret_key: str | None) -> SecretBox | None:
    try:
        return secret_box(database_url, secret_key)
    except SecretKeyError:
        return None

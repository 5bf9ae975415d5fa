"""Where the key that encrypts webhook secrets comes from, for the server and the CLI alike:
``AGENTSTATUS_SECRET_KEY`` when set, otherwise (SQLite only) a key file beside the database."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet

from agentstatus.domain.secret_box import SecretBox, SecretKeyError
from agentstatus.storage.database import parse_url, sqlite_path


class SecretKeyMissing(SecretKeyError):
    """PostgreSQL without AGENTSTATUS_SECRET_KEY: webhooks cannot be used."""

    def __init__(self) -> None:
        super().__init__(
            "webhooks and phone systems on PostgreSQL need AGENTSTATUS_SECRET_KEY (the same on "
            "every instance)"
        )


def key_file_for(database_path: Path) -> Path:
    return database_path.with_name(database_path.name + ".key")


def load_or_create_key_file(path: Path) -> bytes:
    """The embedded default keeps its key in a file beside the database (mode 0600)."""
    key = Fernet.generate_key()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as handle:
        handle.write(key + b"\n")
        handle.flush()
        os.fsync(handle.fileno())
    return key


def secret_box_for(database_url: str, secret_key: str | None) -> SecretBox:
    """The key wins when set; otherwise, on SQLite, the key file (created on first use).
    PostgreSQL deployments must set the key, since every instance needs the same one and
    it must not live in the database it protects."""
    if secret_key:
        return SecretBox(secret_key)
    url = parse_url(database_url)
    if url.get_backend_name() == "sqlite":
        return SecretBox(load_or_create_key_file(key_file_for(sqlite_path(url))))
    raise SecretKeyMissing


def secret_box_if_configured(database_url: str, secret_key: str | None) -> SecretBox | None:
    """None on PostgreSQL without a key: the server runs, and only webhooks are refused."""
    try:
        return secret_box_for(database_url, secret_key)
    except SecretKeyMissing:
        return None


def secret_box_for_reading(database_url: str, secret_key: str | None) -> SecretBox:
    """The box that opens what a database already holds. An SQLite database's key file wins
    over the key, which during a copy is the target's."""
    url = parse_url(database_url)
    if url.get_backend_name() == "sqlite":
        key_file = key_file_for(sqlite_path(url))
        if key_file.exists():
            return SecretBox(key_file.read_bytes().strip())
    return secret_box_for(database_url, secret_key)

"""Errors the service layer raises; the API and the CLI map each class to one answer.

Messages are written for the person who made the mistake and never contain a secret.
"""

from __future__ import annotations


class ServiceError(Exception):
    """Base class: the operation was refused and nothing was changed."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(ServiceError):
    """The named organisation, agent, extension, status or token does not exist."""


class AlreadyExists(ServiceError):
    """Something with that name or id already exists."""


class CodeTaken(AlreadyExists):
    """The Code asked for is another organisation's (told on the command line only)."""


class InvalidInput(ServiceError):
    """A value is malformed or out of range."""


class ImportRejected(InvalidInput):
    """A CSV import had bad rows; nothing was imported."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"{len(problems)} bad row(s); nothing was imported")
        self.problems = problems


class TooMany(ServiceError):
    """A limit on what one client may hold at once (HTTP 429); try again later."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Unavailable(ServiceError):
    """The database did not take the change (outcome row 11); nothing was applied."""


class ImportIncomplete(Unavailable):
    """The database failed part-way through an import: the rows before were written
    (an import is idempotent, so importing the same file again finishes it)."""

"""``agentstatus client``: the status API from the command line, as a CRM calls it, through
:mod:`agentstatus.client` (so it works against agentstatus and api.voicenter.com alike)."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import click

from agentstatus.cli.output import print_json, print_table
from agentstatus.client import (
    AgentStatus,
    AgentStatusError,
    AuthorizationFailed,
    Client,
    ExtensionInUse,
    ExtensionNotFound,
    MissingParameter,
    RateLimited,
    Status,
    StatusNotSupported,
    StatusResult,
    TransportError,
    UpdateFailed,
)

T = TypeVar("T")

EXIT_UNEXPECTED = 1
EXIT_CODES: tuple[tuple[type[AgentStatusError], int, str], ...] = (
    (AuthorizationFailed, 10, "wrong Code, unknown user, address not allowed"),
    (MissingParameter, 11, "no Code, user, extension or status"),
    (ExtensionNotFound, 12, "no such extension"),
    (ExtensionInUse, 13, "another agent holds the extension"),
    (StatusNotSupported, 14, "no such enabled status"),
    (UpdateFailed, 15, "the server could not store the change (safe to resend)"),
    (RateLimited, 16, "too many failed authentications from this address"),
    (TransportError, 17, "the server could not be reached"),
)
EXIT_HELP = "\n".join(
    [
        "\b\nExit codes:",
        "   0  OK",
        "   1  an answer that is not the Voicenter format (check --base-url)",
        "   2  usage error (a missing or bad option)",
        *(f"  {code}  {kind.__name__}: {words}" for kind, code, words in EXIT_CODES),
    ]
)


def exit_code(error: AgentStatusError) -> int:
    for kind, code, _ in EXIT_CODES:
        if isinstance(error, kind):
            return code
    return EXIT_UNEXPECTED


@dataclass(frozen=True)
class Connection:
    """Where and how to call the API, from the options every subcommand shares."""

    base_url: str
    code: str | None
    as_json: bool
    method: str
    timeout: float
    retries: int

    def client(self) -> Client:
        try:
            return Client(
                self.code,
                self.base_url,
                timeout=self.timeout,
                retries=self.retries,
                method=self.method,
            )
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None

    def run(self, action: Callable[[Client], T]) -> T:
        """``action(client)``; a refusal becomes one ``error:`` line and its exit code."""
        try:
            with self.client() as client:
                return action(client)
        except AgentStatusError as exc:
            if self.as_json and exc.fields:
                print_json(exc.fields)
            click.echo(f"error: {exc}", err=True)
            raise click.exceptions.Exit(exit_code(exc)) from None


_CONNECTION_OPTIONS = (
    click.option(
        "--base-url",
        envvar="AGENTSTATUS_BASE_URL",
        default="https://api.voicenter.com",
        show_default=True,
        help="The API's address (env AGENTSTATUS_BASE_URL).",
    ),
    click.option(
        "--code",
        envvar=["AGENTSTATUS_CODE", "VOICENTER_API_CODE"],
        help="The organisation's Code (env AGENTSTATUS_CODE, then VOICENTER_API_CODE; "
        "prefer the environment: other users can see command lines).",
    ),
    click.option("--json", "as_json", is_flag=True, help="Print the server's JSON objects."),
    click.option(
        "--method",
        type=click.Choice(["POST", "GET"], case_sensitive=False),
        default="POST",
        show_default=True,
        help="POST sends JSON; GET puts the parameters (and the Code) in the URL.",
    ),
    click.option("--timeout", type=float, default=10.0, show_default=True, help="Seconds."),
    click.option(
        "--retries",
        type=click.IntRange(min=0),
        default=3,
        show_default=True,
        help="Retries on connection errors, timeouts, 429, 502, 503 and 504.",
    ),
)


def connection_options(command: Callable[..., None]) -> Callable[..., None]:
    """Add the shared options, handing the command one ``Connection`` instead."""

    @functools.wraps(command)
    def wrapper(
        *,
        base_url: str,
        code: str | None,
        as_json: bool,
        method: str,
        timeout: float,
        retries: int,
        **kwargs: Any,
    ) -> None:
        connection = Connection(base_url, code, as_json, method.upper(), timeout, retries)
        command(connection, **kwargs)

    for option in reversed(_CONNECTION_OPTIONS):
        wrapper = option(wrapper)
    return wrapper


def _words(text: str) -> tuple[str, ...]:
    return tuple(re.findall(r"[a-z0-9]+", text.lower()))


def resolve_status(text: str, statuses: list[Status]) -> Status:
    """The status named ``text``: its whole name, or the start of its words ("lunch",
    "dep meet"), case and punctuation ignored."""
    wanted = _words(text)
    exact = [s for s in statuses if _words(s.name) == wanted]
    if exact:
        return exact[0]
    found = [
        s
        for s in statuses
        if wanted
        and len(wanted) <= len(_words(s.name))
        and all(w.startswith(q) for q, w in zip(wanted, _words(s.name), strict=False))
    ]
    if len(found) == 1:
        return found[0]
    if found:
        names = ", ".join(f"{s.id} {s.name!r}" for s in found)
        raise click.UsageError(f"status {text!r} could be any of: {names}; give its number")
    names = ", ".join(f"{s.id} {s.name!r}" for s in statuses)
    raise StatusNotSupported(f"no enabled status is called {text!r}; the statuses are: {names}")


def _report(connection: Connection, result: StatusResult, words: str) -> None:
    if connection.as_json:
        print_json(
            {
                "Status": result.status,
                "StatusError": result.status_error,
                "StatusErroMessage": result.message,
            }
        )
    else:
        click.echo(f"OK: {words}")


@click.group("client", epilog=EXIT_HELP)
def group() -> None:
    """Call a running status API (agentstatus or api.voicenter.com) as a CRM does.

    Every subcommand takes --base-url, --code, --json, --method, --timeout and --retries.
    """


@group.command("set-status", epilog=EXIT_HELP)
@click.option("--user", "user_id", required=True, help="The agent's UserId.")
@click.option("--extension", required=True, help="The extension (ExtensionUser).")
@click.option(
    "--status",
    "status_text",
    required=True,
    help="A status number, or a name from GetStatusesList (lunch, training, …).",
)
@connection_options
def set_status(connection: Connection, user_id: str, extension: str, status_text: str) -> None:
    """Put agent --user at --extension in --status (logging it in if needed)."""

    def change(client: Client) -> tuple[StatusResult, int, str]:
        text = status_text.strip()
        if text.isascii() and text.isdigit():
            status, label = int(text), f"status {int(text)}"
        else:
            named = resolve_status(text, client.statuses())
            status, label = named.id, f"status {named.id} ({named.name})"
        return client.set_status(user_id, extension, status), status, label

    result, status, label = connection.run(change)
    words = (
        f"user {user_id} is logged out"
        if status == AgentStatus.LOGOUT
        else f"user {user_id} is at extension {extension} in {label}"
    )
    _report(connection, result, words)


@group.command("login", epilog=EXIT_HELP)
@click.option("--user", "user_id", required=True, help="The agent's UserId.")
@click.option("--extension", required=True, help="The extension (ExtensionUser).")
@connection_options
def login(connection: Connection, user_id: str, extension: str) -> None:
    """Log agent --user in at --extension (status 1)."""
    result = connection.run(lambda client: client.login(user_id, extension))
    _report(connection, result, f"user {user_id} is logged in at extension {extension}")


@group.command("logout", epilog=EXIT_HELP)
@click.option("--user", "user_id", required=True, help="The agent's UserId.")
@click.option("--extension", required=True, help="Any extension of the organisation.")
@connection_options
def logout(connection: Connection, user_id: str, extension: str) -> None:
    """Log agent --user out (status 2), freeing whatever extension it holds."""
    result = connection.run(lambda client: client.logout(user_id, extension))
    _report(connection, result, f"user {user_id} is logged out")


@group.command("statuses", epilog=EXIT_HELP)
@connection_options
def statuses(connection: Connection) -> None:
    """List the organisation's enabled statuses (GetStatusesList)."""
    found = connection.run(lambda client: client.statuses())
    if connection.as_json:
        print_json([dict(s.raw) for s in found])
        return
    print_table(["id", "name", "color"], [(s.id, s.name, s.color) for s in found])


@group.command("extensions", epilog=EXIT_HELP)
@connection_options
def extensions(connection: Connection) -> None:
    """List the organisation's extensions (GetExtensions)."""
    found = connection.run(lambda client: client.extensions())
    if connection.as_json:
        print_json([dict(e.raw) for e in found])
        return
    print_table(["extension", "name"], [(e.extension, e.name) for e in found])


@group.command("presence", epilog=EXIT_HELP)
@click.option("--extension", default=None, help="Only this extension.")
@connection_options
def presence(connection: Connection, extension: str | None) -> None:
    """Show who is logged in at each extension, in which status (GetExtensionsCalls)."""
    found = connection.run(lambda client: client.presence(extension))
    if connection.as_json:
        print_json([dict(p.raw) for p in found])
        return
    print_table(
        ["extension", "name", "user", "status"],
        [(p.extension, p.name, p.user_id or "-", p.status if p.logged_in else "-") for p in found],
    )


@group.command("queues", epilog=EXIT_HELP)
@click.option("--queue", default=None, help="Only this queue.")
@connection_options
def queues(connection: Connection, queue: str | None) -> None:
    """Show the callers waiting in each queue, longest first (GetQueuesCallers): one row
    per caller, and a queue with nobody waiting as one row of "-"."""
    found = connection.run(lambda client: client.queues(queue))
    if connection.as_json:
        print_json([dict(q.raw) for q in found])
        return
    rows: list[tuple[object, ...]] = []
    for q in found:
        rows.extend((q.name, c.phone or "-", c.call_id, c.duration) for c in q.callers)
        if not q.callers:
            rows.append((q.name, "-", "-", "-"))
    print_table(["queue", "phone", "call", "waited (s)"], rows)

"""``agentstatus history`` and ``agentstatus report``: what happened, and for how long."""

from __future__ import annotations

import click
import orjson

from agentstatus.cli.output import print_json, print_table
from agentstatus.cli.state import CliState, pass_state
from agentstatus.domain.clock import parse_time, to_iso
from agentstatus.domain.event_types import MISSED_CALL_EVENT, OVERDUE_EVENT, PHONE_EVENT
from agentstatus.service import reports
from agentstatus.service.history import MAX_PAGE, HistoryEvent, read_history


class TimeParam(click.ParamType):  # type: ignore[type-arg]
    name = "TIME"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> int:
        if isinstance(value, int):
            return value
        try:
            return parse_time(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


TIME = TimeParam()


def _at(status: int, extension: str | None) -> str:
    return f"{status}@{extension or '-'}"


def _call(event: HistoryEvent) -> str:
    """``sip1002 in from 0501234567 (Dana)``, ``sip1002 out to 0509876543``."""
    call = orjson.loads(event.call or "{}")
    extension = call.get("extension") or event.new_extension or "-"
    if call.get("direction") == "out":
        said = f"{extension} out to {call.get('dialled') or '?'}"
    else:
        said = f"{extension} in from {call.get('caller_number') or '?'}"
        if call.get("caller_name"):
            said += f" ({call['caller_name']})"
    return said


def _missed(event: HistoryEvent) -> str:
    """``missed call at sip1 (2 in a row, queue support)``."""
    detail = orjson.loads(event.detail or "{}")
    return (
        f"missed call at {event.new_extension or '-'} "
        f"({detail.get('count', '?')} in a row, queue {detail.get('queue') or '?'})"
    )


def _queue(event: HistoryEvent) -> str:
    """``queue support: 0501234567 answered after 12s``."""
    q = event.queue_json()
    said = f"queue {q['name']}: {q['phone'] or 'unknown caller'} {q['change']}"
    wait = q["wait_seconds"]
    if isinstance(wait, float):
        said += f" after {wait:g}s"
    return said


def describe(event: HistoryEvent) -> str:
    """What one history row says, for a person: a change's statuses and extensions, a
    call's extension and other party, a warning's status and when its limit passed."""
    if event.type == OVERDUE_EVENT:
        due = "" if event.due_ms is None else f", limit passed at {to_iso(event.due_ms)}"
        return f"still {_at(event.new_status, event.new_extension)}{due}"
    if event.type == MISSED_CALL_EVENT:
        return _missed(event)
    if event.is_queue:
        return _queue(event)
    if event.type == PHONE_EVENT:
        phone = orjson.loads(event.detail or "{}").get("phone", "?")
        return f"{event.new_extension or '-'} phone {phone}"
    if not event.is_change:
        return _call(event)
    change = f"{_at(event.prev_status, event.prev_extension)} → "
    change += _at(event.new_status, event.new_extension)
    return change if event.policy is None else f"{change} ({event.policy})"


@click.command("history")
@click.argument("org")
@click.option("--user", "user_id", help="Only this agent.")
@click.option("--from", "start", type=TIME, help="ISO date or time (UTC when no offset).")
@click.option("--to", "end", type=TIME, help="ISO date or time, exclusive.")
@click.option("--after", type=int, help="Continue after this event id (paging).")
@click.option("--limit", type=click.IntRange(1, MAX_PAGE), default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for programs.")
@pass_state
def history(
    state: CliState,
    org: str,
    user_id: str | None,
    start: int | None,
    end: int | None,
    after: int | None,
    limit: int,
    as_json: bool,
) -> None:
    """Show ORG's history in the order it happened: status changes (agent.login,
    agent.status, agent.logout), limits' warnings (agent.overdue), calls (call.started,
    call.answered, call.held, call.resumed, call.ended) and the callers in the phone
    system's queues (queue.caller_joined, _answered, _abandoned, _left; with --user, the
    agent's own events only, no queue's)."""
    page = read_history(
        state.engine, org, user_id=user_id, start_ms=start, end_ms=end, after=after, limit=limit
    )
    if as_json:
        print_json({"events": [e.as_json() for e in page.events], "next_after": page.next_after})
        return
    print_table(
        ["id", "at", "user_id", "event", "what", "source"],
        [
            (
                e.id,
                to_iso(e.at_ms),
                e.user_id,
                e.type,
                describe(e),
                e.source,
            )
            for e in page.events
        ],
    )
    if page.next_after is not None:
        click.echo(f"more: --after {page.next_after}")


@click.command("report")
@click.argument("org")
@click.option("--from", "start", type=TIME, help="Default: 24 hours ago.")
@click.option("--to", "end", type=TIME, help="Default: now.")
@click.option("--user", "user_ids", multiple=True, help="Only these agents (repeatable).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv"]),
    default="table",
    show_default=True,
)
@pass_state
def report(
    state: CliState,
    org: str,
    start: int | None,
    end: int | None,
    user_ids: tuple[str, ...],
    fmt: str,
) -> None:
    """Time each agent spent in each status over a range."""
    start_ms, end_ms = reports.report_range(start, end)
    rows = reports.time_in_status(
        state.engine, org, start_ms, end_ms, list(user_ids) if user_ids else None
    )
    if fmt == "csv":
        click.echo(reports.as_csv(rows), nl=False)
    elif fmt == "json":
        print_json([r.as_json() for r in rows])
    else:
        print_table(
            ["user_id", "name", "status", "seconds", "over_limit"],
            [
                (
                    r.user_id,
                    r.name,
                    f"{r.status} {r.status_name or ''}".strip(),
                    f"{r.seconds:.0f}",
                    f"{r.over_limit_seconds:.0f}",
                )
                for r in rows
            ],
        )

"""``agentstatus queues`` (the callers waiting in the phone system's queues and each queue's
day) and ``agentstatus queue-service-level`` (a queue's service-level threshold)."""

from __future__ import annotations

import click

from agentstatus.cli.output import json_option, print_json, print_table
from agentstatus.cli.state import CliState, pass_state
from agentstatus.domain.clock import now_ms
from agentstatus.domain.durations import WRITTEN, parse_duration, written
from agentstatus.domain.queues import DEFAULT_SERVICE_LEVEL_SECONDS, MAX_SERVICE_LEVEL_SECONDS
from agentstatus.service import queues as service


def _seconds(ms: int | None) -> str:
    return "-" if ms is None else written(ms // 1000)


def _share(level: float | None) -> str:
    return "-" if level is None else f"{level:.0%}"


@click.command("queues")
@click.argument("org")
@json_option
@pass_state
def queues(state: CliState, org: str, as_json: bool) -> None:
    """Show ORG's queues (those the phone system has told of): callers waiting, the
    longest wait now, and today's offered, answered and abandoned callers, service level
    (answered within the queue's threshold, of those answered or abandoned) and average
    wait (of those answered).

    JSON: [{"name", "id", "weight", "service_level_seconds", "waiting": [{"phone",
    "call_id", "joined_at", "wait_seconds"}], "today": {"offered", "answered",
    "abandoned", "answered_within", "service_level", "average_wait_seconds",
    "longest_wait_seconds"}}, ...], as GET /api/v1/orgs/ORG/queues answers.
    """
    at = now_ms()
    found = service.queues_now(state.engine, org, at)
    if as_json:
        print_json([q.as_json(at) for q in found])
        return
    print_table(
        [
            "queue",
            "waiting",
            "longest wait",
            "offered",
            "answered",
            "abandoned",
            "service level",
            "average wait",
        ],
        [
            (
                q.settings.name,
                len(q.waiting),
                _seconds(q.longest_wait_ms(at)) if q.waiting else "-",
                q.today.offered,
                q.today.answered,
                q.today.abandoned,
                f"{_share(q.today.service_level)} in {q.settings.service_level_seconds}s",
                _seconds(q.today.average_wait_ms),
            )
            for q in found
        ],
    )


@click.command(
    "queue-service-level",
    help=f"Count QUEUE's callers answered within DURATION of waiting (20s, 1m; 1s to "
    f"{written(MAX_SERVICE_LEVEL_SECONDS)}) in its service level, from the next one answered "
    f"[default for every queue: {written(DEFAULT_SERVICE_LEVEL_SECONDS)}]. QUEUE is a queue "
    "the phone system has told of (a caller waited in it).",
)
@click.argument("org")
@click.argument("queue")
@click.argument("threshold", metavar="DURATION")
@pass_state
def queue_service_level(state: CliState, org: str, queue: str, threshold: str) -> None:
    try:
        seconds = parse_duration(threshold)
    except ValueError:
        raise click.BadParameter(f"expected {WRITTEN}", param_hint="DURATION") from None
    found = service.set_queue(state.engine, org, queue, seconds)
    click.echo(
        f"{org}: queue {found.name}: service level counts answers within "
        f"{written(found.service_level_seconds)}"
    )

"""``agentstatus webhook``: endpoints that receive signed event POSTs, and deliveries."""

from __future__ import annotations

import asyncio

import click

from agentstatus.cli.output import json_option, print_json, print_table
from agentstatus.cli.state import CliState, pass_state
from agentstatus.domain.event_types import EVENT_TYPES
from agentstatus.events.delivery import DeliveryPolicy, WebhookDeliverer
from agentstatus.service import webhooks


@click.group("webhook")
def group() -> None:
    """Add, list, remove and test webhook endpoints; inspect deliveries."""


@group.command("add")
@click.argument("org")
@click.argument("url")
@click.option(
    "--event",
    "events",
    multiple=True,
    type=click.Choice([*EVENT_TYPES, "*"]),
    help="Only these event types (repeatable; default: all).",
)
@click.option("--secret", help="Signing secret (default: generated). At least 16 characters.")
@click.option("--description", default="")
@click.option(
    "--cloudevents",
    is_flag=True,
    help="Send each event as a CloudEvents 1.0 structured JSON envelope.",
)
@pass_state
def add(
    state: CliState,
    org: str,
    url: str,
    events: tuple[str, ...],
    secret: str | None,
    description: str,
    cloudevents: bool,
) -> None:
    """Send ORG's events to URL; prints the signing secret last (shown only once)."""
    created = webhooks.add_endpoint(
        state.engine,
        state.secret_box,
        org,
        url,
        list(events) or None,
        outbound=state.settings.outbound_policy(),
        secret=secret,
        description=description,
        cloudevents=cloudevents,
    )
    click.echo(f"added webhook {created.endpoint.id} for {org}: {created.endpoint.url}")
    click.echo("signing secret (shown once):")
    click.echo(created.secret)
    if created.standard_secret != created.secret:
        click.echo("its Standard Webhooks form (for a standardwebhooks library):")
        click.echo(created.standard_secret)


@group.command("list")
@click.argument("org")
@json_option
@pass_state
def list_(state: CliState, org: str, as_json: bool) -> None:
    """List ORG's webhook endpoints (never their secrets)."""
    found = webhooks.list_endpoints(state.engine, org)
    if as_json:
        print_json([e.as_json() for e in found])
        return
    print_table(
        ["id", "url", "events", "enabled", "description"],
        [
            (e.id, e.url, ",".join(e.events), "yes" if e.enabled else "no", e.description)
            for e in found
        ],
    )


@group.command("remove")
@click.argument("org")
@click.argument("endpoint_id", metavar="ID", type=int)
@pass_state
def remove(state: CliState, org: str, endpoint_id: int) -> None:
    """Remove endpoint ID and its delivery record."""
    webhooks.remove_endpoint(state.engine, org, endpoint_id)
    click.echo(f"removed webhook {endpoint_id}")


@group.command("disable")
@click.argument("org")
@click.argument("endpoint_id", metavar="ID", type=int)
@pass_state
def disable(state: CliState, org: str, endpoint_id: int) -> None:
    """Stop queueing events for endpoint ID (already queued ones are still delivered)."""
    webhooks.set_endpoint_enabled(state.engine, org, endpoint_id, False)
    click.echo(f"disabled webhook {endpoint_id}")


@group.command("enable")
@click.argument("org")
@click.argument("endpoint_id", metavar="ID", type=int)
@pass_state
def enable(state: CliState, org: str, endpoint_id: int) -> None:
    """Queue events for endpoint ID again."""
    webhooks.set_endpoint_enabled(state.engine, org, endpoint_id, True)
    click.echo(f"enabled webhook {endpoint_id}")


@group.command("deliveries")
@click.argument("org")
@click.option("--endpoint", "endpoint_id", type=int, help="Only this endpoint.")
@click.option("--state", "state_filter", type=click.Choice(webhooks.DELIVERY_STATES))
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@json_option
@pass_state
def deliveries(
    state: CliState,
    org: str,
    endpoint_id: int | None,
    state_filter: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """Show recent deliveries, newest first (failed ones gave up after 24 hours)."""
    found = webhooks.list_deliveries(
        state.engine, org, endpoint_id=endpoint_id, state=state_filter, limit=limit
    )
    if as_json:
        print_json([d.as_json() for d in found])
        return
    print_table(
        ["id", "endpoint", "event", "type", "state", "attempts", "last"],
        [
            (
                d.id,
                d.endpoint_id,
                d.history_id or "test",
                d.event_type,
                d.state,
                d.attempts,
                d.last_error or d.last_status_code or "",
            )
            for d in found
        ],
    )


@group.command("test")
@click.argument("org")
@click.argument("endpoint_id", metavar="ID", type=int)
@pass_state
def test(state: CliState, org: str, endpoint_id: int) -> None:
    """Send a webhook.test event to endpoint ID now and show the answer (exit 1 on failure;
    a failed test is retried by the server like any delivery)."""
    settings = state.settings
    box = state.secret_box
    delivery_id = webhooks.enqueue_test(state.engine, org, endpoint_id)
    policy = DeliveryPolicy(timeout_seconds=settings.webhook_timeout_seconds)
    deliverer = WebhookDeliverer(state.engine, box, policy, settings.outbound_policy())

    async def send() -> None:
        # Only this test event: never another endpoint's backlog, nor its slow receiver.
        async with deliverer.client() as client:
            await deliverer.run_once(client, only=delivery_id)

    asyncio.run(send())
    (result,) = [
        d
        for d in webhooks.list_deliveries(state.engine, org, endpoint_id=endpoint_id)
        if d.id == delivery_id
    ]
    if result.state == "delivered":
        click.echo(f"delivered test event to webhook {endpoint_id}: HTTP {result.last_status_code}")
        return
    raise click.ClickException(
        f"test event not delivered to webhook {endpoint_id}: "
        f"{result.last_error or result.last_status_code}"
    )

"""``agentstatus org``: organisations, their codes and address allow-lists."""

from __future__ import annotations

import click

from agentstatus.cli.output import json_option, print_json, print_table
from agentstatus.cli.state import CliState, pass_state
from agentstatus.cli.wrap_up import set_wrap_up_from, wrap_up_words
from agentstatus.domain.clock import to_iso
from agentstatus.domain.codes import STRONG_RULE, is_strong
from agentstatus.domain.durations import parse_duration
from agentstatus.domain.missed_calls import DEFAULT_STATUS
from agentstatus.domain.wrap_up import DEFAULT_STATUS as WRAP_UP_STATUS
from agentstatus.service import (
    embed_origins,
    missed_calls,
    organisations,
    phone_registration,
    policies,
    timezones,
)


def _warn_if_weak(code: str | None) -> None:
    """The operator may keep any Code (one the CRM already sends to Voicenter), but should
    know when the API would refuse it as too easy to guess."""
    if code is not None and not is_strong(code):
        click.echo(
            f"warning: this Code is weak: the API accepts only Codes of {STRONG_RULE}; "
            "whoever guesses it can change this organisation's statuses",
            err=True,
        )


@click.group("org")
def group() -> None:
    """Create and list organisations, rotate codes, set address allow-lists."""


@group.command("create")
@click.argument("org")
@click.option(
    "--code",
    help="Use this Code instead of a generated one (192 random bits); any is accepted, "
    "a weak one is warned about.",
)
@pass_state
def create(state: CliState, org: str, code: str | None) -> None:
    """Create ORG with the default status catalogue; prints its Code last (shown only once)."""
    created = organisations.create_organisation(state.engine, org, code)
    _warn_if_weak(code)
    click.echo(f"created organisation {created.name}; its Code (keep it secret, shown once):")
    click.echo(created.code)


@group.command("list")
@json_option
@pass_state
def list_(state: CliState, as_json: bool) -> None:
    """List organisations."""
    orgs = organisations.list_organisations(state.engine)
    if as_json:
        print_json(
            [
                {
                    "name": o.name,
                    "agents": o.agents,
                    "extensions": o.extensions,
                    "allowlist": o.allowlist,
                    "created": to_iso(o.created_ms),
                }
                for o in orgs
            ]
        )
        return
    print_table(
        ["name", "agents", "extensions", "allow-list", "created"],
        [
            (
                o.name,
                o.agents,
                o.extensions,
                ",".join(o.allowlist or []) or "any",
                to_iso(o.created_ms),
            )
            for o in orgs
        ],
    )


@group.command("rotate-code")
@click.argument("org")
@click.option(
    "--code", help="Use this Code instead of a generated one (any; a weak one is warned about)."
)
@pass_state
def rotate_code(state: CliState, org: str, code: str | None) -> None:
    """Replace ORG's Code; the old one stops working at once. Prints the new Code last."""
    rotated = organisations.rotate_code(state.engine, org, code)
    _warn_if_weak(code)
    click.echo(f"new Code for {rotated.name} (the old one no longer works):")
    click.echo(rotated.code)


@group.command("allowlist")
@click.argument("org")
@click.argument("entries", nargs=-1)
@click.option("--clear", is_flag=True, help="Remove the allow-list: every address may call.")
@pass_state
def allowlist(state: CliState, org: str, entries: tuple[str, ...], clear: bool) -> None:
    """Set ORG's address allow-list to ENTRIES (addresses or CIDR ranges)."""
    if clear == bool(entries):
        raise click.UsageError("give the addresses and ranges to allow, or --clear")
    result = organisations.set_allowlist(state.engine, org, None if clear else list(entries))
    click.echo(f"{org}: " + ("every address allowed" if result is None else ", ".join(result)))


@group.command("timezone")
@click.argument("org")
@click.argument("zone")
@pass_state
def timezone(state: CliState, org: str, zone: str) -> None:
    """Set ORG's time zone: an IANA name such as Asia/Jerusalem (default UTC)."""
    name = timezones.set_timezone(state.engine, org, zone)
    click.echo(f"time zone of {org}: {name}")


@group.command("embed-origins")
@click.argument("org")
@click.argument("origins", nargs=-1)
@click.option("--clear", is_flag=True, help="No origin may embed the panel.")
@pass_state
def embed(state: CliState, org: str, origins: tuple[str, ...], clear: bool) -> None:
    """Set the ORIGINS that may embed ORG's agent panel (https://crm.example.com ...);
    without ORIGINS, print the current list.

    Only these may frame the panel page or call the panel from script; the list replaces
    the one before.
    """
    if clear and origins:
        raise click.UsageError("give the origins that may embed the panel, or --clear, not both")
    if clear or origins:
        kept = embed_origins.set_embed_origins(state.engine, org, None if clear else list(origins))
    else:
        kept = embed_origins.embed_origins(state.engine, org)
    click.echo(f"{org}: " + (", ".join(kept) if kept else "no origin may embed the panel"))


@group.command("shift-end")
@click.argument("org")
@click.argument("time", metavar="HH:MM", required=False)
@click.option("--days", help="Weekdays, e.g. mon,tue,wed,thu,fri [default: every day].")
@click.option("--off", is_flag=True, help="No end of the shift.")
@pass_state
def shift_end(state: CliState, org: str, time: str | None, days: str | None, off: bool) -> None:
    """At HH:MM (ORG's time zone) log out every agent still logged in (source system)."""
    if off == (time is not None):
        raise click.UsageError("give the time of day as HH:MM, or --off")
    setting = policies.set_shift_end(state.engine, org, time, days)
    if setting.shift is None or setting.next_ms is None:
        click.echo(f"{org}: no end of the shift")
        return
    click.echo(
        f"{org}: the shift ends at {setting.shift.time} on {','.join(setting.shift.day_names)}; "
        f"next at {to_iso(setting.next_ms)}"
    )


@group.command("missed-calls")
@click.argument("org")
@click.argument("count", metavar="COUNT|off", required=False)
@click.option(
    "--status",
    type=int,
    help=f"The status to go to: enabled, taking no calls [default: {DEFAULT_STATUS}, Other].",
)
@pass_state
def missed_calls_(state: CliState, org: str, count: str | None, status: int | None) -> None:
    """After COUNT calls in a row offered to an agent and not answered, move the agent to
    a status that takes no calls (source pbx, reason missed-calls); ``off`` turns it off.
    Without COUNT, print the rule. Missed calls are recorded either way."""
    if count is not None and count.lower() == "off":
        if status is not None:
            raise click.UsageError("--status goes with a count, not with off")
        missed_calls.clear_rule(state.engine, org)
    elif count is not None:
        if not count.isdigit():
            raise click.UsageError(f"COUNT is a number of calls or off, not {count!r}")
        missed_calls.set_rule(state.engine, org, int(count), status)
    elif status is not None:
        raise click.UsageError("give the count of missed calls with --status")
    rule = missed_calls.get_rule(state.engine, org)
    if rule is None:
        click.echo(f"{org}: missed calls move nobody (they are recorded)")
        return
    click.echo(f"{org}: after {rule.count} missed calls in a row, status {rule.status}")


@group.command("phone-offline")
@click.argument("org")
@click.argument("after", metavar="DURATION|off", required=False)
@click.option(
    "--status",
    type=int,
    default=9,
    show_default=True,
    help="Where the agent goes: an enabled status that takes no calls.",
)
@pass_state
def phone_offline(state: CliState, org: str, after: str | None, status: int) -> None:
    """An agent whose phone stays unregistered DURATION (60s, 2m) while taking calls goes
    to --status (source pbx, reason phone-offline); "off" turns it off; without either,
    show it."""
    if after is not None and after.strip().lower() == "off":
        phone_registration.clear_phone_offline(state.engine, org)
        found = None
    elif after is not None:
        try:
            seconds = parse_duration(after)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="DURATION") from None
        found = phone_registration.set_phone_offline(state.engine, org, seconds, status)
    else:
        found = phone_registration.get_phone_offline(state.engine, org)
    if found is None:
        click.echo(f"{org}: phone offline: off")
    else:
        click.echo(f"{org}: phone offline {found.seconds}s: to status {found.status}")


@group.command("wrap-up")
@click.argument("org")
@click.argument("mode", metavar="DURATION|manual|off")
@click.option(
    "--status",
    type=int,
    help=f"The wrap-up status: an enabled one that takes no calls [default: {WRAP_UP_STATUS}].",
)
@pass_state
def wrap_up_(state: CliState, org: str, mode: str, status: int | None) -> None:
    """After an answered call, put the agent in wrap-up: for DURATION (30s, 2m), until the
    agent chooses (manual), or not at all (off, the default)."""
    click.echo(f"{org}: {wrap_up_words(set_wrap_up_from(state, org, mode, status))}")

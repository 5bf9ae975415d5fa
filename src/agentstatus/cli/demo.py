"""``agentstatus demo``: a ready-to-try organisation, created or refreshed idempotently."""

from __future__ import annotations

import click

from agentstatus.cli.demo_day import Written, day_start_ms, demo_days, write_days
from agentstatus.cli.state import CliState, pass_state
from agentstatus.domain.clock import now_ms
from agentstatus.service import agents, extensions, organisations, passwords, timezones, users
from agentstatus.service.errors import NotFound
from agentstatus.service.tokens import Role
from agentstatus.settings import Settings, env_var
from agentstatus.storage.types import Engine

DEMO_ORG = "demo"
DEMO_SUPERVISOR = "supervisor@demo.example"
DEMO_ADMIN = "admin@demo.example"
DEMO_AGENTS = (
    ("1001", "Dana Levi"),
    ("1002", "Yossi Cohen"),
    ("1003", "Noa Mizrahi"),
    ("1004", "Avi Peretz"),
    ("1005", "Maya Friedman"),
)


def ensure_demo(engine: Engine) -> str:
    """Make sure the demo organisation exists with its agents and extensions, and give it
    a fresh Code (codes are stored only as digests, so a new one is the only one we can show).
    New agents exist since the start of yesterday, the first day of their history.
    """
    try:
        code = organisations.rotate_code(engine, DEMO_ORG).code
    except NotFound:
        code = organisations.create_organisation(engine, DEMO_ORG).code
    zone = timezones.get_timezone(engine, DEMO_ORG)
    since = day_start_ms(demo_days(now_ms(), zone)[0], zone)
    known_agents = {a.user_id: a.active for a in agents.list_agents(engine, DEMO_ORG)}
    known_extensions = {e.extension for e in extensions.list_extensions(engine, DEMO_ORG)}
    for user_id, name in DEMO_AGENTS:
        if user_id not in known_agents:
            agents.add_agent(engine, DEMO_ORG, user_id, name, created_ms=since)
        elif not known_agents[user_id]:  # deactivated since: the curl lines must work
            agents.activate_agent(engine, DEMO_ORG, user_id)
        if f"sip{user_id}" not in known_extensions:
            extensions.add_extension(engine, DEMO_ORG, f"sip{user_id}", f"Desk of {name}")
    return code


def ensure_demo_user(engine: Engine, address: str, role: Role, name: str) -> str:
    """One of the demo's web users (of the demo organisation only), with a new password
    each run (only digests are stored, so a new one is the only one we can show)."""
    password = passwords.generate()
    try:
        users.set_password(engine, address, password)
    except NotFound:
        users.add_user(engine, address, role, password, DEMO_ORG, name)
    return password


def ensure_demo_supervisor(engine: Engine) -> str:
    return ensure_demo_user(engine, DEMO_SUPERVISOR, Role.SUPERVISOR, "Demo Supervisor")


def ensure_demo_admin(engine: Engine) -> str:
    """The demo's admin: the administration pages, the panel's embed origins and the phone
    system's settings are an admin's."""
    return ensure_demo_user(engine, DEMO_ADMIN, Role.ADMIN, "Demo Admin")


def write_demo_history(state: CliState) -> Written:
    """The demo agents' yesterday and today until now, through the change path (once)."""
    engine = state.engine
    zone = timezones.get_timezone(engine, DEMO_ORG)
    with engine.connect() as conn:
        oid = organisations.org_id(conn, DEMO_ORG)
    user_ids = [user_id for user_id, _ in DEMO_AGENTS]
    at = now_ms()
    written = state.changes(
        lambda changes: write_days(changes, engine, DEMO_ORG, oid, user_ids, zone, at)
    )
    if written.days:  # agents made today by an earlier demo: their history begins earlier
        agents.exist_since(engine, DEMO_ORG, day_start_ms(written.days[0], zone))
    return written


def _serve_url(settings: Settings) -> str:
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    return f"http://{host}:{settings.port}"


@click.command("demo")
@click.option(
    "--base-url",
    metavar="URL",
    help="For the curl lines [default: where serve listens: "
    f"http://{env_var('host')}:{env_var('port')}].",
)
@pass_state
def demo(state: CliState, base_url: str | None) -> None:
    """Create (or refresh) the "demo" organisation: agents 1001-1005 at extensions
    sip1001-sip1005, a supervisor and an admin (new passwords each run), and a believable
    history for yesterday and today until now (written once). Prints the sign-ins, its new
    Code and curl lines to try; the Code changes each run."""
    code = ensure_demo(state.engine)
    password = ensure_demo_supervisor(state.engine)
    admin_password = ensure_demo_admin(state.engine)
    written = write_demo_history(state)
    url = (base_url or _serve_url(state.settings)).rstrip("/")
    click.echo(
        f'demo organisation "{DEMO_ORG}" ready: agents 1001-1005, extensions sip1001-sip1005'
    )
    if written.days:
        click.echo(
            f"history written for {' and '.join(d.isoformat() for d in written.days)} "
            f"(until now): {written.changes} status changes, {written.call_events} call events, "
            f"{written.missed_calls} missed calls"
        )
    else:
        click.echo("history: yesterday's and today's already written (kept as they are)")
    click.echo(f"the board: {url}/  (sign in as {DEMO_SUPERVISOR}, password {password})")
    click.echo(
        f"the admin pages: {url}/o/{DEMO_ORG}/admin  "
        f"(sign in as {DEMO_ADMIN}, password {admin_password})"
    )
    click.echo("try (with the server running):")
    click.echo(
        f"  curl '{url}/UserLogin/SetStatusFromAPI"
        f"?Code={code}&UserId=1001&ExtensionUser=sip1001&Status=1'"
    )
    click.echo(
        f"  curl -X POST {url}/UserLogin/SetStatusFromAPI -H 'Content-Type: application/json' "
        f"""-d '{{"Code": "{code}", "UserId": "1001", "ExtensionUser": "sip1001", "Status": 3}}'"""
    )
    click.echo(f"  curl '{url}/UserLogin/GetStatusesList?code={code}'")
    click.echo("Code:")
    click.echo(code)

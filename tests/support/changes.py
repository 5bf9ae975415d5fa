"""Status changes from a test process, through the one change path (as the CLI makes them)."""

from __future__ import annotations

from sqlalchemy import Engine

from agentstatus.service import agents, extensions
from agentstatus.service.status_change import run_standalone, standalone_changes


def url_of(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def deactivate(engine: Engine, org: str, user_id: str) -> None:
    run_standalone(
        url_of(engine), lambda changes: agents.deactivate_agent(changes, engine, org, user_id)
    )


async def deactivate_async(engine: Engine, org: str, user_id: str) -> None:
    async with standalone_changes(url_of(engine)) as changes:
        await agents.deactivate_agent(changes, engine, org, user_id)


def remove_extension(engine: Engine, org: str, sip: str) -> None:
    run_standalone(
        url_of(engine), lambda changes: extensions.remove_extension(changes, engine, org, sip)
    )

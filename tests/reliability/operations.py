"""One valid request for every operation of the native API, to check who may make it, and
a snapshot of everything an organisation has, to check that a refused request changed
nothing."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import Engine, select

from agentstatus.service.agents import list_agents
from agentstatus.service.extensions import list_extensions
from agentstatus.service.history import read_history
from agentstatus.service.organisations import list_organisations
from agentstatus.service.presence import list_presence
from agentstatus.service.statuses import list_statuses
from agentstatus.service.webhooks import list_endpoints
from agentstatus.storage.schema import organisations

ORG = "/api/v1/orgs/{org}"
CSV = {"Content-Type": "text/csv"}
# (method, path as in /openapi.json) -> what to send; {org} and the others are filled in.
REQUESTS: dict[tuple[str, str], dict[str, Any]] = {
    ("GET", "/api/v1/orgs"): {},
    ("POST", "/api/v1/orgs"): {"json": {"name": "made-by-{who}"}},
    ("POST", f"{ORG}/rotate-code"): {"json": {}},
    ("PUT", f"{ORG}/allowlist"): {"json": {"entries": ["127.0.0.0/8"]}},
    ("GET", f"{ORG}/agents"): {},
    ("POST", f"{ORG}/agents"): {"json": {"user_id": "900", "name": "New"}},
    ("PATCH", f"{ORG}/agents/{{user_id}}"): {"json": {"name": "Renamed"}},
    ("POST", f"{ORG}/agents/import"): {"content": "user_id,name\n901,Imp\n", "headers": CSV},
    ("GET", f"{ORG}/extensions"): {},
    ("POST", f"{ORG}/extensions"): {"json": {"extension": "sip900"}},
    ("DELETE", f"{ORG}/extensions/{{extension}}"): {},
    ("POST", f"{ORG}/extensions/import"): {"content": "extension,name\ne901,I\n", "headers": CSV},
    ("GET", f"{ORG}/statuses"): {},
    ("POST", f"{ORG}/statuses"): {"json": {"id": 40, "name": "Coaching"}},
    ("PATCH", f"{ORG}/statuses/{{status_id}}"): {"json": {"name": "Renamed"}},
    ("GET", f"{ORG}/presence"): {},
    ("POST", f"{ORG}/presence/logout-all"): {},
    ("POST", f"{ORG}/presence/{{user_id}}/logout"): {},
    ("PUT", f"{ORG}/presence/{{user_id}}"): {"json": {"status": 2, "reason": "by {who}"}},
    ("GET", f"{ORG}/history"): {},
    ("GET", f"{ORG}/reports/time-in-status"): {},
    ("GET", f"{ORG}/reports/calls"): {},
    ("GET", f"{ORG}/events"): {},
    ("POST", f"{ORG}/webhooks"): {"json": {"url": "https://crm.example/hook"}},
    ("GET", f"{ORG}/webhooks"): {},
    ("PATCH", f"{ORG}/webhooks/{{endpoint_id}}"): {"json": {"enabled": True}},
    ("DELETE", f"{ORG}/webhooks/{{endpoint_id}}"): {},
    ("POST", f"{ORG}/webhooks/{{endpoint_id}}/test"): {},
    ("GET", f"{ORG}/webhooks/deliveries"): {},
}
# SPEC.md 5: a supervisor reads state, history and reports, and forces a logout; SPEC.md 8
# (issue 23): and puts one agent in any status.
SUPERVISOR_MAY = {
    key
    for key in REQUESTS
    if (key[0] == "GET" and key[1] != f"{ORG}/webhooks")
    or key[1].endswith("{user_id}/logout")
    or key == ("PUT", f"{ORG}/presence/{{user_id}}")
}
ADMIN_ONLY = sorted(set(REQUESTS) - SUPERVISOR_MAY, key=lambda k: (k[0] == "DELETE", k))


def call(
    client: httpx.Client, key: tuple[str, str], values: dict[str, str], who: str = "x"
) -> tuple[int, Any]:
    """Make the operation's request: its HTTP status and JSON body (None for an event
    stream that opened, which is closed at once, or for no body)."""
    method, template = key
    spec = dict(REQUESTS[key])
    if "json" in spec:
        spec["json"] = {
            k: v.format(who=who) if isinstance(v, str) else v for k, v in spec["json"].items()
        }
    url = template.format(**values)
    with client.stream(method, url, **spec) as answer:
        if answer.status_code == 200 and url.endswith("/events"):
            return 200, None
        body = answer.read()
        return answer.status_code, (answer.json() if body else None)


def snapshot(engine: Engine, org: str) -> dict[str, object]:
    """Everything an organisation has that a request could change."""
    listed = {o.name: o for o in list_organisations(engine)}
    with engine.connect() as conn:
        code_hash = conn.execute(
            select(organisations.c.code_hash).where(organisations.c.name == org)
        ).scalar_one()
    return {
        "code_hash": code_hash,
        "organisations": sorted(listed),
        "allowlist": listed[org].allowlist,
        "agents": list_agents(engine, org),
        "extensions": list_extensions(engine, org),
        "statuses": list_statuses(engine, org),
        "presence": list_presence(engine, org),
        "history": read_history(engine, org, limit=1000).events,
        "webhooks": list_endpoints(engine, org),
    }

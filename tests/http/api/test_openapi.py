"""The OpenAPI document and the interactive docs of the native API."""

from __future__ import annotations

import httpx

from tests.support.server import ServerProcess

ENDPOINTS = {
    ("get", "/api/v1/orgs"),
    ("post", "/api/v1/orgs"),
    ("post", "/api/v1/orgs/{org}/rotate-code"),
    ("put", "/api/v1/orgs/{org}/allowlist"),
    ("get", "/api/v1/orgs/{org}/agents"),
    ("post", "/api/v1/orgs/{org}/agents"),
    ("patch", "/api/v1/orgs/{org}/agents/{user_id}"),
    ("post", "/api/v1/orgs/{org}/agents/import"),
    ("post", "/api/v1/orgs/{org}/agents/{user_id}/panel-links"),
    ("get", "/api/v1/orgs/{org}/agents/{user_id}/panel-links"),
    ("delete", "/api/v1/orgs/{org}/agents/{user_id}/panel-links"),
    ("delete", "/api/v1/orgs/{org}/panel-links/{link_id}"),
    ("post", "/api/v1/orgs/{org}/wall-links"),
    ("get", "/api/v1/orgs/{org}/wall-links"),
    ("delete", "/api/v1/orgs/{org}/wall-links"),
    ("delete", "/api/v1/orgs/{org}/wall-links/{link_id}"),
    ("get", "/api/v1/orgs/{org}/monitor-logins"),
    ("delete", "/api/v1/orgs/{org}/monitor-logins/{login_id}"),
    ("get", "/api/v1/orgs/{org}/embed-origins"),
    ("put", "/api/v1/orgs/{org}/embed-origins"),
    ("get", "/api/v1/orgs/{org}/extensions"),
    ("post", "/api/v1/orgs/{org}/extensions"),
    ("delete", "/api/v1/orgs/{org}/extensions/{extension}"),
    ("post", "/api/v1/orgs/{org}/extensions/import"),
    ("get", "/api/v1/orgs/{org}/pbx"),
    ("put", "/api/v1/orgs/{org}/pbx"),
    ("delete", "/api/v1/orgs/{org}/pbx"),
    ("get", "/api/v1/orgs/{org}/statuses"),
    ("post", "/api/v1/orgs/{org}/statuses"),
    ("patch", "/api/v1/orgs/{org}/statuses/{status_id}"),
    ("put", "/api/v1/orgs/{org}/statuses/{status_id}/limit"),
    ("delete", "/api/v1/orgs/{org}/statuses/{status_id}/limit"),
    ("get", "/api/v1/orgs/{org}/shift-end"),
    ("put", "/api/v1/orgs/{org}/shift-end"),
    ("delete", "/api/v1/orgs/{org}/shift-end"),
    ("get", "/api/v1/orgs/{org}/missed-calls"),
    ("put", "/api/v1/orgs/{org}/missed-calls"),
    ("delete", "/api/v1/orgs/{org}/missed-calls"),
    ("get", "/api/v1/orgs/{org}/queues"),
    ("put", "/api/v1/orgs/{org}/queues/{queue}"),
    ("get", "/api/v1/orgs/{org}/phone-offline"),
    ("put", "/api/v1/orgs/{org}/phone-offline"),
    ("delete", "/api/v1/orgs/{org}/phone-offline"),
    ("get", "/api/v1/orgs/{org}/wrap-up"),
    ("put", "/api/v1/orgs/{org}/wrap-up"),
    ("put", "/api/v1/orgs/{org}/presence/{user_id}/next"),
    ("delete", "/api/v1/orgs/{org}/presence/{user_id}/next"),
    ("get", "/api/v1/orgs/{org}/presence"),
    ("post", "/api/v1/orgs/{org}/presence/{user_id}/logout"),
    ("put", "/api/v1/orgs/{org}/presence/{user_id}"),
    ("post", "/api/v1/orgs/{org}/presence/logout-all"),
    ("get", "/api/v1/orgs/{org}/history"),
    ("get", "/api/v1/orgs/{org}/reports/time-in-status"),
    ("get", "/api/v1/orgs/{org}/reports/calls"),
    ("get", "/api/v1/orgs/{org}/events"),
    ("get", "/api/v1/orgs/{org}/webhooks"),
    ("post", "/api/v1/orgs/{org}/webhooks"),
    ("patch", "/api/v1/orgs/{org}/webhooks/{endpoint_id}"),
    ("delete", "/api/v1/orgs/{org}/webhooks/{endpoint_id}"),
    ("post", "/api/v1/orgs/{org}/webhooks/{endpoint_id}/test"),
    ("get", "/api/v1/orgs/{org}/webhooks/deliveries"),
}


def openapi(server: ServerProcess) -> dict[str, object]:
    answer = httpx.get(f"{server.base_url}/openapi.json")
    assert answer.status_code == 200
    document: dict[str, object] = answer.json()
    return document


def test_the_document_lists_every_endpoint_and_nothing_makes_tokens(
    shared_server: ServerProcess,
) -> None:
    paths = openapi(shared_server)["paths"]
    assert isinstance(paths, dict)
    operations = {(m, p) for p, item in paths.items() for m in item if p.startswith("/api/v1")}
    assert operations == ENDPOINTS
    assert not any("token" in p for p in paths)


def test_every_operation_requires_the_bearer_token(shared_server: ServerProcess) -> None:
    document = openapi(shared_server)
    components = document["components"]
    assert isinstance(components, dict)
    assert components["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    paths = document["paths"]
    assert isinstance(paths, dict)
    for method, path in ENDPOINTS:
        operation = paths[path][method]
        assert operation["security"] == [{"HTTPBearer": []}], (method, path)
        assert "401" in operation["responses"]
        assert "403" in operation["responses"]


def test_the_document_describes_bodies_and_answers(shared_server: ServerProcess) -> None:
    document = openapi(shared_server)
    paths = document["paths"]
    components = document["components"]
    assert isinstance(paths, dict)
    assert isinstance(components, dict)
    schemas = components["schemas"]
    assert set(schemas["AgentPresence"]["properties"]) == {
        "user_id",
        "name",
        "extension",
        "status",
        "status_name",
        "since",
    }
    assert set(schemas["HistoryPage"]["properties"]) == {"events", "next_after"}
    imports = paths["/api/v1/orgs/{org}/agents/import"]["post"]
    assert "text/csv" in imports["requestBody"]["content"]
    report = paths["/api/v1/orgs/{org}/reports/time-in-status"]["get"]
    assert "text/csv" in report["responses"]["200"]["content"]
    assert {p["name"] for p in report["parameters"]} == {"org", "from", "to", "user_id", "format"}
    calls = paths["/api/v1/orgs/{org}/reports/calls"]["get"]
    assert "text/csv" in calls["responses"]["200"]["content"]
    assert {p["name"] for p in calls["parameters"]} == {"org", "from", "to", "user_id", "format"}
    documented = schemas["CallsDay"]["properties"]
    assert set(documented) == {
        "user_id",
        "name",
        "day",
        "calls_answered",
        "talk_seconds",
        "wrap_up_seconds",
        "missed_calls",
        "available_seconds",
        "occupancy",
    }
    assert all(documented[f].get("description") for f in set(documented) - {"user_id", "name"})


def test_the_interactive_docs_are_served(shared_server: ServerProcess) -> None:
    answer = httpx.get(f"{shared_server.base_url}/docs")
    assert answer.status_code == 200
    assert "/openapi.json" in answer.text

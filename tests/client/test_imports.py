"""``agentstatus.client`` needs only httpx and the standard library: it imports, and works,
in a process where the server's dependencies cannot be imported at all."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import agentstatus.client

SERVER_DEPENDENCIES = (
    "alembic",
    "click",
    "fastapi",
    "orjson",
    "prometheus_client",
    "psycopg",
    "psycopg_pool",
    "pydantic",
    "pydantic_settings",
    "sqlalchemy",
    "starlette",
    "uvicorn",
)

SCRIPT = textwrap.dedent(
    """
    import importlib.abc, sys

    BLOCKED = set(sys.argv[1:])

    class Blocker(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ImportError(f"{name} is blocked: the client must not need it")
            return None

    sys.meta_path.insert(0, Blocker())

    import httpx
    from agentstatus.client import AgentStatus, Client

    def answer(request):
        return httpx.Response(200, json={"Status": 1, "StatusError": 1, "StatusErroMessage": "OK"})

    with Client("code", transport=httpx.MockTransport(answer)) as client:
        assert client.set_status("1001", "sip1", AgentStatus.LUNCH_BREAK).ok
    loaded = sorted({m.split(".")[0] for m in sys.modules} & BLOCKED)
    assert not loaded, loaded
    print("imported without the server")
    """
)


def test_the_client_imports_without_the_server_dependencies() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, *SERVER_DEPENDENCIES],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "imported without the server"


# click is left out: httpx itself loads it, when installed, for its own command line.
NEVER_LOADED = frozenset(SERVER_DEPENDENCIES) - {"click"}

# With every dependency installed, so an import that is merely optional (tried, and
# skipped when missing) is caught too.
LOADED_SCRIPT = textwrap.dedent(
    """
    import sys

    import agentstatus.client

    print(" ".join(sorted(sys.modules)))
    """
)


def test_importing_the_client_loads_none_of_the_server() -> None:
    done = subprocess.run(
        [sys.executable, "-c", LOADED_SCRIPT],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    modules = set(done.stdout.split())
    assert {"httpx", "agentstatus.wire.outcomes"} <= modules  # the server's own table
    packages = {m.split(".")[0] for m in modules}
    assert {"fastapi", "starlette", "sqlalchemy", "orjson", "pydantic"} <= NEVER_LOADED
    assert packages.isdisjoint(NEVER_LOADED), sorted(packages & NEVER_LOADED)
    ours = {m for m in modules if m.startswith("agentstatus.")}
    assert all(m.startswith(("agentstatus.client", "agentstatus.wire")) for m in ours), ours


def test_the_public_names() -> None:
    assert sorted(agentstatus.client.__all__) == sorted(
        [
            "AgentStatus",
            "AgentStatusError",
            "AsyncClient",
            "AuthorizationFailed",
            "BaseClient",
            "Client",
            "Extension",
            "ExtensionInUse",
            "ExtensionNotFound",
            "ExtensionPresence",
            "MissingParameter",
            "Queue",
            "QueueCaller",
            "RateLimited",
            "RetryPolicy",
            "Status",
            "StatusNotSupported",
            "StatusResult",
            "TransportError",
            "UpdateFailed",
        ]
    )
    for name in agentstatus.client.__all__:
        assert getattr(agentstatus.client, name).__doc__, name


def test_the_exception_tree_is_drawn_at_the_top_and_true() -> None:
    from agentstatus.client import _exceptions

    tree = (_exceptions.__doc__ or "").split("\n\n")[1]
    drawn = [line.split()[1] for line in tree.splitlines()[1:]]
    base = agentstatus.client.AgentStatusError
    assert tree.split()[0] == base.__name__
    assert sorted(drawn) == sorted(c.__name__ for c in base.__subclasses__())
    for name in drawn:
        kind = getattr(agentstatus.client, name)
        assert kind.__bases__ == (base,)
        assert len((kind.__doc__ or "").strip().splitlines()) == 1

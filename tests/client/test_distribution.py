"""The client's own distribution, ``agentstatus-client`` (``clients/python/pyproject.toml``):
built from this source tree into a wheel, installed into a fresh virtual environment that
holds nothing but it and httpx's own dependencies, where the client works and none of the
server can be imported.

The fresh environment gets httpx the way tests/cli/test_wheel.py gets the server's
dependencies, without fetching anything: a ``.pth`` file names a folder of links to the
development environment's copies of httpx and of what httpx requires, and nothing else.
"""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import sysconfig
import textwrap
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ROOT / "clients" / "python"
SOURCE = ROOT / "src" / "agentstatus"

SCRIPT = textwrap.dedent(
    """
    import importlib.util

    import httpx
    import agentstatus.client
    from agentstatus.client import AgentStatus, Client

    assert "/venv/" in agentstatus.client.__file__, agentstatus.client.__file__  # the wheel's

    def answer(request):
        return httpx.Response(200, json={"Status": 1, "StatusError": 1, "StatusErroMessage": "OK"})

    with Client("code", transport=httpx.MockTransport(answer)) as client:
        assert client.set_status("1001", "sip1", AgentStatus.LUNCH_BREAK).ok
    server = ["agentstatus.app", "fastapi", "sqlalchemy", "pydantic", "orjson", "uvicorn"]
    present = [name for name in server if importlib.util.find_spec(name) is not None]
    assert not present, present
    print("the client alone")
    """
)


def run(*args: str | Path, cwd: Path) -> str:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    environment["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    done = subprocess.run(
        [str(a) for a in args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environment,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, f"{args} exited {done.returncode}:\n{done.stdout}{done.stderr}"
    return done.stdout


def requirement_closure(name: str) -> set[str]:
    """``name`` and every distribution it requires, transitively, as installed here (extras
    and markers that do not apply to this interpreter left out)."""
    found: set[str] = set()
    todo = [name]
    while todo:
        current = todo.pop()
        if current in found:
            continue
        found.add(current)
        for line in importlib.metadata.requires(current) or []:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name.lower())
    return found


def link_top_levels(distributions: set[str], into: Path) -> None:
    """Links in ``into`` to the top-level modules of the installed ``distributions``."""
    purelib = Path(sysconfig.get_path("purelib"))
    into.mkdir()
    for name in distributions:
        files = importlib.metadata.files(name) or []
        tops = {f.parts[0] for f in files if not f.parts[0].endswith((".dist-info", ".pth"))}
        for top in tops - {"..", "__pycache__"}:
            if (purelib / top).exists() and not (into / top).exists():
                (into / top).symlink_to(purelib / top)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The client's wheel, built from a copy of the tree (pip writes build/ and egg-info
    beside the sources)."""
    top = tmp_path_factory.mktemp("client-wheel")
    tree = top / "tree"
    project = tree / "clients" / "python"
    project.mkdir(parents=True)
    for path in PROJECT.iterdir():
        (project / path.name).write_bytes(path.read_bytes())
    for package in ("client", "wire"):
        for path in (SOURCE / package).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                target = tree / "src" / "agentstatus" / path.relative_to(SOURCE)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(path.read_bytes())
    pip = (sys.executable, "-m", "pip")
    run(*pip, "wheel", ".", "--no-deps", "--quiet", "--wheel-dir", top / "dist", cwd=project)
    (built,) = (top / "dist").glob("agentstatus_client-*.whl")
    return built


def test_the_wheel_holds_the_client_and_the_wire_and_needs_only_httpx(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        requires = [
            line.removeprefix("Requires-Dist: ")
            for line in archive.read(metadata).decode().splitlines()
            if line.startswith("Requires-Dist: ")
        ]
    packages = {n.split("/")[1] for n in names if n.startswith("agentstatus/")}
    assert packages == {"client", "wire"}, sorted(packages)
    assert "agentstatus/__init__.py" not in names  # a namespace package here
    expected = {
        f"agentstatus/{p.relative_to(SOURCE).as_posix()}"
        for package in ("client", "wire")
        for p in (SOURCE / package).rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert {n for n in names if n.startswith("agentstatus/")} == expected
    assert requires == ["httpx==0.28.1"]


def test_the_client_works_where_only_it_and_httpx_are_installed(
    wheel: Path, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    pip = (sys.executable, "-m", "pip", "--python", python)
    run(*pip, "install", "--no-deps", "--no-index", "--quiet", wheel, cwd=tmp_path)
    link_top_levels(requirement_closure("httpx"), tmp_path / "httpx-only")
    own = run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))", cwd=tmp_path)
    (Path(own.strip()) / "zz-httpx.pth").write_text(f"{tmp_path / 'httpx-only'}\n")
    assert run(python, "-c", SCRIPT, cwd=tmp_path).strip() == "the client alone"

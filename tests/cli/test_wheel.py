"""The package as ``pip install .`` makes it: a wheel (not the editable install every other
test runs), installed into a fresh virtual environment, serving the board, the panel and
every static file. A file the service reads by path and the wheel leaves out fails here.

How the fresh environment gets its dependencies: it is made ``--without-pip`` (fast), the
wheel is installed into it by the development environment's pip (``pip --python``, with
``--no-deps --no-index``: nothing is fetched), and a ``.pth`` file puts the development
environment's site-packages after its own. A ``.pth`` file's path lines are only added to
``sys.path``: the ``.pth`` files found there (the editable install's hook to ``src/``) are
not run, so ``agentstatus`` can only come from the wheel, which the test checks. Building the
wheel needs the build backend (``setuptools``, fetched once into pip's cache by ``make
install``, which builds the same way).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from agentstatus.cli.demo import DEMO_ORG
from tests.cli.helpers import invoke
from tests.support.server import ServerProcess, free_port
from tests.support.web import SAME_ORIGIN

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "src" / "agentstatus"
# What a wheel is built from (README.md: the package's long description).
BUILD_INPUTS = ("pyproject.toml", "README.md")


def package_files(top: Path) -> dict[str, bytes]:
    """Every file of the package below ``top`` but compiled Python, by relative path."""
    return {
        path.relative_to(top).as_posix(): path.read_bytes()
        for path in sorted(top.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


def quiet_env() -> dict[str, str]:
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("AGENTSTATUS_", "PYTHON"))
    }
    environment["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return environment


def run(*args: str | Path, cwd: Path) -> str:
    done = subprocess.run(
        [str(a) for a in args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=quiet_env(),
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, f"{args} exited {done.returncode}:\n{done.stdout}{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fresh environment's ``bin`` folder, the wheel installed in it."""
    top = tmp_path_factory.mktemp("wheel")
    # Built from a copy: pip builds in the source tree (build/, *.egg-info), which is the
    # developer's checkout, perhaps in use by another test run.
    tree = top / "tree"
    (tree / "src").mkdir(parents=True)
    for name in BUILD_INPUTS:
        (tree / name).write_bytes((ROOT / name).read_bytes())
    for relative, body in package_files(SOURCE).items():
        target = tree / "src" / "agentstatus" / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
    pip = (sys.executable, "-m", "pip")
    run(*pip, "wheel", ".", "--no-deps", "--quiet", "--wheel-dir", top / "dist", cwd=tree)
    (wheel,) = (top / "dist").glob("agentstatus-*.whl")

    venv = top / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=top)
    python = venv / "bin" / "python"
    run(*pip, "--python", python, "install", "--no-deps", "--no-index", "--quiet", wheel, cwd=top)
    own = run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))", cwd=top)
    dependencies = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    (Path(own.strip()) / "zz-development-dependencies.pth").write_text(
        "".join(f"{d}\n" for d in sorted(dependencies))
    )
    return venv / "bin"


@pytest.fixture(scope="module")
def site_package(installed: Path) -> Path:
    where = run(
        installed / "python",
        "-c",
        "import agentstatus, pathlib; print(pathlib.Path(agentstatus.__file__).parent)",
        cwd=installed,
    )
    return Path(where.strip())


def test_the_wheel_holds_every_file_of_the_package(installed: Path, site_package: Path) -> None:
    assert site_package.is_relative_to(installed.parent), site_package  # not src/ nor .venv
    in_wheel = package_files(site_package)
    missing = sorted(set(package_files(SOURCE)) - set(in_wheel))
    assert missing == [], f"left out of the wheel: {missing}"
    assert in_wheel == package_files(SOURCE)


@pytest.fixture(scope="module")
def server(installed: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """``agentstatus serve`` from the fresh environment, on a fresh SQLite database; the
    demo made first by the installed command."""
    top = tmp_path_factory.mktemp("served")
    database = f"sqlite:///{top / 'fresh.db'}"
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    agentstatus = str(installed / "agentstatus")
    demo = run(agentstatus, "--database", database, "demo", "--base-url", base_url, cwd=top)
    process = ServerProcess(
        database, top / "server.log", port=port, command=(agentstatus,), cwd=top
    )
    with process:
        yield Served(base_url, demo)


@dataclass(frozen=True)
class Served:
    base_url: str
    demo: str
    """What the installed ``agentstatus demo`` printed."""

    @contextmanager
    def signed_in(self, which: str) -> Iterator[httpx.Client]:
        found = re.search(rf"the {which}: \S+ +\(sign in as (\S+), password (\S+)\)", self.demo)
        assert found is not None, self.demo
        with httpx.Client(base_url=self.base_url, timeout=10) as client:
            answer = client.post(
                "/sign-in",
                data={"email": found.group(1), "password": found.group(2), "next": "/"},
                headers=SAME_ORIGIN,
            )
            assert answer.status_code == 303, answer.text
            yield client


def hashed_url(name: str, body: bytes) -> str:
    stem, dot, suffix = name.rpartition(".")
    return f"/static/{stem}.{hashlib.sha256(body).hexdigest()[:10]}{dot}{suffix}"


def test_the_installed_server_serves_every_page_and_file(server: Served) -> None:
    base = server.base_url
    with httpx.Client(base_url=base, timeout=10) as anonymous:
        sign_in = anonymous.get("/sign-in")
        assert sign_in.status_code == 200
        assert 'name="password"' in sign_in.text
        hebrew = anonymous.get("/sign-in", headers={"accept-language": "he"})
        assert 'dir="rtl"' in hebrew.text  # the Hebrew catalogue is installed too
        assert re.search("[\u0590-\u05ff]{3}", hebrew.text), hebrew.text

        # Every static file, at the hashed address the pages use, byte for byte.
        static = SOURCE / "web" / "static"
        names = sorted(p.name for p in static.iterdir() if p.is_file())
        assert {"app.css", "board.js", "favicon.svg"} <= set(names)
        for name in names:
            body = (static / name).read_bytes()
            url = hashed_url(name, body)
            answer = anonymous.get(url)
            assert (url, answer.status_code) == (url, 200)
            assert answer.content == body, name
        for url in re.findall(r'(?:href|src)="(/static/[^"]+)"', sign_in.text):
            assert anonymous.get(url).status_code == 200, url

        # The panel: its page, its script and its style sheet.
        panel = anonymous.get(f"/panel/{DEMO_ORG}")
        assert panel.status_code == 200
        assets = SOURCE / "web" / "panel" / "assets"
        for url, name in (("/panel/embed.js", "panel.js"), ("/panel/panel.css", "panel.css")):
            answer = anonymous.get(url)
            assert (url, answer.status_code) == (url, 200)
            assert answer.content == (assets / name).read_bytes()

    # The board and the pages behind it (templates of the wheel), as the demo's users.
    with server.signed_in("board") as supervisor:
        for url in (f"/o/{DEMO_ORG}/", f"/o/{DEMO_ORG}/agents/1001", f"/o/{DEMO_ORG}/reports"):
            answer = supervisor.get(url)
            assert (url, answer.status_code) == (url, 200)
    admin_pages = ("agents", "extensions", "statuses", "users", "tokens", "webhooks", "settings")
    with server.signed_in("admin pages") as admin:
        for area in admin_pages:
            url = f"/o/{DEMO_ORG}/admin/{area}"
            answer = admin.get(url)
            assert (url, answer.status_code) == (url, 200)


def test_a_file_missing_from_the_package_is_named_not_blamed_on_the_database(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    from agentstatus.web.panel import page

    def must_not_serve(*args: object, **kwargs: object) -> None:
        raise AssertionError("served without the panel's script")

    monkeypatch.setattr(uvicorn, "run", must_not_serve)
    monkeypatch.setattr(page, "ASSETS_DIR", tmp_path / "assets")
    # serve sets the process's log levels (httpx at WARNING); this process is the suite's.
    httpx_log = logging.getLogger("httpx")
    monkeypatch.setattr(httpx_log, "level", httpx_log.level)
    done = invoke(database_url, "serve", "--port", str(free_port()))
    assert done.code == 1
    assert str(tmp_path / "assets" / "panel.js") in done.stderr
    assert "missing" in done.stderr
    assert "database" not in done.stderr

"""CSV imports of agents and extensions: every bad row reported, all rows or none."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from agentstatus.service import agents, extensions, organisations
from agentstatus.service.agents import Agent
from agentstatus.service.extensions import Extension
from tests.cli.helpers import Outcome, invoke, ok, run_cli


@pytest.fixture
def acme(engine: Engine) -> str:
    organisations.create_organisation(engine, "acme")
    agents.add_agent(engine, "acme", "1001", "Old name")
    extensions.add_extension(engine, "acme", "sip1", "Old desk")
    return "acme"


def write(tmp_path: Path, text: str, name: str = "rows.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def assert_rejected(outcome: Outcome, *bad_lines: int) -> list[str]:
    """Non-zero exit, no traceback, a summary line and one line per bad row."""
    assert outcome.code != 0
    assert "Traceback" not in outcome.stderr
    lines = outcome.stderr.strip().splitlines()
    assert lines[0].startswith("error: ")
    assert "nothing was imported" in lines[0]
    details = [line.strip() for line in lines[1:]]
    assert [int(d.split(":")[0].removeprefix("line ")) for d in details] == list(bad_lines)
    return details


def test_agent_import_creates_and_renames(
    database_url: str, engine: Engine, acme: str, tmp_path: Path
) -> None:
    path = write(tmp_path, "user_id,name\n1001,Dana Levi\n1002,Yossi Cohen\n1003,\n")
    done = run_cli(database_url, "agent", "import", acme, str(path))
    assert done.code == 0, done.stderr
    assert "2 created, 1 updated" in done.stdout
    assert agents.list_agents(engine, acme) == [
        Agent("1001", "Dana Levi", True),
        Agent("1002", "Yossi Cohen", True),
        Agent("1003", "", True),
    ]


def test_extension_import_creates_and_renames(
    database_url: str, engine: Engine, acme: str, tmp_path: Path
) -> None:
    path = write(tmp_path, "extension,name\nsip1,Front desk\nsip2,Back desk\n")
    done = run_cli(database_url, "extension", "import", acme, str(path))
    assert done.code == 0, done.stderr
    assert "1 created, 1 updated" in done.stdout
    assert extensions.list_extensions(engine, acme) == [
        Extension("sip1", "Front desk"),
        Extension("sip2", "Back desk"),
    ]


def test_agent_import_reports_every_bad_row_and_imports_nothing(
    database_url: str, engine: Engine, acme: str, tmp_path: Path
) -> None:
    text = (
        "user_id,name\n"
        "2001,Good\n"
        "a b,Space in id\n"  # line 3
        "2002,Good too\n"
        ",No id\n"  # line 5
        "2001,Repeated\n"  # line 6
        "2003,Too,many\n"  # line 7
        f"2004,{'x' * 300}\n"  # line 8
        "1001,Renamed\n"
    )
    path = write(tmp_path, text)
    details = assert_rejected(
        run_cli(database_url, "agent", "import", acme, str(path)), 3, 5, 6, 7, 8
    )
    assert "repeats line 2" in details[2]
    assert agents.list_agents(engine, acme) == [Agent("1001", "Old name", True)]


def test_extension_import_reports_every_bad_row_and_imports_nothing(
    database_url: str, engine: Engine, acme: str, tmp_path: Path
) -> None:
    path = write(tmp_path, "extension,name\nsip2,A\nsip 3,B\nsip2,C\nsip4,\x07bell\nsip1,New\n")
    assert_rejected(invoke(database_url, "extension", "import", acme, str(path)), 3, 4, 5)
    assert extensions.list_extensions(engine, acme) == [Extension("sip1", "Old desk")]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty"),
        ("name,user_id\n1,a\n", "header"),
        ("extension,name\nsip9,x\n", "header"),
    ],
)
def test_a_bad_header_is_rejected(
    database_url: str, engine: Engine, acme: str, tmp_path: Path, text: str, fragment: str
) -> None:
    done = invoke(database_url, "agent", "import", acme, str(write(tmp_path, text)))
    assert done.code != 0
    assert "Traceback" not in done.stderr
    assert "nothing was imported" in done.stderr
    assert fragment in done.stderr
    assert agents.list_agents(engine, acme) == [Agent("1001", "Old name", True)]


def test_spreadsheet_exports_are_accepted(
    database_url: str, engine: Engine, acme: str, tmp_path: Path
) -> None:
    """A byte-order mark, CRLF line ends, spaces in the header, quotes and blank lines."""
    text = '\ufeffUser_ID , Name\r\n2001,"Levi, Dana"\r\n\r\n 2002 ,  Noa \r\n'
    ok(database_url, "agent", "import", acme, str(write(tmp_path, text)))
    assert agents.list_agents(engine, acme)[1:] == [
        Agent("2001", "Levi, Dana", True),
        Agent("2002", "Noa", True),
    ]


def test_a_header_without_names(
    database_url: str, engine: Engine, acme: str, tmp_path: Path
) -> None:
    ok(database_url, "extension", "import", acme, str(write(tmp_path, "extension\nsip7\nsip8\n")))
    assert [e.extension for e in extensions.list_extensions(engine, acme)] == [
        "sip1",
        "sip7",
        "sip8",
    ]


def test_import_from_standard_input(database_url: str, engine: Engine, acme: str) -> None:
    done = run_cli(database_url, "agent", "import", acme, "-", stdin="user_id,name\n3001,Piped\n")
    assert done.code == 0, done.stderr
    assert Agent("3001", "Piped", True) in agents.list_agents(engine, acme)


def test_import_into_an_unknown_organisation(
    database_url: str, engine: Engine, acme: str, tmp_path: Path
) -> None:
    done = invoke(database_url, "agent", "import", "nope", str(write(tmp_path, "user_id\n1\n")))
    assert done.code != 0
    assert done.stderr.strip() == "error: no organisation named 'nope'"


def test_a_missing_file(database_url: str, acme: str, tmp_path: Path) -> None:
    done = run_cli(database_url, "extension", "import", acme, str(tmp_path / "missing.csv"))
    assert done.code != 0
    assert "Traceback" not in done.stderr
    assert "missing.csv" in done.stderr


def test_a_file_that_is_not_utf8(
    database_url: str, engine: Engine, acme: str, tmp_path: Path
) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("user_id,name\n2001,Jos\u00e9\n".encode("latin-1"))
    done = invoke(database_url, "agent", "import", acme, str(path))
    assert done.code != 0
    assert "UTF-8" in done.stderr
    assert len(agents.list_agents(engine, acme)) == 1


def test_importing_the_same_file_twice_is_idempotent(
    database_url: str, engine: Engine, acme: str, tmp_path: Path
) -> None:
    path = write(tmp_path, "user_id,name\n2001,A\n2002,B\n")
    assert "2 created, 0 updated" in ok(database_url, "agent", "import", acme, str(path)).stdout
    assert "0 created, 2 updated" in ok(database_url, "agent", "import", acme, str(path)).stdout
    assert len(agents.list_agents(engine, acme)) == 3

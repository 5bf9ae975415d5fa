"""``agentstatus.wire`` is the contract the server and the client share, so it imports the
standard library only: checked in a fresh process, against what the interpreter itself had
loaded before."""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import sys

    before = set(sys.modules)

    import importlib, pkgutil

    import agentstatus.wire

    for module in pkgutil.iter_modules(agentstatus.wire.__path__, "agentstatus.wire."):
        importlib.import_module(module.name)
    print(" ".join(sorted(set(sys.modules) - before)))
    """
)


def test_the_wire_package_imports_only_the_standard_library() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60, check=True
    )
    loaded = set(done.stdout.split())
    ours = {m for m in loaded if m.split(".")[0] == "agentstatus"}
    assert {"agentstatus.wire.outcomes", "agentstatus.wire.paths", "agentstatus.wire.comet"} < ours
    assert all(
        m in ("agentstatus", "agentstatus.wire") or m.startswith("agentstatus.wire.") for m in ours
    ), sorted(ours)
    foreign = {m.split(".")[0] for m in loaded - ours} - set(sys.stdlib_module_names)
    assert not foreign, sorted(foreign)

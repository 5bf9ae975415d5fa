"""Reading an input file (or standard input) as text, with a clear error."""

from __future__ import annotations

import sys
from pathlib import Path

import click

MAX_FILE = 64 * 1024 * 1024


def read_text(path: Path) -> str:
    try:
        if str(path) == "-":
            data = sys.stdin.buffer.read(MAX_FILE + 1)
        else:
            # Never more than the limit, whatever the file is (/dev/zero has no end).
            with path.open("rb") as handle:
                data = handle.read(MAX_FILE + 1)
    except OSError as exc:
        raise click.FileError(str(path), exc.strerror) from None
    if len(data) > MAX_FILE:
        raise click.FileError(str(path), "larger than 64 MiB")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise click.FileError(str(path), "not UTF-8 text") from None

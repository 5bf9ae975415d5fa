"""The files the service reads from its own package at start (pages' templates, static
files, the panel's script and style sheet, catalogues): one place to read them, so that a
file missing from an installation is an error naming it, never mistaken for anything else
(a missing file used to surface as "cannot open the database")."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).parent


class PackageFileMissing(Exception):
    """A file (or folder) of the agentstatus package cannot be read: a broken install."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(
            f"a file of the agentstatus package is missing or unreadable: {path} ({reason}); "
            "reinstall the package (a build that leaves it out is a packaging bug)"
        )
        self.path = path


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise PackageFileMissing(path, _reason(exc)) from None


def files_in(directory: Path) -> list[Path]:
    """The visible files of ``directory``, sorted; the folder itself must exist."""
    try:
        entries = sorted(directory.iterdir())
    except OSError as exc:
        raise PackageFileMissing(directory, _reason(exc)) from None
    return [p for p in entries if p.is_file() and not p.name.startswith(".")]


def require(path: Path) -> Path:
    """``path``, which must exist (a folder read later, file by file, by another library)."""
    if not path.exists():
        raise PackageFileMissing(path, "No such file or directory")
    return path

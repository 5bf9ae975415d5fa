"""This process's writers of one SQLite file take turns on a lock, not on SQLite's.

A writer that finds the file's write lock taken is put to sleep by SQLite's busy handler
and tries again after 1, 2, 5, ... up to 100 ms, however soon the lock is free, and a
writer arriving meanwhile may take it first. Under a steady mix of writers (a phone
system's calls, the wrap-ups they start and end, their deadlines) some waited over a
second for a lock free most of the time (hang-up to wrap-up pause p99: 1.5 s). Waiting on
a lock of this process instead wakes the next writer as soon as the last one is done.
Another process's writers still meet SQLite's lock (the busy handler, as before), and a
turn not given within the busy timeout is not waited for longer: the writer goes on to
SQLite's lock, as it did without turns (never a deadlock the timeout would have ended).
"""

from __future__ import annotations

import threading
from pathlib import Path

_turns: dict[Path, threading.Lock] = {}
_guard = threading.Lock()


def turn_of(path: Path) -> threading.Lock:
    """The lock this process's writers of the file at ``path`` take turns on."""
    key = path.resolve()
    with _guard:
        return _turns.setdefault(key, threading.Lock())

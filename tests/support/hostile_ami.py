"""A hostile AMI server (issue 21, item 24): it logs agentstatus in as Asterisk would, then
tries to take the server's memory and time. Modes:

- ``endless-list``: ``QueueStatus`` answers ``EventList: start`` and never completes;
- ``long-lines``: after the login, one message of ``lines`` lines of 1 MiB;
- ``flood-calls``: a flood of call events (a call out of ``extension`` started and ended);
- ``flood-pauses``: a flood of pauses and unpauses of ``interface`` made "at the phone".

It runs its own loop in a daemon thread (as ``AmiServer`` does); ``sent`` counts bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading

MODES = ("endless-list", "long-lines", "flood-calls", "flood-pauses")


def _message(*fields: tuple[str, str]) -> bytes:
    return "".join(f"{k}: {v}\r\n" for k, v in fields).encode() + b"\r\n"


class HostileAmi:
    def __init__(
        self,
        mode: str,
        *,
        extension: str = "sip1",
        interface: str = "PJSIP/sip1",
        lines: int = 450,
    ) -> None:
        assert mode in MODES, mode
        self.mode = mode
        self.extension = extension
        self.interface = interface
        self.lines = lines
        self.port = 0
        self.sent = 0
        self.sessions = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._ids = itertools.count(1)

    def __enter__(self) -> HostileAmi:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name="hostile-ami", daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), loop).result(10)
        return self

    def __exit__(self, *exc: object) -> None:
        loop = self._loop
        if loop is None:
            return
        asyncio.run_coroutine_threadsafe(self._stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        assert self._thread is not None
        self._thread.join(10)
        loop.close()
        self._loop = None

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._session, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                async with asyncio.timeout(2):
                    await self._server.wait_closed()
        for task in asyncio.all_tasks():
            if task is not asyncio.current_task():
                task.cancel()

    async def _send(self, writer: asyncio.StreamWriter, data: bytes) -> None:
        writer.write(data)
        self.sent += len(data)
        await writer.drain()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.sessions += 1
        flood: asyncio.Task[None] | None = None
        try:
            await self._send(writer, b"Asterisk Call Manager/13.0.0\r\n")
            while True:
                fields: dict[str, str] = {}
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    key, _, value = line.decode().rstrip("\r\n").partition(": ")
                    fields[key.lower()] = value
                if not line:
                    return
                action, aid = fields.get("action", "").lower(), fields.get("actionid", "")
                if action == "login":
                    await self._send(
                        writer,
                        _message(
                            ("Response", "Success"),
                            ("ActionID", aid),
                            ("Message", "Authentication accepted"),
                        )
                        + _message(("Event", "FullyBooted"), ("Status", "Fully Booted")),
                    )
                    if self.mode == "long-lines":
                        await self._long_lines(writer)
                    elif self.mode.startswith("flood"):
                        flood = asyncio.create_task(self._flood(writer))
                elif action == "queuestatus" and self.mode == "endless-list":
                    await self._endless(writer, aid)
                elif action in ("queuestatus", "coreshowchannels"):
                    await self._send(
                        writer,
                        _message(("Response", "Success"), ("ActionID", aid), ("EventList", "start"))
                        + _message(
                            ("Event", "ListComplete"),
                            ("ActionID", aid),
                            ("EventList", "Complete"),
                            ("ListItems", "0"),
                        ),
                    )
                else:
                    await self._send(writer, _message(("Response", "Success"), ("ActionID", aid)))
        except (ConnectionError, OSError, asyncio.CancelledError):
            pass
        finally:
            if flood is not None:
                flood.cancel()
            writer.close()

    async def _endless(self, writer: asyncio.StreamWriter, aid: str) -> None:
        await self._send(
            writer, _message(("Response", "Success"), ("ActionID", aid), ("EventList", "start"))
        )
        for n in itertools.count():
            batch = b"".join(
                _message(
                    ("Event", "QueueMember"),
                    ("Queue", "support"),
                    ("Name", f"Member {n}-{i}"),
                    ("Location", f"PJSIP/stray{n}-{i}"),
                    ("StateInterface", f"PJSIP/stray{n}-{i}"),
                    ("Membership", "dynamic"),
                    ("Penalty", "0"),
                    ("Paused", "0"),
                    ("PausedReason", ""),
                    ("ActionID", aid),
                )
                for i in range(200)
            )
            await self._send(writer, batch)

    async def _long_lines(self, writer: asyncio.StreamWriter) -> None:
        # Just under a megabyte, so that a 1 MiB stream limit alone lets it through.
        # Each line a header of its own: a reader keeping the first of each keeps them all.
        value = b"x" * (2**20 - 64) + b"\r\n"
        await self._send(writer, b"Event: VarSet\r\n")
        for n in range(self.lines):
            await self._send(writer, f"Variable{n}: ".encode() + value)
        await self._send(writer, b"\r\n")

    async def _flood(self, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            for n in itertools.count():
                if self.mode == "flood-calls":
                    uid = f"1796000000.{n}"
                    channel = f"PJSIP/{self.extension}-{n:08x}"
                    common = (
                        ("Channel", channel),
                        ("ChannelState", "4"),
                        ("Exten", "0501234567"),
                        ("Uniqueid", uid),
                        ("Linkedid", uid),
                    )
                    data = _message(("Event", "Newchannel"), *common) + _message(
                        ("Event", "Hangup"), *common
                    )
                else:
                    paused = n % 2 == 0
                    data = _message(
                        ("Event", "QueueMemberPause"),
                        ("Queue", "support"),
                        ("Interface", self.interface),
                        ("Paused", "1" if paused else "0"),
                        ("PausedReason", "Lunch break" if paused else ""),
                    )
                await self._send(writer, data * 50)

"""Processes and load: the servers under test, wrk runs, and the shift-start driver."""

from __future__ import annotations

import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tests.support.server import ServerProcess

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
MIX_LUA = Path(__file__).resolve().with_name("mix.lua")
OK_MARKER = b'"StatusErroMessage":"OK"'
STARTUP_SECONDS = 60.0
"""Longer than a test's wait: the bench starts several servers at once, on big data."""


class Server(ServerProcess):
    """One server under test: the tests' ``agentstatus serve`` process, named, with its
    walk through the mix."""

    def __init__(
        self,
        name: str,
        database_url: str,
        workdir: Path,
        *,
        env: dict[str, str] | None = None,
        extra_args: tuple[str, ...] = (),
    ) -> None:
        # The installed script, executed as a user starts it: never forked from a process
        # that has imported the service already (tests/support/forked.py), whose start
        # and memory would not be a user's.
        command = (str(BIN / "agentstatus"),)
        log_path = workdir / f"{name}.log"
        super().__init__(
            database_url, log_path, env=env, extra_args=extra_args, command=command, cwd=REPO
        )
        self.name = name
        self.walked = 0
        """Requests of the mix sent so far: the next wrk run continues the agents' walk."""

    @property
    def url(self) -> str:
        return self.base_url

    def start(self, timeout: float = STARTUP_SECONDS) -> Server:
        super().start(timeout)
        return self

    def memory_kib(self) -> dict[str, int]:
        """VmRSS (resident now) and VmHWM (peak resident) of the server process."""
        assert self.process is not None
        found = {}
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                found[key] = int(value.split()[0])
        return found


class ReferenceServer(Server):
    """A reference app of ``bench/references.py`` under the same uvicorn as ``agentstatus
    serve`` runs: one worker, default (auto) loop and HTTP implementation, no access log, no
    Server header, no proxy headers."""

    def __init__(self, name: str, app: str, workdir: Path, env: dict[str, str]) -> None:
        super().__init__(name, "", workdir, env=env)
        self.app = app

    def argv(self) -> list[str]:
        return [
            str(BIN / "uvicorn"),
            f"bench.references:{self.app}",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--no-access-log",
            "--no-server-header",
            "--no-proxy-headers",
            "--log-level",
            "warning",
        ]


def start_all(servers: list[Server]) -> None:
    """Start several servers at once: their start-ups overlap, one thread waiting for each.
    Each may wait for all the others' start-ups (instances of one PostgreSQL database
    migrate it one after another), so each is given the time of all."""
    timeout = STARTUP_SECONDS * len(servers)
    with ThreadPoolExecutor(len(servers)) as pool:
        for started in [pool.submit(server.start, timeout) for server in servers]:
            started.result()


def agentstatus_server(
    name: str,
    database_url: str,
    workdir: Path,
    *,
    access_log: bool = False,
    env: dict[str, str] | None = None,
) -> Server:
    flag = "--access-log" if access_log else "--no-access-log"
    return Server(name, database_url, workdir, env=env, extra_args=(flag,))


def reference_server(name: str, app: str, workdir: Path, env: dict[str, str]) -> Server:
    return ReferenceServer(name, app, workdir, env)


# --- wrk ------------------------------------------------------------------------------


def wrk_command(
    server: Server,
    duration: float,
    connections: int,
    *,
    agents: int,
    first: int = 1,
    check: bool = True,
) -> tuple[list[str], dict[str, str]]:
    from bench.dataset import CODE, USER_BASE

    argv = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{max(duration, 1):.0f}s",
        "--timeout",
        "10s",
        "-s",
        str(MIX_LUA),
        server.url,
    ]
    env = {
        "BENCH_CODE": CODE,
        "BENCH_USER_BASE": str(USER_BASE),
        "BENCH_FIRST": str(first),
        "BENCH_AGENTS": str(agents),
        "BENCH_THREADS": "1",
        "BENCH_K0": str(server.walked),
        "BENCH_CHECK": "1" if check else "0",
    }
    return argv, env


def _parse_wrk(output: str) -> dict[str, Any]:
    for line in output.splitlines():
        if line.startswith("BENCH_JSON "):
            result: dict[str, Any] = json.loads(line.removeprefix("BENCH_JSON "))
            errors = result["errors"]
            transport = errors["connect"] + errors["read"] + errors["write"] + errors["timeout"]
            # With response() the script counts every non-200 or non-OK answer itself;
            # without it only wrk's count of non-2xx/3xx answers is known.
            answered = result["non_ok"] if result["checked"] else errors["status"]
            result["non_ok_total"] = answered + transport
            result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
            return result
    raise RuntimeError(f"wrk printed no result:\n{output}")


def run_wrk_parallel(
    jobs: list[tuple[Server, list[str], dict[str, str]]], timeout: float
) -> list[dict[str, Any]]:
    """Run wrk processes at the same time; each result is one wrk's BENCH_JSON."""
    procs = [
        (
            server,
            subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, env={**os.environ, **env}),
        )
        for server, argv, env in jobs
    ]
    results = []
    for server, proc in procs:
        out, _ = proc.communicate(timeout=timeout)
        result = _parse_wrk(out)
        server.walked += result["requests"]
        results.append(result)
    return results


def run_mix(
    servers: list[Server],
    duration: float,
    connections: int,
    agents: int,
    *,
    check: bool = True,
) -> dict[str, Any]:
    """The mix against one server, or spread over several (one wrk process per server,
    each with its share of the connections and of the agents); merged into one result."""
    share = agents // len(servers)
    jobs = []
    for i, server in enumerate(servers):
        argv, env = wrk_command(
            server,
            duration,
            connections // len(servers),
            agents=share,
            first=1 + i * share,
            check=check,
        )
        jobs.append((server, argv, env))
    return merge(run_wrk_parallel(jobs, timeout=duration + 60))


def merge(results: list[dict[str, Any]]) -> dict[str, Any]:
    """One result from the simultaneous runs of several wrk processes: throughputs add up;
    percentiles come from the union of their quantiles, weighted by request counts."""
    if len(results) == 1:
        return results[0]
    samples: list[tuple[int, float]] = []
    for r in results:
        weight = r["requests"] / len(r["quantiles_us"])
        samples.extend((q, weight) for q in r["quantiles_us"])
    samples.sort()
    total = sum(w for _, w in samples)

    def percentile(p: float) -> int:
        seen = 0.0
        for value, weight in samples:
            seen += weight
            if seen >= total * p / 100:
                return value
        return samples[-1][0]

    return {
        "requests": sum(r["requests"] for r in results),
        "rps": sum(r["rps"] for r in results),
        "non_ok_total": sum(r["non_ok_total"] for r in results),
        "p50_us": percentile(50),
        "p90_us": percentile(90),
        "p99_us": percentile(99),
        "p999_us": percentile(99.9),
        "max_us": max(r["max_us"] for r in results),
        "first_bad": next((r["first_bad"] for r in results if r["first_bad"]), ""),
        "parts": [{k: v for k, v in r.items() if k != "quantiles_us"} for r in results],
    }


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The median of repeated runs (so noise hits every target alike), and their spread."""
    rps = [r["rps"] for r in runs]
    return {
        "rps": statistics.median(rps),
        "rps_min": min(rps),
        "rps_max": max(rps),
        "p50_ms": statistics.median(r["p50_us"] for r in runs) / 1000,
        "p99_ms": statistics.median(r["p99_us"] for r in runs) / 1000,
        "non_ok": sum(r["non_ok_total"] for r in runs),
        "requests": sum(r["requests"] for r in runs),
        "runs": len(runs),
        "rps_runs": rps,
        "p99_ms_runs": [r["p99_us"] / 1000 for r in runs],
        "first_bad": next((r["first_bad"] for r in runs if r["first_bad"]), ""),
    }


# --- shift start ----------------------------------------------------------------------


async def read_answer(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return status, await reader.readexactly(length)


def _login_request(port: int, agent: int) -> bytes:
    from bench.dataset import CODE, USER_BASE

    user = USER_BASE + agent
    if agent % 2:
        target = (
            f"/UserLogin/SetStatusFromAPI?Code={CODE}&UserId={user}"
            f"&ExtensionUser=sip{user}&Status=1"
        )
        return f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    body = json.dumps(
        {"Code": CODE, "UserId": str(user), "ExtensionUser": f"sip{user}", "Status": 1}
    ).encode()
    return (
        f"POST /UserLogin/SetStatusFromAPI HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


async def _shift_start(port: int, agents: int, clients: int) -> dict[str, Any]:
    todo = iter(range(1, agents + 1))
    latencies: list[float] = []
    non_ok = 0
    first_bad = ""
    connections = [await asyncio.open_connection("127.0.0.1", port) for _ in range(clients)]

    async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal non_ok, first_bad
        for agent in todo:  # one shared iterator: every agent logs in exactly once
            sent = time.perf_counter()
            writer.write(_login_request(port, agent))
            status, body = await read_answer(reader)
            latencies.append(time.perf_counter() - sent)
            if status != 200 or OK_MARKER not in body:
                non_ok += 1
                first_bad = first_bad or f"{status} {body.decode(errors='replace')}"
        writer.close()

    cpu = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    await asyncio.gather(*(client(r, w) for r, w in connections))
    wall = time.perf_counter() - started
    cpu_end = resource.getrusage(resource.RUSAGE_SELF)
    latencies.sort()
    return {
        "agents": agents,
        "clients": clients,
        "answers": len(latencies),
        "wall_s": wall,
        "rps": len(latencies) / wall,
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        "max_ms": latencies[-1] * 1000,
        "non_ok": non_ok + (agents - len(latencies)),
        "first_bad": first_bad,
        "driver_cpu_s": (cpu_end.ru_utime + cpu_end.ru_stime) - (cpu.ru_utime + cpu.ru_stime),
    }


def shift_start(server: Server, agents: int, clients: int) -> dict[str, Any]:
    """``agents`` distinct agents log in once each, through ``clients`` keep-alive
    connections sending as fast as the answers come back (a fixed amount of work, which
    wrk, a tool of fixed duration, cannot do). The connections are opened before the
    clock starts. The driver is Python (asyncio on uvloop); its own CPU time is reported."""
    import uvloop

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(_shift_start(server.port, agents, clients))

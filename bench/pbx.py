"""The phone-system part (issue 15): how soon an OK answer reaches the phone system as its
command, and what a reconcile costs.

(i)  A status mix through ``SetStatusFromAPI`` at ``rate`` a second, each of ``agents``
     agents changing at most every few seconds (Login, Lunch break, Training, back, Logout),
     with a loopback Asterisk (``tests/support/ami_server.py``, AMI over TCP) connected to
     two queues. For each OK answer: the time until the phone system reads the first
     action for that agent's interface (both clocks are this process's; negative when the
     command arrived before the client had read its answer). The same mix is then run
     against a loopback FreeSWITCH (``tests/support/esl_server.py``, the event socket,
     mod_callcenter), timed to the first ``callcenter_config`` command naming the agent.
(ii) Reconcile: ``reconcile_agents`` agents logged in, the phone system given a drift
     (a tenth of the members removed from one queue, a tenth paused wrongly, a tenth of
     strays added), then the server started: how long until the reconcile is recorded, the
     seats checked and the differences repaired, and that the phone system is then right.
(iii) Restart (issue 21): ``agents`` agents logged in, half on Lunch break; Asterisk is
     killed (no Shutdown), a tenth of the agents change status while it is down for
     ``down_seconds``, and it starts again with ``persistentmembers`` (the members restored
     as they were: stale). Measured: from the start to the login, and from Asterisk
     accepting the login to every member being right (target 2 s); the reference, in the
     same run, is the time from the login to agentstatus's first action on the connection
     (what the reconnect costs before any member is looked at).

``python -m bench.pbx [--smoke]`` runs this part alone; ``bench/run.py`` runs it as part 8.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx
from sqlalchemy import Engine, text
from tests.support.ami_server import AmiServer
from tests.support.esl_server import EslServer
from tests.support.receiver import LOOPBACK

from agentstatus.domain.pbx_config import make_config
from agentstatus.service import pbx_settings
from agentstatus.storage.key_file import secret_box_for
from agentstatus.storage.migrate import open_database
from bench.checks import Check, verdicts
from bench.dataset import CODE, ORG, USER_BASE, build_sqlite
from bench.harness import Server, agentstatus_server

QUEUES = ("support", "sales")
FS_QUEUES = ("support@default", "sales@default")
KEY = "u0WI3Y9hJ6r4cW4-0N1m2QoXa6bq7Lk5Sx7o3m4YF9E="
SECRET = "ami-secret-0001"  # noqa: S105 - the loopback test server's
FS_SECRET = "ClueCon-test-01"  # noqa: S105 - the loopback test server's default
MIX = (1, 3, 1, 11, 1, 2)  # each agent walks through these, one step at a time


@dataclass(frozen=True)
class PbxPlan:
    agents: int = 500
    rate: float = 50.0
    seconds: float = 30.0
    reconcile_agents: int = 2_000
    down_seconds: float = 3.0


FULL = PbxPlan()
SMOKE = PbxPlan(agents=40, rate=20.0, seconds=1.5, reconcile_agents=100, down_seconds=1.0)
RESTART_TARGET_S = 2.0


@dataclass(frozen=True)
class PbxResult:
    changes: int
    matched: int
    p50_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    reconcile_agents: int
    reconcile_checked: int
    reconcile_repaired: int
    drift_made: int
    reconcile_seconds: float
    reconciled_right: bool
    max_outstanding: int
    fs_changes: int = 0
    fs_matched: int = 0
    fs_p50_ms: float | None = None
    fs_p99_ms: float | None = None
    fs_max_ms: float | None = None
    fs_max_outstanding: int = 0
    restart_agents: int = 0
    restart_changed: int = 0
    restart_login_s: float | None = None
    restart_right_s: float | None = None
    restart_reference_s: float | None = None

    @classmethod
    def from_json(cls, data: dict[str, object]) -> PbxResult:
        return cls(**data)  # type: ignore[arg-type]


def _log(message: str) -> None:
    print(f"[pbx] {message}", file=sys.stderr, flush=True)


def _percentile(ordered: list[float], p: float) -> float | None:
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def _server(database_url: str, workdir: Path, name: str) -> Server:
    env = {
        "AGENTSTATUS_SECRET_KEY": KEY,
        "AGENTSTATUS_OUTBOUND_ALLOWED_NETWORKS": "127.0.0.0/8",
        "AGENTSTATUS_PBX_LEASE_SECONDS": "4",
    }
    return agentstatus_server(name, database_url, workdir, env=env)


def _connect(engine: Engine, url: str, ami: AmiServer) -> None:
    config = make_config(
        "asterisk", "127.0.0.1", port=ami.port, queues=list(QUEUES), username="agentstatus"
    )
    box = secret_box_for(url, KEY)
    pbx_settings.set_pbx(engine, box, ORG, config, SECRET, outbound=LOOPBACK)


def _connect_freeswitch(engine: Engine, url: str, esl: EslServer) -> None:
    config = make_config("freeswitch", "127.0.0.1", port=esl.port, queues=list(FS_QUEUES))
    box = secret_box_for(url, KEY)
    pbx_settings.set_pbx(engine, box, ORG, config, FS_SECRET, outbound=LOOPBACK)


def _wait_reconciled(engine: Engine, timeout: float) -> pbx_settings.PbxState:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = pbx_settings.pbx_state(engine, ORG)
        if found is not None and found.connected and found.reconcile_ms is not None:
            return found
        time.sleep(0.02)
    raise RuntimeError("the phone system was not reconciled in time")


async def _mix(base: str, plan: PbxPlan) -> list[tuple[int, float]]:
    """Changes at ``plan.rate`` a second; (user id, answered at) of every OK answer."""
    total = int(plan.rate * plan.seconds)
    step = [0] * plan.agents
    answered: list[tuple[int, float]] = []
    start = time.monotonic()
    async with httpx.AsyncClient(timeout=30) as client:

        async def one(n: int) -> None:
            agent = n % plan.agents
            status = MIX[step[agent] % len(MIX)]
            step[agent] += 1
            user = USER_BASE + agent + 1
            sip = f"sip{user}"
            r = await client.get(
                f"{base}/UserLogin/SetStatusFromAPI",
                params={"Code": CODE, "UserId": user, "ExtensionUser": sip, "Status": status},
            )
            if r.json().get("StatusErroMessage") == "OK":
                answered.append((user, time.monotonic()))

        tasks = []
        for n in range(total):
            await asyncio.sleep(max(0.0, start + n / plan.rate - time.monotonic()))
            tasks.append(asyncio.create_task(one(n)))
        await asyncio.gather(*tasks)
    return answered


def _latencies(commands: dict[str, list[float]], answered: list[tuple[str, float]]) -> list[float]:
    """For each answer, the first command for its seat from a second before it (ms).

    The server sends the command as soon as the change commits, which is often before this
    client has read the answer: such a latency is negative. Each agent changes at most
    every ``agents / rate`` seconds (10 s in the full plan), so the window never takes the
    command of the agent's previous change."""
    found = []
    for seat, at in answered:
        later = [t for t in commands.get(seat, []) if t >= at - 1.0]
        if later:
            found.append((min(later) - at) * 1000)
    return sorted(found)


def _ami_commands(ami: AmiServer) -> dict[str, list[float]]:
    """When each interface's actions were read."""
    by_interface: dict[str, list[float]] = {}
    for action in ami.actions():
        interface = action.fields.get("Interface")
        if interface:
            by_interface.setdefault(interface, []).append(action.at)
    return by_interface


def _esl_commands(esl: EslServer) -> dict[str, list[float]]:
    """When each agent's ``callcenter_config`` commands were read: the agent is the word
    after ``agent add``, ``agent set <key>`` or ``tier add <queue>``."""
    by_agent: dict[str, list[float]] = {}
    for command in esl.commands("api callcenter_config "):
        words = command.line.split(" ")[2:]
        if words[:2] == ["agent", "add"] and len(words) > 2:
            name = words[2]
        elif words[:2] in (["agent", "set"], ["tier", "add"]) and len(words) > 3:
            name = words[3]
        else:
            continue
        by_agent.setdefault(name, []).append(command.at)
    return by_agent


@dataclass(frozen=True)
class _Mix:
    changes: int
    latencies: list[float]
    """Sorted, in ms."""
    outstanding: int

    def figures(self) -> tuple[int, float | None, float | None, float | None]:
        """Matched, p50, p99 and max."""
        ordered = self.latencies
        top = ordered[-1] if ordered else None
        return len(ordered), _percentile(ordered, 0.50), _percentile(ordered, 0.99), top


def _run_mix(plan: PbxPlan, workdir: Path, kind: str) -> _Mix:
    """The status mix against a loopback phone system of ``kind``."""
    path = workdir / f"pbx-mix-{kind}.db"
    build_sqlite(path, plan.agents)
    url = f"sqlite:///{path}"
    engine = open_database(url)
    phone: AmiServer | EslServer = (
        AmiServer(queues=QUEUES) if kind == "asterisk" else EslServer(queues=FS_QUEUES)
    )
    with phone:
        if isinstance(phone, AmiServer):
            _connect(engine, url, phone)
        else:
            _connect_freeswitch(engine, url, phone)
        server = _server(url, workdir, f"pbx-mix-{kind}")
        server.start()
        try:
            _wait_reconciled(engine, 30)
            _log(
                f"(i) {kind}: {plan.rate:g} changes/s for {plan.seconds:g} s"
                f" over {plan.agents} agents"
            )
            answered = asyncio.run(_mix(server.url, plan))
            time.sleep(2.0)  # the last commands
            if isinstance(phone, AmiServer):
                seats = [(f"PJSIP/sip{user}", at) for user, at in answered]
                latencies = _latencies(_ami_commands(phone), seats)
            else:
                seats = [(str(user), at) for user, at in answered]
                latencies = _latencies(_esl_commands(phone), seats)
            outstanding = phone.max_outstanding
        finally:
            server.stop()
    engine.dispose()
    return _Mix(len(answered), latencies, outstanding)


@dataclass(frozen=True)
class _Restart:
    agents: int
    changed: int
    login_s: float
    right_s: float | None
    reference_s: float | None


def _half_on_lunch(workdir: Path, name: str, agents: int) -> tuple[str, Engine, list[int]]:
    """A data set where every agent is logged in at its own extension, the even ones on
    Lunch break: (its URL, an engine, the user ids)."""
    path = workdir / f"{name}.db"
    build_sqlite(path, agents)
    url = f"sqlite:///{path}"
    engine = open_database(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE presence SET status = CASE WHEN agent_id % 2 = 0 THEN 3 ELSE 1 END,"
                " extension_id = agent_id, version = version + 1"
            )
        )
    return url, engine, [USER_BASE + i for i in range(1, agents + 1)]


def _seat_members(ami: AmiServer, users: list[int]) -> None:
    """Every user a member of every queue, as the data set has them (even ones paused)."""
    for n, user in enumerate(users, 1):
        paused = n % 2 == 0
        for queue in QUEUES:
            ami.set_member(
                queue,
                f"PJSIP/sip{user}",
                member_name=f"Agent {n}",
                paused=paused,
                reason="Lunch break" if paused else "",
            )


def _change_some(base_url: str, status: dict[int, int], changed: list[int]) -> None:
    """Flip the ``changed`` users between Login and Lunch break, in ``status`` too."""
    with httpx.Client(timeout=30) as client:
        for user in changed:
            status[user] = 1 if status[user] == 3 else 3
            client.get(
                f"{base_url}/UserLogin/SetStatusFromAPI",
                params={
                    "Code": CODE,
                    "UserId": user,
                    "ExtensionUser": f"sip{user}",
                    "Status": status[user],
                },
            )


def _run_restart(plan: PbxPlan, workdir: Path) -> _Restart:
    """Asterisk killed and started again with stale persistent members (iii)."""
    url, engine, users = _half_on_lunch(workdir, "pbx-restart", plan.agents)
    status = {user: 3 if n % 2 == 0 else 1 for n, user in enumerate(users, 1)}
    with AmiServer(queues=QUEUES) as ami:
        _seat_members(ami, users)
        _connect(engine, url, ami)
        server = _server(url, workdir, "pbx-restart")
        try:
            server.start()
            _wait_reconciled(engine, 60)
            ami.stop_asterisk(clean=False)
            changed = users[:: max(1, 10)][: max(1, plan.agents // 10)]
            _change_some(server.url, status, changed)
            time.sleep(plan.down_seconds)  # Asterisk is down; the link keeps trying
            logins = len(ami.logins)
            before_actions = len(ami.actions())
            started = time.monotonic()
            ami.start_asterisk()
            deadline = started + 30
            while len(ami.logins) <= logins and time.monotonic() < deadline:
                time.sleep(0.005)
            accepted = ami.logins[logins] if len(ami.logins) > logins else None

            def right() -> bool:
                members = ami.members()
                return all(
                    (found := members.get((q, f"PJSIP/sip{u}"))) is not None
                    and (found.paused, found.reason)
                    == ((True, "Lunch break") if s == 3 else (False, ""))
                    for u, s in status.items()
                    for q in QUEUES
                )

            while not (ok := right()) and time.monotonic() < deadline:
                time.sleep(0.005)
            done = time.monotonic()
            after = [
                a
                for a in ami.actions()[before_actions:]
                if a.name != "Login" and accepted is not None and a.at >= accepted
            ]
        finally:
            server.stop()
    engine.dispose()
    if accepted is None:
        return _Restart(plan.agents, len(changed), float("inf"), None, None)
    return _Restart(
        plan.agents,
        len(changed),
        accepted - started,
        done - accepted if ok else None,
        after[0].at - accepted if after else None,
    )


@dataclass(frozen=True)
class _Reconcile:
    checked: int
    repaired: int
    drift: int
    seconds: float
    right: bool


def _run_reconcile(plan: PbxPlan, workdir: Path) -> _Reconcile:
    """(ii): a phone system that drifted from agentstatus, reconciled at start."""
    url, engine, users = _half_on_lunch(workdir, "pbx-reconcile", plan.reconcile_agents)
    with AmiServer(queues=QUEUES) as ami:
        rng = random.Random(15)
        _seat_members(ami, users)
        tenth = max(1, plan.reconcile_agents // 10)
        picked = rng.sample(users, 2 * tenth)
        for user in picked[:tenth]:
            ami.remove_member("sales", f"PJSIP/sip{user}")
        for user in picked[tenth:]:
            ami.set_member("support", f"PJSIP/sip{user}", paused=True, reason="wrong")
        for n in range(tenth):
            ami.set_member("support", f"PJSIP/stray{n}", member_name="stray")
        drift = 2 * tenth  # the strays are no extension of the organisation's: left alone
        _connect(engine, url, ami)
        server = _server(url, workdir, "pbx-reconcile")
        started = time.monotonic()
        try:
            server.start()
            state = _wait_reconciled(engine, 120)
            took = time.monotonic() - started
            members = ami.members()
            right = all(
                (q, f"PJSIP/sip{u}") in members
                and members[(q, f"PJSIP/sip{u}")].paused == (i % 2 == 0)
                for i, u in enumerate(users, 1)
                for q in QUEUES
            )
        finally:
            server.stop()
    engine.dispose()
    return _Reconcile(state.reconcile_checked, state.reconcile_repaired, drift, took, right)


def run_pbx(plan: PbxPlan, workdir: Path) -> PbxResult:
    # (i) the status mix, on each phone system
    mix = _run_mix(plan, workdir, "asterisk")
    fs = _run_mix(plan, workdir, "freeswitch")
    reconcile = _run_reconcile(plan, workdir)
    restart = _run_restart(plan, workdir)
    matched, p50, p99, top = mix.figures()
    fs_matched, fs_p50, fs_p99, fs_top = fs.figures()
    return PbxResult(
        changes=mix.changes,
        matched=matched,
        p50_ms=p50,
        p99_ms=p99,
        max_ms=top,
        reconcile_agents=plan.reconcile_agents,
        reconcile_checked=reconcile.checked,
        reconcile_repaired=reconcile.repaired,
        drift_made=reconcile.drift,
        reconcile_seconds=reconcile.seconds,
        reconciled_right=reconcile.right,
        max_outstanding=mix.outstanding,
        fs_changes=fs.changes,
        fs_matched=fs_matched,
        fs_p50_ms=fs_p50,
        fs_p99_ms=fs_p99,
        fs_max_ms=fs_top,
        fs_max_outstanding=fs.outstanding,
        restart_agents=restart.agents,
        restart_changed=restart.changed,
        restart_login_s=restart.login_s,
        restart_right_s=restart.right_s,
        restart_reference_s=restart.reference_s,
    )


def _checks() -> list[Check[PbxResult]]:
    inf = float("inf")
    return [
        Check(
            "pbx: OK answers without their command",
            lambda r: float(r.changes - r.matched),
            "<=",
            0,
        ),
        Check(
            "pbx: OK answer to the command p99",
            lambda r: inf if r.p99_ms is None else r.p99_ms,
            "<=",
            250,
            "ms",
        ),
        Check("pbx: most actions outstanding", lambda r: float(r.max_outstanding), "<=", 1),
        Check(
            "pbx: FreeSWITCH OK answers without their command",
            lambda r: float(r.fs_changes - r.fs_matched) if r.fs_changes else inf,
            "<=",
            0,
        ),
        Check(
            "pbx: FreeSWITCH OK answer to the command p99",
            lambda r: inf if r.fs_p99_ms is None else r.fs_p99_ms,
            "<=",
            250,
            "ms",
        ),
        Check(
            "pbx: FreeSWITCH most commands outstanding",
            lambda r: float(r.fs_max_outstanding),
            "<=",
            1,
        ),
        Check(
            "pbx: differences left after the reconcile",
            lambda r: (
                float(abs(r.drift_made - r.reconcile_repaired))
                + (0.0 if r.reconciled_right else 1.0)
            ),
            "<=",
            0,
        ),
        Check(
            "pbx: restart, login to every member right",
            lambda r: inf if r.restart_right_s is None else r.restart_right_s,
            "<=",
            RESTART_TARGET_S,
            "s",
        ),
    ]


def targets(result: PbxResult) -> list[tuple[str, bool]]:
    return verdicts(_checks(), result)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def table(result: PbxResult) -> str:
    r = result
    return "\n".join(
        [
            "| phone system (on loopback) | Asterisk (AMI) | FreeSWITCH (event socket) |",
            "|---|---|---|",
            f"| OK answers / commands matched | {r.changes:,} / {r.matched:,} |"
            f" {r.fs_changes:,} / {r.fs_matched:,} |",
            f"| OK answer to command p50 / p99 / max (ms) | {_ms(r.p50_ms)} / {_ms(r.p99_ms)}"
            f" / {_ms(r.max_ms)} | {_ms(r.fs_p50_ms)} / {_ms(r.fs_p99_ms)}"
            f" / {_ms(r.fs_max_ms)} |",
            f"| most commands outstanding | {r.max_outstanding} | {r.fs_max_outstanding} |",
            f"| reconcile: agents, seats checked | {r.reconcile_agents:,}, "
            f"{r.reconcile_checked:,} | - |",
            f"| reconcile: drift made, repaired | {r.drift_made:,}, {r.reconcile_repaired:,} | - |",
            f"| reconcile: server start to recorded (s) | {r.reconcile_seconds:.2f} | - |",
            f"| phone system right afterwards | {'yes' if r.reconciled_right else 'NO'} | - |",
            f"| restart: agents, changed while down | {r.restart_agents:,},"
            f" {r.restart_changed:,} | - |",
            f"| restart: start to login (s) | {_s(r.restart_login_s)} | - |",
            f"| restart: login to every member right (s; target {RESTART_TARGET_S:g}) |"
            f" {_s(r.restart_right_s)} | - |",
            f"| restart: login to the first action, reference (s) |"
            f" {_s(r.restart_reference_s)} | - |",
        ]
    )


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny figures, about 30 s")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="bench-pbx-"))
    try:
        result = run_pbx(SMOKE if args.smoke else FULL, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(table(result))
    for name, met in targets(result):
        print(f"{'MET ' if met else 'MISSED'} {name}")
    print(json.dumps(asdict(result)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

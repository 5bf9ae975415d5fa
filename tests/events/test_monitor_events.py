"""Voicenter's real-time monitor made from the organisation's feed, on both engines: every
message checked key by key against the recording (``tests/fixtures/voicenter-events-
sample.json``) and for its units, from real status changes, calls and queue callers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from agentstatus.domain.calls import Call, CallBook, CallState, Changed, Direction
from agentstatus.domain.clock import now_ms
from agentstatus.domain.commands import Source
from agentstatus.domain.queues import CallerChange
from agentstatus.events import credentials
from agentstatus.events.monitor_session import MonitorEnded
from agentstatus.service.errors import TooMany
from agentstatus.service.phone_calls import store_calls
from agentstatus.service.timezones import set_timezone
from agentstatus.storage.database import reading
from agentstatus.storage.monitor_reads import agent_rows, extension_rows
from agentstatus.storage.schema import history
from tests.support.factories import make_org
from tests.support.monitor import Rig, call_keys, decoded, expect, next_until, rig, sample
from tests.support.queues import ended, joined, write_callers

ZONE = "Asia/Jerusalem"


def offset_minutes() -> int:
    offset = datetime.now(ZoneInfo(ZONE)).utcoffset()
    assert offset is not None
    return int(offset.total_seconds()) // 60


def ids(r: Rig, org: str) -> dict[str, int]:
    with reading(r.engine) as conn:
        return {e.sip: e.id for e in extension_rows(conn, r.oid(org))}


def agent_id(r: Rig, org: str, user_id: str) -> int:
    with reading(r.engine) as conn:
        (found,) = [a.id for a in agent_rows(conn, r.oid(org)) if a.user_id == user_id]
    return found


def history_count(r: Rig) -> int:
    with reading(r.engine) as conn:
        return int(conn.execute(select(func.count()).select_from(history)).scalar_one())


def shift() -> int:
    """Voicenter's epochs are on the organisation's clock: UTC plus its offset (seconds)."""
    return offset_minutes() * 60


def assert_time(payload: dict[str, Any]) -> None:
    """``servertime`` in seconds (now, on the organisation's clock: the SDK takes the
    offset off), ``servertimeoffset`` the org's zone, in minutes."""
    assert payload["servertimeoffset"] == offset_minutes()
    assert offset_minutes() != 0  # (so that the shift below is seen)
    assert abs(payload["servertime"] - payload["servertimeoffset"] * 60 - time.time()) < 5


def assert_call_keys(call: dict[str, Any]) -> None:
    every, some = call_keys()
    assert every <= set(call) <= some


def assert_extension(data: dict[str, Any], like: dict[str, Any]) -> None:
    """An extension object with the recorded one's keys (its calls' keys the recorded
    calls'), ``representativeUpdated`` in milliseconds."""
    assert set(data) == set(like)
    assert set(data["summery"]) == {"representative"}
    for call in data["calls"]:
        assert_call_keys(call)
    if "currentCall" in data:
        assert_call_keys(data["currentCall"])
    updated = data["representativeUpdated"]
    assert updated == 0 or abs(updated - shift() * 1000 - now_ms()) < 60_000
    assert data["peerStatus"] is None


async def prepared(r: Rig) -> str:
    org = make_org(r.engine, name="monitored")
    set_timezone(r.engine, org.name, ZONE)
    return org.name


async def test_the_greeting_is_login_success_status_and_extensions(any_database_url: str) -> None:
    async with rig(any_database_url) as r:
        org = await prepared(r)
        await r.set(org, "101", "sip1", 1)
        at = now_ms()
        write_callers(r.engine, org, [joined("support", "c1", "0501234567", at)])
        session = await r.open(org)
        greeting = session.greeting()
        assert [m.event for m in greeting] == ["loginSuccess", "loginStatus", "AllExtensionsStatus"]
        success, status, everyone = (decoded(m) for m in greeting)
        assert set(success) == set(sample()["loginSuccess"])
        assert (success["errorCode"], success["errorDesc"]) == (0, "OK")
        assert_time(success)
        assert set(status) == set(sample()["loginStatus"])
        (queue,) = status["queues"]
        assert set(queue) == set(sample()["loginStatus"]["queues"][1])
        assert queue["QueueName"] == "support"
        assert queue["UserID"] == r.oid(org)
        (caller,) = queue["Calls"]
        assert set(caller) == set(sample()["loginStatus"]["queues"][1]["Calls"][0])
        assert caller["JoinTimeStamp"] == at // 1000 + shift()
        assert (caller["IvrUniqueID"], caller["CallerID"]) == ("c1", "0501234567")
        assert_time(status)
        assert set(everyone) == set(sample()["AllExtensionsStatus"])
        assert_time(everyone)
        shown = {e["extenUser"]: e for e in everyone["extensions"]}
        assert sorted(shown) == ["sip1", "sip2", "sip3"]
        like = sample()["AllExtensionsStatus"]["extensions"][0]
        for extension in shown.values():
            assert_extension(extension, like)
        one, two = shown["sip1"], shown["sip2"]
        numbers = ids(r, org)
        assert (one["userID"], one["number"]) == (numbers["sip1"], numbers["sip1"])
        assert (one["accountID"], one["topAccountID"]) == (r.oid(org), r.oid(org))
        assert (one["onlineUserID"], one["representative"], one["representativeStatus"]) == (
            101,
            101,
            1,
        )
        assert one["summery"]["representative"] == "Agent 1"
        assert one["userName"] == "Desk 1"
        assert (two["onlineUserID"], two["representative"], two["representativeStatus"]) == (
            0,
            0,
            2,
        )
        session.close()


async def test_status_changes_logout_and_a_move(any_database_url: str) -> None:
    async with rig(any_database_url) as r:
        org = await prepared(r)
        session = await r.open(org)
        numbers = ids(r, org)
        await r.set(org, "101", "sip1", 1)
        ((name, login),) = await expect(session, 1)
        like = sample()["ExtensionEvent_userStatusUpdate_logout"]
        assert name == "ExtensionEvent"
        assert set(login) == set(like)
        assert (login["eventName"], login["reason"]) == ("extension", "userStatusUpdate")
        assert_time(login)
        assert_extension(login["data"], like["data"])
        assert login["data"]["representative"] == 101
        assert login["data"]["number"] == numbers["sip1"]
        assert login["data"]["representativeStatus"] == 1

        await r.set(org, "101", "sip2", 5)  # a move: the old extension emptied, the new held
        (_, left), (_, taken) = await expect(session, 2)
        assert left["data"]["extenUser"] == "sip1"
        assert (left["data"]["representative"], left["data"]["representativeStatus"]) == (0, 2)
        assert taken["data"]["extenUser"] == "sip2"
        assert (taken["data"]["representative"], taken["data"]["representativeStatus"]) == (101, 5)

        await r.set(org, "101", None, 2)
        ((_, out),) = await expect(session, 1)
        assert set(out) == set(like)
        data = out["data"]
        assert data["extenUser"] == "sip2"
        assert (data["onlineUserID"], data["representative"], data["representativeStatus"]) == (
            0,
            0,
            2,
        )
        assert data["summery"]["representative"] == "Agent 1"  # the last agent's, as recorded
        assert abs(data["representativeUpdated"] - shift() * 1000 - now_ms()) < 10_000
        session.close()


async def test_an_identical_status_again_is_announced_and_records_nothing(
    any_database_url: str,
) -> None:
    async with rig(any_database_url) as r:
        org = await prepared(r)
        await r.set(org, "101", "sip1", 5)
        session = await r.open(org)
        before = history_count(r)
        result = await r.set(org, "101", "sip1", 5)
        assert result.change is None
        assert result.history_id is None
        ((name, again),) = await expect(session, 1)
        assert name == "ExtensionEvent"
        assert again["reason"] == "userStatusUpdate"
        assert set(again) == set(sample()["ExtensionEvent_userStatusUpdate_logout"])
        assert (again["data"]["extenUser"], again["data"]["representativeStatus"]) == ("sip1", 5)
        assert history_count(r) == before
        # A rule's identical status (the phone system's) is not a person's: not announced.
        await r.set(org, "101", "sip1", 5, Source.PBX)
        await r.set(org, "102", "sip2", 1)
        ((_, next_one),) = await expect(session, 1)
        assert next_one["data"]["extenUser"] == "sip2"
        session.close()


def _call(call_id: str, at: int) -> Call:
    return Call(call_id, "sip1", Direction.IN, CallState.RINGING, "Dana", "0501234567", "0399", at)


async def test_calls_and_a_break_during_a_call(any_database_url: str) -> None:
    async with rig(any_database_url) as r:
        org = await prepared(r)
        oid = r.oid(org)
        await r.set(org, "101", "sip1", 1)
        session = await r.open(org)
        book = CallBook()
        start = now_ms()

        async def heard(change: Changed | None, reason: str) -> dict[str, Any]:
            assert change is not None
            store_calls(r.engine, oid, [change])
            ((name, event),) = await expect(session, 1)
            assert (name, event["reason"]) == ("ExtensionEvent", reason)
            like = sample()[f"ExtensionEvent_{reason}"]
            assert set(event) == set(like)
            assert_time(event)
            assert_extension(event["data"], like["data"])
            assert abs(event["telephonyservertime"] - shift() - time.time()) < 5
            return event

        new = await heard(book.start(_call("c-1", start)), "NEWCALL")
        current = new["data"]["currentCall"]
        assert (current["ivrid"], current["callstatus"], current["answered"]) == (
            "c-1",
            "Ringing",
            0,
        )
        assert (current["direction"], current["callType"]) == ("Incoming", "Incoming")
        assert current["callStarted"] == start // 1000 + shift() == current["calldurationinterval"]
        assert (current["callername"], current["callerphone"], current["did"]) == (
            "Dana",
            "0501234567",
            "0399",
        )
        assert current["recording"] == {
            "Filename": "",
            "Options": "",
            "ApproximateURL": "",
            "IsMuted": 0,
        }
        assert new["data"]["lastCallEventEpoch"] == new["telephonyservertime"]
        answered = await heard(book.answer("c-1", now_ms()), "ANSWER")
        assert answered["data"]["currentCall"]["callstatus"] == "Talking"
        assert answered["data"]["currentCall"]["answered"] == 1
        assert answered["data"]["lastAnsweredCallEventEpoch"] == answered["telephonyservertime"]
        held = await heard(book.hold("c-1", True), "HOLD")
        assert held["data"]["calls"][0]["callstatus"] == "Hold"

        await r.set(org, "101", "sip1", 5)  # a break during the call keeps calls[]
        ((_, pause),) = await expect(session, 1)
        like = sample()["ExtensionEvent_userStatusUpdate_break_during_call"]
        assert set(pause) == set(like)
        assert_extension(pause["data"], like["data"])
        assert [c["ivrid"] for c in pause["data"]["calls"]] == ["c-1"]
        assert pause["data"]["representativeStatus"] == 5

        await heard(book.hold("c-1", False), "UNHOLD")
        await heard(book.start(_call("c-2", now_ms())), "NEWCALL")
        hangup = await heard(book.end("c-1"), "HANGUP")
        assert [c["ivrid"] for c in hangup["data"]["calls"]] == ["c-2"]
        assert hangup["data"]["currentCall"]["ivrid"] == "c-1"
        assert (hangup["ivruniqueid"], hangup["callerID"], hangup["cause"]) == (
            "c-1",
            "Dana",
            "Normal hangup",
        )
        assert hangup["data"]["lastHangupCallEpoch"] == hangup["telephonyservertime"]
        # Logged out during a call: the history no longer follows it, nor does the monitor.
        await r.set(org, "101", None, 2)
        ((_, out),) = await expect(session, 1)
        assert (out["data"]["calls"], out["data"]["representative"]) == ([], 0)
        session.close()


async def test_queue_events_from_recorded_callers(any_database_url: str) -> None:
    async with rig(any_database_url) as r:
        org = await prepared(r)
        await r.set(org, "101", "sip1", 1)
        session = await r.open(org)
        at = now_ms()
        write_callers(
            r.engine,
            org,
            [joined("sales", "q1", "0501", at - 9_000), joined("sales", "q2", "0502", at - 5_000)],
        )
        (_, first), (_, second) = await expect(session, 2)
        for event in (first, second):
            assert set(event) == set(sample()["QueueEvent_JOIN"])
            assert set(event["data"]) == set(sample()["QueueEvent_JOIN"]["data"])
            assert (event["eventName"], event["reason"]) == ("queue", "JOIN")
            assert_time(event)
        assert [c["IvrUniqueID"] for c in second["data"]["Calls"]] == ["q1", "q2"]
        assert second["ivruniqueid"] == "q2"
        assert second["data"]["Calls"][0]["JoinTimeStamp"] == (at - 9_000) // 1000 + shift()
        assert set(second["data"]["Calls"][0]) == set(
            sample()["QueueEvent_JOIN"]["data"]["Calls"][0]
        )

        # Answered while waiting (FreeSWITCH's order): EXIT naming the agent, then ANSWER.
        write_callers(
            r.engine, org, [ended(CallerChange.ANSWERED, "sales", "q1", "0501", at, user_id="101")]
        )
        (_, exited), (_, answer) = await expect(session, 2)
        assert set(exited) == set(sample()["QueueEvent_EXIT"])
        assert set(exited["data"]) == set(sample()["QueueEvent_EXIT"]["data"])
        assert (exited["reason"], exited["data"]["AnsweredAgent"]) == ("EXIT", "Agent 1")
        assert exited["ivruniqueid"] == "q1"
        assert [c["IvrUniqueID"] for c in exited["data"]["Calls"]] == ["q2"]
        assert set(answer) == set(sample()["QueueEvent_ANSWER"])
        assert set(answer["data"]) == set(sample()["QueueEvent_ANSWER"]["data"])
        assert answer["reason"] == "ANSWER"
        assert answer["telephonyservertime"] == at // 1000 + shift()

        write_callers(r.engine, org, [ended(CallerChange.ABANDONED, "sales", "q2", "0502", at)])
        ((_, abandoned),) = await expect(session, 1)
        assert set(abandoned) == set(sample()["QueueEvent_ABANDONED"])
        assert (abandoned["reason"], abandoned["data"]["Calls"]) == ("ABANDONED", [])

        write_callers(r.engine, org, [joined("sales", "q3", "0503", at)])
        write_callers(r.engine, org, [ended(CallerChange.LEFT, "sales", "q3", "0503", at + 1)])
        (_, _), (_, left) = await expect(session, 2)
        assert (left["reason"], left["ivruniqueid"], left["data"]["Calls"]) == ("EXIT", "q3", [])
        assert "AnsweredAgent" not in left["data"]
        session.close()


async def test_narrowing_by_id_or_sip_name(any_database_url: str) -> None:
    async with rig(any_database_url) as r:
        org = await prepared(r)
        session = await r.open(org)
        numbers = ids(r, org)
        updated, narrowed = session.monitor(f"sip1, {numbers['sip3']},nosuch")
        assert updated.event == "ExtensionsUpdated"
        assert decoded(updated) == ",".join(
            str(i) for i in sorted([numbers["sip1"], numbers["sip3"]])
        )
        assert narrowed.event == "AllExtensionsStatus"
        assert [e["extenUser"] for e in decoded(narrowed)["extensions"]] == ["sip1", "sip3"]
        await r.set(org, "102", "sip2", 1)
        await r.set(org, "103", "sip3", 1)
        write_callers(r.engine, org, [joined("sales", "q1", "0501", now_ms())])
        (_, mine), (queue, _) = await expect(session, 2)
        assert mine["data"]["extenUser"] == "sip3"
        assert queue == "QueueEvent"
        (again,) = session.resync()
        assert [e["extenUser"] for e in decoded(again)["extensions"]] == ["sip1", "sip3"]
        _, everything = session.monitor("")
        assert len(decoded(everything)["extensions"]) == 3
        session.close()


async def test_an_extension_made_after_the_load_is_shown(any_database_url: str) -> None:
    from agentstatus.service.agents import add_agent
    from agentstatus.service.extensions import add_extension

    async with rig(any_database_url) as r:
        org = await prepared(r)
        session = await r.open(org)
        add_extension(r.engine, org, "late", "Late desk")
        add_agent(r.engine, org, "latecomer", "Late Agent")
        await r.set(org, "latecomer", "late", 1)
        ((_, event),) = await expect(session, 1)
        assert (event["data"]["extenUser"], event["data"]["userName"]) == ("late", "Late desk")
        assert event["data"]["number"] == ids(r, org)["late"]
        # Not all digits: the agent's numeric id stands for it.
        assert event["data"]["representative"] == agent_id(r, org, "latecomer")
        assert event["data"]["summery"]["representative"] == "Late Agent"
        session.close()


async def test_a_slow_socket_is_dropped_as_lagged(database_url: str) -> None:
    async with rig(database_url, buffer=3) as r:
        org = await prepared(r)
        slow = await r.open(org)
        quick = await r.open(org)
        for status in (1, 5, 1, 5, 1):
            await r.set(org, "101", "sip1", status)
            await next_until(quick, lambda s: len(s) >= 1)
        with pytest.raises(MonitorEnded) as ended_:
            async with asyncio.timeout(5):
                await slow.next()
        assert ended_.value.reason == "lagged"
        assert r.fanout.lagged == 1
        quick.close()
        slow.close()


async def test_sockets_are_capped_revoked_and_closed(database_url: str) -> None:
    async with rig(database_url, per_token=1) as r:
        org = await prepared(r)
        login = credentials.monitor(7, "token:3")
        session = await r.open(org, login)
        with pytest.raises(TooMany):
            await r.open(org, login)
        assert r.fanout.subscribers == 1
        r.revoked.add(login)
        with pytest.raises(MonitorEnded) as revoked:
            async with asyncio.timeout(10):
                await session.next()
        assert revoked.value.reason == "revoked"
        assert r.fanout.subscribers == 0
        session.close()
        other = await r.open(org, credentials.monitor(8, "token:4"))  # the slot came back
        r.fanout.end_streams()
        with pytest.raises(MonitorEnded) as closed:
            await other.next()
        assert closed.value.reason == "closed"
        other.close()


async def test_the_state_is_let_go_with_the_last_socket(database_url: str) -> None:
    async with rig(database_url) as r:
        org = await prepared(r)
        first = await r.open(org)
        second = await r.open(org)
        assert first.greeting()[2] is second.greeting()[2]  # encoded once for both
        feed = r.fanout.existing_feed(r.oid(org))
        assert feed is not None
        first.close()
        assert feed.tap is not None
        second.close()
        assert feed.tap is None  # no state kept, no message made, for nobody
        await r.set(org, "101", "sip1", 5)
        again = await r.open(org)
        shown = {e["extenUser"]: e for e in decoded(again.greeting()[2])["extensions"]}
        assert shown["sip1"]["representativeStatus"] == 5
        await r.set(org, "101", "sip1", 1)
        ((_, event),) = await expect(again, 1)
        assert event["data"]["representativeStatus"] == 1
        reply = again.keepalive()
        assert reply.event == "keepaliveResponse"
        assert decoded(reply)["errorCode"] == 0
        again.close()


def _states(payloads: list[Any]) -> dict[str, list[tuple[int, int]]]:
    """Each extension's (representative, status), in the order the payloads show them."""
    shown: dict[str, list[tuple[int, int]]] = {}
    for payload in payloads:
        for data in payload.get("extensions") or [payload["data"]]:
            shown.setdefault(data["extenUser"], []).append(
                (data["representative"], data["representativeStatus"])
            )
    return shown


async def test_sockets_opened_during_changes_see_every_change_once(any_database_url: str) -> None:
    """A socket opened while the agents keep changing is greeted with the state at one
    point of the history and then sent exactly the changes after it, none twice, none
    lost (the state is read consistently with the feed's cursor)."""
    async with rig(any_database_url) as r:
        org = await prepared(r)
        users = {"sip1": "101", "sip2": "102", "sip3": "103"}
        statuses = (1, 5, 3, 1, 9)

        sessions: list[Any] = []
        opened = asyncio.Condition()

        async def write() -> None:
            # After each round of changes the writer waits for one more socket to have been
            # opened, so that sockets open between the changes however slow an open is on a
            # loaded machine (a writer that never waited finished before the second open).
            for status in statuses:
                for sip, user in users.items():
                    await r.set(org, user, sip, status)
                    await asyncio.sleep(0.005)
                async with opened:
                    await opened.wait_for(more_than(len(sessions)))

        def more_than(count: int) -> Callable[[], bool]:
            return lambda: len(sessions) > count

        writer = asyncio.create_task(write())
        while not writer.done():
            session = await r.open(org)
            async with opened:
                sessions.append(session)
                opened.notify_all()
            await asyncio.sleep(0.015)
        await writer
        await r.set(org, "101", None, 2)  # the last change: every earlier one came before it
        assert len(sessions) >= 3
        for session in sessions:
            greeting = decoded(session.greeting()[2])

            def ended(seen: list[Any], greeting: Any = greeting) -> bool:
                shown = _states([greeting, *map(decoded, seen)])["sip1"]
                return len(shown) > 1 and shown[-1] == (0, 2)  # (the greeting's is before)

            shown = _states([greeting, *map(decoded, await next_until(session, ended))])
            for sip, user in users.items():
                history = [(0, 2), *((int(user), status) for status in statuses)]
                if sip == "sip1":
                    history.append((0, 2))
                observed = shown[sip]
                start = len(history) - len(observed)
                assert start >= 0, (sip, observed)
                assert observed == history[start:], (sip, observed)
            session.close()

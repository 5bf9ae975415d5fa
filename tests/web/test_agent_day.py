"""An agent's day over HTTP: the timeline's segments and the totals of a known history
(on an ordinary day, on the day the clocks go forward, today from wire requests), the
day's changes newest first in pages, calls and warnings shown as what they are (in
English and in Hebrew), bad days, other organisations."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import Engine, insert, select

from agentstatus.domain.calls import Call, CallChange, CallState, Changed, Direction
from agentstatus.domain.catalogue import LOGIN
from agentstatus.domain.event_types import MISSED_CALL_EVENT, OVERDUE_EVENT, WARN_POLICY
from agentstatus.service import reports
from agentstatus.service.organisations import org_id
from agentstatus.service.phone_calls import store_calls
from agentstatus.service.timezones import set_timezone
from agentstatus.service.tokens import Role
from agentstatus.storage.event_log import NewEvent, append_event
from agentstatus.storage.schema import agents, history
from agentstatus.web.days import day_bounds
from tests.support.factories import OrgFixture, make_org
from tests.support.past import write_past
from tests.support.server import ServerProcess
from tests.support.web import WebUser, add_user, signed_in, text_of
from tests.support.wire import set_status

JERUSALEM = ZoneInfo("Asia/Jerusalem")
LUNCH = 3
HOUR = 3_600_000
DAY = date(2026, 11, 3)


@dataclass(frozen=True, slots=True)
class Floor:
    org: OrgFixture
    supervisor: WebUser


@pytest.fixture
def floor(shared_engine: Engine) -> Floor:
    """A fresh organisation in Jerusalem's time, and its supervisor."""
    org = make_org(shared_engine, agent_count=2, extension_count=2)
    set_timezone(shared_engine, org.name, "Asia/Jerusalem")
    sup = add_user(shared_engine, f"sup-{org.name}@example.com", Role.SUPERVISOR, org.name)
    return Floor(org, sup)


def local(day: date, hour: int, minute: int = 0) -> int:
    moment = datetime(day.year, day.month, day.day, hour, minute, tzinfo=JERUSALEM)
    return int(moment.timestamp() * 1000)


def segments(html: str) -> list[str]:
    """The statuses of the timeline's segments, in order."""
    return re.findall(r'<rect class="seg st-\d+"[^>]*data-status="(\d+)"', html)


def totals(html: str) -> dict[int, int]:
    table = html.split('class="data totals"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r'<tr data-status="(\d+)">.*?data-ms="(\d+)"', table, re.S)
    return {int(s): int(ms) for s, ms in rows}


def history_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr data-event="(\d+)"', html)]


def history_rows(html: str) -> dict[str, str]:
    """The text of each history row (its cells' text) by its event type, the latest row
    of each type."""
    table = html.split('class="data history"', 1)[1].split("</table>", 1)[0]
    found = re.findall(
        r'<tr data-event="\d+" data-kind="\w+" data-type="([\w.]+)">(.*?)</tr>', table, re.S
    )
    rows: dict[str, str] = {}
    for kind, row in found:
        cells = re.sub(r"<[^>]+>", "", row.replace("</td>", " "))  # "(<bdi>Dana</bdi>)"
        rows.setdefault(kind, re.sub(r"\s+", " ", cells).strip())
    return rows


def a_working_day(engine: Engine, org: OrgFixture, day: date) -> None:
    write_past(
        engine,
        org.name,
        "101",
        local(day - timedelta(days=2), 9),
        [
            (local(day, 8), 1, "sip1"),
            (local(day, 12), 3, "sip1"),
            (local(day, 13), 1, "sip1"),
            (local(day, 17, 30), 2, None),
        ],
    )


def test_a_known_day_gives_its_segments_and_totals(
    shared_server: ServerProcess, shared_engine: Engine, floor: Floor
) -> None:
    a_working_day(shared_engine, floor.org, DAY)
    with signed_in(shared_server.base_url, floor.supervisor) as client:
        page = client.get(f"/o/{floor.org.name}/agents/101", params={"day": DAY.isoformat()})
    assert page.status_code == 200
    html = page.text
    assert segments(html) == ["2", "1", "3", "1", "2"]
    assert 'role="img"' in html
    assert totals(html) == {2: 14 * HOUR + HOUR // 2, 1: 8 * HOUR + HOUR // 2, 3: HOUR}
    # The same day as the report counts it.
    bounds = day_bounds(DAY, JERUSALEM)
    report = reports.time_in_status(
        shared_engine, floor.org.name, bounds.start_ms, bounds.end_ms, ["101"]
    )
    assert {r.status: round(r.seconds * 1000) for r in report} == totals(html)
    text = text_of(html)
    assert "Lunch break: 12:00\u201313:00" in html
    assert "Agent 1" in text
    assert "Times in Asia/Jerusalem; this day has 24 hours." in text
    assert len(history_ids(html)) == 4
    assert history_ids(html) == sorted(history_ids(html), reverse=True)
    assert re.search(r"14:30:00 60.4%", text)  # Logout: 14.5 of 24 hours
    assert f'href="?day={(DAY - timedelta(days=1)).isoformat()}"' in html
    assert f'href="?day={(DAY + timedelta(days=1)).isoformat()}"' in html
    # A working day (08:00-17:30) is zoomed to its hours, on whole hours, half an hour
    # either side: 07:00-18:00, 11 ticks, every one labelled.
    assert len(re.findall(r'<line class="tick"', html)) == 11
    assert re.findall(r'<text class="tick-label"[^>]*>(\d\d)</text>', html)[:2] == ["07", "08"]
    assert "Shown: 07:00\u201318:00, the hours with activity." in text
    assert f'href="?day={DAY.isoformat()}&amp;view=day"' in html
    first = re.search(r'<rect class="seg st-2" x="([\d.]+)" y="2" width="([\d.]+)"', html)
    assert first is not None
    assert float(first.group(1)) == 0.0
    assert abs(float(first.group(2)) - 1000 / 11) < 0.1  # 07:00-08:00 of 11 hours
    with signed_in(shared_server.base_url, floor.supervisor) as client:
        whole = client.get(
            f"/o/{floor.org.name}/agents/101", params={"day": DAY.isoformat(), "view": "day"}
        ).text
    assert segments(whole) == ["2", "1", "3", "1", "2"]
    assert len(re.findall(r'<line class="tick"', whole)) == 24
    assert "Zoom to the hours with activity (07:00\u201318:00)" in text_of(whole)
    assert totals(whole) == totals(html)


def test_the_day_the_clocks_go_forward_has_23_hours(
    shared_server: ServerProcess, shared_engine: Engine, floor: Floor
) -> None:
    spring = date(2026, 3, 27)
    a_working_day(shared_engine, floor.org, spring)
    with signed_in(shared_server.base_url, floor.supervisor) as client:
        html = client.get(
            f"/o/{floor.org.name}/agents/101", params={"day": spring.isoformat(), "view": "day"}
        ).text
    found = totals(html)
    assert sum(found.values()) == 23 * HOUR
    assert found[2] == 13 * HOUR + HOUR // 2
    assert len(re.findall(r'<line class="tick"', html)) == 23
    assert "this day has 23 hours" in text_of(html)


def test_the_next_day_is_one_status_all_day(
    shared_server: ServerProcess, shared_engine: Engine, floor: Floor
) -> None:
    a_working_day(shared_engine, floor.org, DAY)
    after = DAY + timedelta(days=1)
    with signed_in(shared_server.base_url, floor.supervisor) as client:
        html = client.get(f"/o/{floor.org.name}/agents/101", params={"day": after.isoformat()}).text
    assert segments(html) == ["2"]
    assert totals(html) == {2: 24 * HOUR}
    assert "No change on this day." in text_of(html)


def test_a_day_before_the_agent_existed_has_no_segment(
    shared_server: ServerProcess, shared_engine: Engine, floor: Floor
) -> None:
    a_working_day(shared_engine, floor.org, DAY)
    with signed_in(shared_server.base_url, floor.supervisor) as client:
        html = client.get(f"/o/{floor.org.name}/agents/101", params={"day": "2026-01-01"}).text
    assert segments(html) == []
    assert "The agent did not exist yet on this day." in text_of(html)
    assert "Nothing to count on this day." in text_of(html)


def test_today_runs_up_to_now_from_wire_requests(
    shared_server: ServerProcess, floor: Floor
) -> None:
    org = floor.org
    set_status(shared_server.base_url, org.code, "102", "sip2", 1)
    set_status(shared_server.base_url, org.code, "102", "sip2", 3)
    with signed_in(shared_server.base_url, floor.supervisor) as client:
        html = client.get(f"/o/{org.name}/agents/102").text
    # From midnight (or the agent's creation) logged out, then logged in, now at lunch.
    assert segments(html)[-1] == "3"
    assert set(segments(html)) <= {"1", "2", "3"}
    assert re.search(r'class="status-now">.*?data-status="3"', html, re.S)
    ids = history_ids(html)
    assert len(ids) == 2
    assert ids[0] > ids[1]
    newest = html.split(f'<tr data-event="{ids[0]}"', 1)[1].split("</tr>", 1)[0]
    assert re.search(r'data-status="1".*data-status="3"', newest, re.S)
    assert "sip2" in newest
    assert "GET" in newest
    assert "Today" not in text_of(html.split('class="day-picker"', 1)[1].split("</form>")[0])


def test_the_changes_come_in_pages_newest_first(
    shared_server: ServerProcess, shared_engine: Engine, floor: Floor
) -> None:
    changes = [(local(DAY, 8) + i * 60_000, 1 if i % 2 == 0 else 3, "sip1") for i in range(61)]
    write_past(shared_engine, floor.org.name, "101", local(DAY, 0), changes)
    path = f"/o/{floor.org.name}/agents/101"
    with signed_in(shared_server.base_url, floor.supervisor) as client:
        first = client.get(path, params={"day": DAY.isoformat()}).text
        older = re.search(r'href="\?day=[\d-]+&amp;before=(\d+)"', first)
        assert older is not None
        second = client.get(path, params={"day": DAY.isoformat(), "before": older.group(1)}).text
    one, two = history_ids(first), history_ids(second)
    assert len(one) == 50
    assert len(two) == 11
    assert one + two == sorted(one + two, reverse=True)
    assert "Older changes" not in text_of(second)
    assert "Newest changes" in text_of(second)
    # Every change is on the bar: logged out until 08:00, then 61 alternations.
    assert len(segments(first)) == 62


@pytest.mark.parametrize(
    "day",
    [
        "yesterday",
        "2026-02-30",
        "2026-1-1",
        "0001-01-01",
        "9" * 300,
        "2026-11-03\x00",
        "\u0662\u0660\u0662\u0666-\u0661\u0661-\u0660\u0663",  # Arabic-Indic digits
    ],
)
def test_a_bad_day_is_shown_beside_the_field(
    shared_server: ServerProcess, floor: Floor, day: str
) -> None:
    with signed_in(shared_server.base_url, floor.supervisor) as client:
        page = client.get(f"/o/{floor.org.name}/agents/101", params={"day": day})
    assert page.status_code == 400
    assert 'id="day-error" role="alert">Enter a date like 2026-11-26.</span>' in page.text
    assert 'aria-describedby="day-error"' in page.text
    assert "<svg" not in page.text


def test_a_bad_page_cursor_is_422(shared_server: ServerProcess, floor: Floor) -> None:
    """As every integer parameter (tests/reliability/test_integer_parameters.py)."""
    with signed_in(shared_server.base_url, floor.supervisor) as client:
        for before in ("x", "-1", "0", "9" * 30, "\u00b2", "9" * 4301):
            page = client.get(f"/o/{floor.org.name}/agents/101", params={"before": before})
            assert page.status_code == 422
        assert client.get(f"/o/{floor.org.name}/agents/101?before=5").status_code == 200


def test_who_may_see_an_agents_day(
    shared_server: ServerProcess, shared_engine: Engine, floor: Floor
) -> None:
    other = make_org(shared_engine)
    stranger = add_user(shared_engine, f"sup-{other.name}@example.com", Role.SUPERVISOR, other.name)
    admin = add_user(shared_engine, f"adm-{floor.org.name}@example.com", Role.ADMIN, floor.org.name)
    path = f"/o/{floor.org.name}/agents/101"
    with signed_in(shared_server.base_url, stranger) as client:
        assert client.get(path).status_code == 403
    with signed_in(shared_server.base_url, admin) as client:
        assert client.get(path).status_code == 200
        assert client.get(f"/o/{floor.org.name}/agents/nobody").status_code == 404
    anonymous = httpx.get(f"{shared_server.base_url}{path}", timeout=10)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/sign-in")


def test_the_day_in_hebrew(
    shared_server: ServerProcess, shared_engine: Engine, floor: Floor
) -> None:
    a_working_day(shared_engine, floor.org, DAY)
    with signed_in(shared_server.base_url, floor.supervisor) as client:
        html = client.get(
            f"/o/{floor.org.name}/agents/101",
            params={"day": DAY.isoformat()},
            headers={"accept-language": "he"},
        ).text
    assert '<html lang="he" dir="rtl">' in html
    assert "ציר הזמן" in html
    assert segments(html) == ["2", "1", "3", "1", "2"]
    # Right to left: the day starts on the right, so its first segment (logged out until
    # 08:00) is the rightmost one.
    first = re.search(r'<rect class="seg st-2" x="([\d.]+)"[^>]*width="([\d.]+)"', html)
    assert first is not None
    assert float(first.group(1)) + float(first.group(2)) == pytest.approx(1000)


def a_day_with_calls_and_a_warning(engine: Engine, org: OrgFixture, day: date) -> None:
    """At work on sip1 from 08:00; an answered call in from Dana at 09:00 (held and
    resumed), a call out at 10:00 (not answered), lunch at 12:00 and its limit's warning at
    12:31 (due 12:30), back at 13:00 (still at work)."""
    write_past(
        engine,
        org.name,
        "101",
        local(day - timedelta(days=2), 9),
        [
            (local(day, 8), LOGIN, "sip1"),
            (local(day, 12), LUNCH, "sip1"),
            (local(day, 13), LOGIN, "sip1"),
        ],
    )
    with engine.begin() as conn:
        oid = org_id(conn, org.name)
        agent_id = conn.execute(
            select(agents.c.id).where(agents.c.org_id == oid, agents.c.user_id == "101")
        ).scalar_one()
        conn.execute(  # as the deadline runner writes a warning
            insert(history).values(
                org_id=oid,
                agent_id=agent_id,
                user_id="101",
                prev_extension="sip1",
                new_extension="sip1",
                prev_status=LUNCH,
                new_status=LUNCH,
                at_ms=local(day, 12, 31),
                source="system",
                policy=WARN_POLICY,
                kind=OVERDUE_EVENT,
                due_ms=local(day, 12, 30),
            )
        )
    start = local(day, 9)
    call = Call("c-in", "sip1", Direction.IN, CallState.RINGING, "Dana", "0501234567", "", start)
    talking = replace(call, state=CallState.TALKING, answered_ms=start + 5000)
    out = Call("c-out", "sip1", Direction.OUT, CallState.DIALING, "", "", "035551234", start + HOUR)
    for at_ms, change, what in [
        (start, CallChange.STARTED, call),
        (start + 5000, CallChange.ANSWERED, talking),
        (start + 60_000, CallChange.HELD, replace(talking, state=CallState.HOLD)),
        (start + 90_000, CallChange.RESUMED, talking),
        (start + 300_000, CallChange.ENDED, talking),
        (start + HOUR, CallChange.STARTED, out),
        (start + HOUR + 20_000, CallChange.ENDED, out),
    ]:
        assert store_calls(engine, oid, [Changed(change, what)], at_ms=at_ms)


def test_calls_and_warnings_are_shown_as_what_they_are(
    shared_server: ServerProcess, shared_engine: Engine, floor: Floor
) -> None:
    a_day_with_calls_and_a_warning(shared_engine, floor.org, DAY)
    with signed_in(shared_server.base_url, floor.supervisor) as client:
        html = client.get(f"/o/{floor.org.name}/agents/101", params={"day": DAY.isoformat()}).text
    rows = history_rows(html)
    assert len(history_ids(html)) == 3 + 1 + 7
    assert "Lunch break → Login" in rows["agent.status"]
    assert "sip1 → sip1" in rows["agent.status"]
    said = "Call in from 0501234567 (Dana) —"
    assert f"{said} answered sip1 pbx" in rows["call.answered"]
    assert f"{said} on hold sip1" in rows["call.held"]
    assert f"{said} resumed sip1" in rows["call.resumed"]
    assert "Call out to 035551234 — dialling sip1 pbx" in rows["call.started"]
    assert "Call out to 035551234 — ended sip1 pbx" in rows["call.ended"]
    assert "Over the limit of Lunch break (since 12:30:00) sip1 system" in rows["agent.overdue"]
    # None of them is a change "Login → Login": only the three changes have an arrow.
    assert text_of(html).count("→") == 3 * 2
    assert "Login → Login" not in text_of(html)
    # The bar and the totals are the changes' only.
    assert segments(html) == ["2", "1", "3", "1"]
    with signed_in(shared_server.base_url, floor.supervisor) as client:
        hebrew = client.get(
            f"/o/{floor.org.name}/agents/101",
            params={"day": DAY.isoformat()},
            headers={"accept-language": "he"},
        ).text
    rows = history_rows(hebrew)
    said = "שיחה נכנסת מ־0501234567 (Dana) —"
    assert f"{said} נענתה sip1 pbx" in rows["call.answered"]
    assert f"{said} בהמתנה sip1" in rows["call.held"]
    assert "שיחה יוצאת אל 035551234 — בחיוג sip1 pbx" in rows["call.started"]
    assert "מעבר למגבלה של הפסקת צהריים (מאז 12:30:00) sip1 system" in rows["agent.overdue"]
    assert "הפסקת צהריים ← לוגין" in rows["agent.status"]
    assert text_of(hebrew).count("←") == 3 * 2


def test_a_missed_call_is_shown_as_one(
    shared_server: ServerProcess, shared_engine: Engine, floor: Floor
) -> None:
    """An ``agent.missed_call`` row: the count in a row and the queue, in both languages,
    and no arrow (the agent's status did not change)."""
    write_past(
        shared_engine, floor.org.name, "101", local(DAY - timedelta(days=2), 9),
        [(local(DAY, 8), LOGIN, "sip1")],
    )  # fmt: skip
    with shared_engine.begin() as conn:
        oid = org_id(conn, floor.org.name)
        agent_id = conn.execute(
            select(agents.c.id).where(agents.c.org_id == oid, agents.c.user_id == "101")
        ).scalar_one()
        append_event(  # as service/missed_calls.py records one
            conn,
            NewEvent(
                org_id=oid, agent_id=agent_id, user_id="101", prev_extension="sip1",
                new_extension="sip1", prev_status=LOGIN, new_status=LOGIN,
                at_ms=local(DAY, 9), source="pbx", kind=MISSED_CALL_EVENT,
                detail='{"count": 2, "queue": "support", "ring_ms": 15000}',
            ),
        )  # fmt: skip
    page = f"/o/{floor.org.name}/agents/101"
    with signed_in(shared_server.base_url, floor.supervisor) as client:
        html = client.get(page, params={"day": DAY.isoformat()}).text
        hebrew = client.get(
            page, params={"day": DAY.isoformat()}, headers={"accept-language": "he"}
        ).text
    said = history_rows(html)[MISSED_CALL_EVENT]
    no_reason_nor_actor = "\u2013 \u2013"
    assert said.endswith(
        f"9:00:00 AM Missed call (2 in a row, queue support) sip1 pbx {no_reason_nor_actor}"
    )
    assert (
        "שיחה שלא נענתה (2 ברצף, תור support) sip1 pbx" in history_rows(hebrew)[MISSED_CALL_EVENT]
    )
    assert text_of(html).count("→") == 2  # only the login's

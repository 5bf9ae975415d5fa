"""The reports page over HTTP: time in status per agent over whole days of the
organisation's time zone, as a chart and a table, the CSV download (the API's CSV of
the same range), bad ranges beside their fields, other organisations; and the calls of
the same days (chart, table, the API's calls CSV)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import Engine

from agentstatus.domain.clock import to_iso
from agentstatus.service.status_change import standalone_changes
from agentstatus.service.timezones import set_timezone
from agentstatus.service.tokens import Role, create_token
from agentstatus.web.days import range_bounds
from tests.support.call_days import DAY1, DAY2, call_writer, two_days
from tests.support.factories import OrgFixture, make_org
from tests.support.past import write_past
from tests.support.server import ServerProcess
from tests.support.web import WebUser, add_user, signed_in, text_of

LONDON = ZoneInfo("Europe/London")
HOUR = 3_600_000
FIRST = date(2026, 10, 24)
LAST = date(2026, 10, 25)  # the clocks go back: a 25-hour day


@dataclass(frozen=True, slots=True)
class Floor:
    org: OrgFixture
    supervisor: WebUser


def local(day: date, hour: int) -> int:
    return int(datetime(day.year, day.month, day.day, hour, tzinfo=LONDON).timestamp() * 1000)


@pytest.fixture
def floor(shared_engine: Engine) -> Floor:
    """A fresh organisation in London's time with a known history over FIRST and LAST:
    101 works 09-17 on both days with lunch 12-13; 102 exists from FIRST 12:00 and is
    logged in 14-16 on FIRST."""
    org = make_org(shared_engine, agent_count=2, extension_count=2)
    set_timezone(shared_engine, org.name, "Europe/London")
    changes: list[tuple[int, int, str | None]] = []
    for day in (FIRST, LAST):
        changes += [
            (local(day, 9), 1, "sip1"),
            (local(day, 12), 3, "sip1"),
            (local(day, 13), 1, "sip1"),
            (local(day, 17), 2, None),
        ]
    write_past(shared_engine, org.name, "101", local(FIRST, 0) - 5 * HOUR, changes)
    write_past(
        shared_engine,
        org.name,
        "102",
        local(FIRST, 12),
        [(local(FIRST, 14), 1, "sip2"), (local(FIRST, 16), 2, None)],
    )
    sup = add_user(shared_engine, f"sup-{org.name}@example.com", Role.SUPERVISOR, org.name)
    return Floor(org, sup)


def cells(html: str, user_id: str) -> dict[int, float]:
    row = html.split(f'<tr data-user-id="{user_id}">', 1)[1].split("</tr>", 1)[0]
    return {
        int(s): float(v)
        for s, v in re.findall(r'data-status="(\d+)" data-seconds="([\d.]+)"', row)
        if float(v) > 0
    }


def test_a_known_range_gives_the_table_and_the_chart(
    shared_server: ServerProcess, floor: Floor
) -> None:
    with signed_in(shared_server.base_url, floor.supervisor) as client:
        page = client.get(
            f"/o/{floor.org.name}/reports",
            params={"from": FIRST.isoformat(), "to": LAST.isoformat()},
        )
    assert page.status_code == 200
    html = page.text
    hours = 3600.0
    # 49 hours in all (24 + 25): 14 logged in, 2 at lunch, 33 logged out.
    assert cells(html, "101") == {1: 14 * hours, 2: 33 * hours, 3: 2 * hours}
    # 102 exists from FIRST 12:00: 37 hours, 2 of them logged in.
    assert cells(html, "102") == {1: 2 * hours, 2: 35 * hours}
    text = text_of(html)
    assert "Agent 1 101 14:00:00 33:00:00 2:00:00 49:00:00" in text
    assert "Total 16:00:00 68:00:00 2:00:00 86:00:00" in text
    # The chart: one bar per agent, a piece per status, the legend.
    bars = re.findall(r'<g class="agent-bar" data-agent="(\w+)">(.*?)</g>', html, re.S)
    assert [agent for agent, _ in bars] == ["101", "102"]
    assert re.findall(r'data-status="(\d+)"', bars[0][1]) == ["1", "2", "3"]
    widths = [float(w) for w in re.findall(r'width="([\d.]+)"', bars[1][1])]
    assert sum(widths) == pytest.approx((1000 - 220 - 8) * 37 / 49, abs=0.1)
    assert re.findall(r'<li class="st-(\d+)">', html) == ["1", "2", "3"]
    assert 'role="img"' in html
    assert (
        f'href="/o/{floor.org.name}/reports.csv?from={FIRST.isoformat()}&amp;to={LAST.isoformat()}"'
        in html
    )


def test_the_csv_is_the_apis_csv_of_the_same_range(
    shared_server: ServerProcess, shared_engine: Engine, floor: Floor
) -> None:
    org = floor.org.name
    with signed_in(shared_server.base_url, floor.supervisor) as client:
        download = client.get(
            f"/o/{org}/reports.csv", params={"from": FIRST.isoformat(), "to": LAST.isoformat()}
        )
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    assert (
        download.headers["content-disposition"]
        == f'attachment; filename="agentstatus-{org}-2026-10-24_2026-10-25.csv"'
    )
    start, end = range_bounds(FIRST, LAST, LONDON)
    token = create_token(shared_engine, Role.SUPERVISOR, org).token
    api = httpx.get(
        f"{shared_server.base_url}/api/v1/orgs/{org}/reports/time-in-status",
        params={"from": to_iso(start), "to": to_iso(end), "format": "csv"},
        headers={"authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert api.status_code == 200
    assert download.text == api.text
    assert (
        download.text.splitlines()[0]
        == "user_id,name,status,status_name,seconds,over_limit_seconds"
    )
    assert "101,Agent 1,1,Login,50400.000" in download.text


def test_one_day_is_the_default_and_names_the_file(
    shared_server: ServerProcess, floor: Floor
) -> None:
    with signed_in(shared_server.base_url, floor.supervisor) as client:
        page = client.get(f"/o/{floor.org.name}/reports")
        one = client.get(
            f"/o/{floor.org.name}/reports.csv", params={"from": "2026-10-24", "to": "2026-10-24"}
        )
    assert page.status_code == 200
    today = re.search(r'id="range-from" name="from" type="date" value="([\d-]+)"', page.text)
    assert today is not None
    assert f'id="range-to" name="to" type="date" value="{today.group(1)}"' in page.text
    assert one.headers["content-disposition"].endswith(
        f'filename="agentstatus-{floor.org.name}-2026-10-24.csv"'
    )
    assert "102,Agent 2,1,Login,7200.000" in one.text


def test_a_range_before_anything_is_empty(shared_server: ServerProcess, floor: Floor) -> None:
    with signed_in(shared_server.base_url, floor.supervisor) as client:
        page = client.get(
            f"/o/{floor.org.name}/reports", params={"from": "2020-01-01", "to": "2020-01-31"}
        )
        future = client.get(
            f"/o/{floor.org.name}/reports.csv", params={"from": "2990-01-01", "to": "2990-01-01"}
        )
    assert page.status_code == 200
    assert "No agent has time in this range." in text_of(page.text)
    assert "<svg" not in page.text
    assert future.text == "user_id,name,status,status_name,seconds,over_limit_seconds\n"


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        (
            {"from": "2026-10-25", "to": "2026-10-24"},
            "to",
            "The first day must not be after the last.",
        ),
        ({"from": "2025-01-01", "to": "2026-01-01"}, "to", "A report covers at most 365 days."),
        ({"from": "soon", "to": "2026-01-01"}, "from", "Enter a date like 2026-11-26."),
        ({"from": "2026-01-01", "to": "2026-01-32"}, "to", "Enter a date like 2026-11-26."),
        ({"from": "1" * 400}, "from", "Enter a date like 2026-11-26."),
    ],
)
@pytest.mark.parametrize("path", ["reports", "reports.csv"])
def test_a_bad_range_is_shown_beside_its_field(
    shared_server: ServerProcess,
    floor: Floor,
    params: dict[str, str],
    field: str,
    message: str,
    path: str,
) -> None:
    with signed_in(shared_server.base_url, floor.supervisor) as client:
        page = client.get(f"/o/{floor.org.name}/{path}", params=params)
    assert page.status_code == 400
    assert page.headers["content-type"].startswith("text/html")
    assert f'id="range-{field}-error" role="alert">{message}</span>' in page.text
    assert f'aria-describedby="range-{field}-error"' in page.text
    assert "Download CSV" not in page.text


def test_a_year_less_a_day_is_allowed(shared_server: ServerProcess, floor: Floor) -> None:
    with signed_in(shared_server.base_url, floor.supervisor) as client:
        page = client.get(
            f"/o/{floor.org.name}/reports", params={"from": "2026-01-01", "to": "2026-12-31"}
        )
    assert page.status_code == 200


def test_who_may_see_the_reports(
    shared_server: ServerProcess, shared_engine: Engine, floor: Floor
) -> None:
    other = make_org(shared_engine)
    stranger = add_user(shared_engine, f"sup-{other.name}@example.com", Role.SUPERVISOR, other.name)
    admin = add_user(shared_engine, f"adm-{floor.org.name}@example.com", Role.ADMIN, floor.org.name)
    with signed_in(shared_server.base_url, stranger) as client:
        assert client.get(f"/o/{floor.org.name}/reports").status_code == 403
        assert client.get(f"/o/{floor.org.name}/reports.csv").status_code == 403
        own = client.get(f"/o/{other.name}/reports")
        assert own.status_code == 200
        assert f'href="/o/{other.name}/reports" aria-current="page"' in own.text
    with signed_in(shared_server.base_url, admin) as client:
        assert client.get(f"/o/{floor.org.name}/reports.csv").status_code == 200
    anonymous = httpx.get(f"{shared_server.base_url}/o/{floor.org.name}/reports.csv", timeout=10)
    assert anonymous.status_code == 303


def test_the_report_in_hebrew(shared_server: ServerProcess, floor: Floor) -> None:
    with signed_in(shared_server.base_url, floor.supervisor) as client:
        html = client.get(
            f"/o/{floor.org.name}/reports",
            params={"from": FIRST.isoformat(), "to": (FIRST + timedelta(days=1)).isoformat()},
            headers={"accept-language": "he"},
        ).text
    assert '<html lang="he" dir="rtl">' in html
    assert "הורדת CSV" in html
    assert "סה״כ" in html
    assert 'direction="rtl"' in html
    # Right to left: the names on the right, the bars growing leftwards from them.
    first = re.search(r'<text class="bar-label" x="([\d.]+)"', html)
    assert first is not None
    assert float(first.group(1)) == 780


async def test_the_calls_of_the_range_as_a_chart_a_table_and_the_apis_csv(
    shared_server: ServerProcess, shared_engine: Engine, shared_database_url: str
) -> None:
    async with standalone_changes(shared_database_url) as changes:
        writer, ids = await call_writer(shared_engine, changes)
        await two_days(writer, ids)
    org = writer.org.name
    sup = add_user(shared_engine, f"calls-{org}@example.com", Role.SUPERVISOR, org)
    days = {"from": DAY1.isoformat(), "to": DAY2.isoformat()}
    with signed_in(shared_server.base_url, sup) as client:
        html = client.get(f"/o/{org}/reports", params=days).text
        download = client.get(f"/o/{org}/reports/calls.csv", params=days)
    calls = html.split('id="calls-table"', 1)[1]
    row = calls.split('<tr data-user-id="101">', 1)[1].split("</tr>", 1)[0]
    # Both days of 101: 2 answered, 2 missed, 25 minutes talk, a minute of wrap-up, and
    # 15:20 of the first day plus 20 minutes of the second taking calls.
    assert text_of(row) == "Agent 1 101 2 2 0:25:00 0:01:00 15:40:00 2.8%"
    lunch_only = calls.split('<tr data-user-id="102">', 1)[1].split("</tr>", 1)[0]
    assert 'data-occupancy=""' in lunch_only
    assert text_of(lunch_only).endswith("0:00:00 \u2013")
    # 104's call has not ended: it counts until now, two weeks of talk past its answer.
    assert '<tr data-user-id="104">' in calls
    bars = re.findall(r'<g class="calls-bar" data-agent="(\w+)">(.*?)</g>', html, re.S)
    assert [agent for agent, _ in bars] == ["101", "102", "104"]
    assert re.findall(r'data-piece="([\w-]+)"', bars[0][1]) == [
        "calls-talk",
        "calls-wrap-up",
        "calls-ready",
    ]
    assert re.search(r'<text class="bar-figure"[^>]*>2.8%</text>', bars[0][1])
    assert download.headers["content-disposition"].endswith(
        f'filename="agentstatus-{org}-calls-2026-11-20_2026-11-21.csv"'
    )
    start, end = range_bounds(DAY1, DAY2, ZoneInfo("Asia/Jerusalem"))
    token = create_token(shared_engine, Role.SUPERVISOR, org).token
    api = httpx.get(
        f"{shared_server.base_url}/api/v1/orgs/{org}/reports/calls",
        params={"from": to_iso(start), "to": to_iso(end), "format": "csv"},
        headers={"authorization": f"Bearer {token}"},
        timeout=10,
    )
    # The same rows but 104's, whose unended call grows with now between the two reads.
    assert [r for r in download.text.splitlines() if not r.startswith("104,")] == [
        r for r in api.text.splitlines() if not r.startswith("104,")
    ]

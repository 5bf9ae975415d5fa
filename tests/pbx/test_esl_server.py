"""The loopback FreeSWITCH event socket, driven with raw sockets as a client would."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from tests.support.esl_server import (
    DISCONNECT_TEXT,
    EslServer,
    recorded,
    separate_string,
    url_encode,
)


class Raw:
    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.buf = b""

    def close(self) -> None:
        self.sock.close()

    def frame(self) -> tuple[dict[str, str], str]:
        while b"\n\n" not in self.buf:
            self._more()
        head, self.buf = self.buf.split(b"\n\n", 1)
        headers = dict(line.split(": ", 1) for line in head.decode().split("\n"))
        length = int(headers.get("Content-Length", "0"))
        while len(self.buf) < length:
            self._more()
        body, self.buf = self.buf[:length], self.buf[length:]
        return headers, body.decode()

    def _more(self) -> None:
        data = self.sock.recv(65536)
        if not data:
            raise EOFError
        self.buf += data

    def send(self, command: str) -> tuple[dict[str, str], str]:
        self.sock.sendall(command.encode() + b"\n\n")
        return self.frame()

    def api(self, command: str) -> str:
        headers, body = self.send(f"api {command}")
        assert headers["Content-Type"] == "api/response"
        assert int(headers["Content-Length"]) == len(body.encode())
        return body


@pytest.fixture
def server() -> Iterator[EslServer]:
    with EslServer() as srv:
        yield srv


@pytest.fixture
def client(server: EslServer) -> Iterator[Raw]:
    raw = Raw(server.port)
    assert raw.frame()[0] == {"Content-Type": "auth/request"}
    assert raw.send("auth ClueCon-test-01")[0]["Reply-Text"] == "+OK accepted"
    yield raw
    raw.close()


def test_wrong_password_is_refused_with_the_disconnect_notice(server: EslServer) -> None:
    raw = Raw(server.port)
    raw.frame()
    assert raw.send("auth nope")[0] == {
        "Content-Type": "command/reply",
        "Reply-Text": "-ERR invalid",
    }
    headers, body = raw.frame()
    assert headers["Content-Type"] == "text/disconnect-notice"
    assert body == DISCONNECT_TEXT
    with pytest.raises(EOFError):
        raw.frame()
    raw.close()
    assert server.sessions == 0


def test_commands_and_unknown_ones(server: EslServer, client: Raw) -> None:
    assert server.sessions == 1
    assert client.send("bogus")[0]["Reply-Text"] == "-ERR command not found"
    assert client.api("nosuch thing") == "-ERR nosuch Command not found!\n"
    assert client.api("status").startswith("UP ")
    assert server.commands("api ")[0].line == "api nosuch thing"


def test_agents_and_tiers_answer_as_mod_callcenter(server: EslServer, client: Raw) -> None:
    cc = "callcenter_config "
    assert client.api(cc + "agent list") == "+OK\n"
    assert client.api(cc + "agent add 1001 Callback") == "+OK\n"
    assert client.api(cc + "agent add 1001 Callback") == "-ERR Agent already exist!\n"
    assert client.api(cc + "agent set status 1001 'On Break'") == "+OK\n"
    assert client.api(cc + "agent set status 1001 Lunch") == "-ERR Invalid Agent Status!\n"
    assert client.api(cc + "agent set status 9999 Available") == "-ERR Agent not found!\n"
    assert client.api(cc + "agent set contact 1001 user/1001") == "+OK\n"
    assert server.agents()["1001"].status == "On Break"
    lines = client.api(cc + "agent list").split("\n")
    assert lines[0].startswith("name|instance_id|uuid|type|contact|status|state|")
    assert lines[1].split("|")[:7] == [
        "1001",
        "single_box",
        "",
        "Callback",
        "user/1001",
        "On Break",
        "Waiting",
    ]
    assert len(lines[1].split("|")) == len(lines[0].split("|")) == 21
    assert lines[2:] == ["+OK", ""]
    assert client.api(cc + "tier add nowhere 1001 1 1") == "-ERR Queue not found!\n"
    assert client.api(cc + "tier add support@default 1001 1 1") == "+OK\n"
    assert client.api(cc + "tier add support@default 1001") == "-ERR Invalid!\n"
    assert client.api(cc + "tier add support@default 1001 1 1") == "-ERR Tier already exist!\n"
    assert client.api(cc + "tier list") == (
        "queue|agent|state|level|position\nsupport@default|1001|Ready|1|1\n+OK\n"
    )
    assert server.tiers() == {("support@default", "1001")}
    assert client.api(cc + "tier del support@default 1001") == "+OK\n"
    assert server.tiers() == set()


def test_status_changes_reach_subscribers(server: EslServer, client: Raw) -> None:
    reply = client.send("event plain CHANNEL_CREATE CUSTOM callcenter::info")[0]
    assert reply["Reply-Text"] == "+OK event listener enabled plain"
    server.set_agent("1001")
    server.status_at_phone("1001", "Available (On Demand)")
    headers, body = client.frame()
    assert headers["Content-Type"] == "text/event-plain"
    assert body.endswith("\n\n")
    assert "Event-Subclass: callcenter%3A%3Ainfo\n" in body
    assert "CC-Action: agent-status-change\n" in body
    assert "CC-Agent-Status: Available%20(On%20Demand)\n" in body
    client.api("callcenter_config agent set status 1001 Available")
    client_event = client.frame()[1]
    assert "CC-Agent-Status: Available\n" in client_event


def test_a_call_in_produces_channel_events(server: EslServer, client: Raw) -> None:
    client.send("event plain ALL")
    call = server.call_in("1001", caller_num="0501234567", caller_name="Dana", did="035551234")
    call.answer()
    call.hold()
    call.hangup()
    events = []
    for _ in range(9):
        body = client.frame()[1]
        events.append(dict(line.split(": ", 1) for line in body.strip("\n").split("\n")))
    names = [(e["Event-Name"], e["Unique-ID"] == call.extension_uuid) for e in events]
    assert names == [
        ("CHANNEL_CREATE", False),
        ("CHANNEL_CREATE", True),
        ("CHANNEL_PROGRESS", True),
        ("CHANNEL_ANSWER", True),
        ("CHANNEL_BRIDGE", False),
        ("CHANNEL_HOLD", True),
        ("CHANNEL_UNBRIDGE", False),
        ("CHANNEL_HANGUP_COMPLETE", True),
        ("CHANNEL_HANGUP_COMPLETE", False),
    ]
    assert events[0]["Caller-Destination-Number"] == "035551234"
    assert events[1]["Call-Direction"] == "outbound"
    assert events[1]["Channel-Name"] == "sofia/internal/sip%3A1001%4010.0.0.7%3A5060"
    assert events[4]["Other-Leg-Unique-ID"] == call.extension_uuid
    assert events[5]["Channel-Call-State"] == "HELD"
    assert events[7]["Hangup-Cause"] == "NORMAL_CLEARING"


BRIDGE_AGENT_FAIL = [
    "CC-Queue",
    "CC-Action",
    "CC-Hangup-Cause",
    "CC-Agent",
    "CC-Agent-System",
    "CC-Agent-Called-Time",
    "CC-Agent-Aborted-Time",
    "CC-Member-UUID",
    "CC-Member-Session-UUID",
    "CC-Member-CID-Name",
    "CC-Member-CID-Number",
    "CC-Member-Joined-Time",
]
"""The headers mod_callcenter.c's outbound_agent_thread_run adds to ``bridge-agent-fail``,
in order (FreeSWITCH 1.10+; no recording has one)."""


def test_an_offer_nobody_answers_ends_with_bridge_agent_fail(
    server: EslServer, client: Raw
) -> None:
    cc = "callcenter_config "
    assert client.api(cc + "agent add 101 Callback") == "+OK\n"
    assert client.api(cc + "agent set contact 101 user/sip1") == "+OK\n"
    assert client.api(cc + "tier add support@default 101 1 1") == "+OK\n"
    client.send("event plain ALL")
    offer = server.queue_offer("support@default", "101", caller_num="0501", caller_name="Dana")
    offer.fail("NO_ANSWER")
    events = []
    for _ in range(5):
        body = client.frame()[1]
        events.append(dict(line.split(": ", 1) for line in body.strip("\n").split("\n")))
    assert [e.get("CC-Action", e["Event-Name"]) for e in events] == [
        "agent-offering",
        "CHANNEL_CREATE",
        "CHANNEL_PROGRESS",
        "CHANNEL_HANGUP_COMPLETE",
        "bridge-agent-fail",
    ]
    offering, leg, fail = events[0], events[1], events[4]
    base = [k for k in recorded(41) if k != "t"]  # a recorded agent-offering, in order
    common = base[: base.index("CC-Queue")]
    assert [k for k in offering if k != "Content-Length"] == base
    assert list(fail)[: len(common)] == common
    assert list(fail)[len(common) :] == BRIDGE_AGENT_FAIL
    assert (fail["CC-Agent"], fail["CC-Queue"], fail["CC-Hangup-Cause"]) == (
        "101",
        "support%40default",
        "NO_ANSWER",
    )
    assert fail["CC-Member-Session-UUID"] == offering["CC-Member-Session-UUID"]
    assert leg["Channel-Name"].startswith("sofia/internal/sip%3Asip1%40")
    assert events[3]["Hangup-Cause"] == "NO_ANSWER"


def test_drop_connections_closes_without_notice(server: EslServer, client: Raw) -> None:
    server.drop_connections()
    with pytest.raises((EOFError, ConnectionError)):
        client.frame()
    server.wait_for(lambda: server.sessions == 0, what="the session to go")


def test_splitting_and_encoding_follow_freeswitch() -> None:
    assert separate_string("agent set status 1001 'On Break'") == [
        "agent",
        "set",
        "status",
        "1001",
        "On Break",
    ]
    assert url_encode("sip:a b@c") == "sip%3Aa%20b%40c"


def _authed(server: EslServer) -> Raw:
    raw = Raw(server.port)
    raw.frame()
    assert raw.send("auth ClueCon-test-01")[0]["Reply-Text"] == "+OK accepted"
    return raw


def _cc_keys(event: dict[str, str]) -> list[str]:
    return [k for k in event if k.startswith("CC-")]


def test_a_caller_in_a_queue_is_what_mod_callcenter_sends_and_lists(
    server: EslServer, client: Raw
) -> None:
    """Joined, offered, answered and ended with the CC headers of the recording (lines 31,
    66, 116, 121), in its order; ``queue list members`` lists the caller while it is there."""
    cc = "callcenter_config "
    assert client.api(cc + "agent add 101 Callback") == "+OK\n"
    assert client.api(cc + "agent set contact 101 user/sip1") == "+OK\n"
    assert client.api(cc + "tier add support@default 101 1 1") == "+OK\n"
    lister = _authed(server)  # answers only: events go to the client
    client.send("event plain CUSTOM callcenter::info")
    caller = server.queue_caller("support@default", caller_num="0501", caller_name="Dana")
    listed = lister.api(cc + "queue list members support@default").splitlines()
    assert listed[0] == (
        "queue|instance_id|uuid|session_uuid|cid_number|cid_name|system_epoch|joined_epoch|"
        "rejoined_epoch|bridge_epoch|abandoned_epoch|base_score|skill_score|serving_agent|"
        "serving_system|state"
    )
    row = dict(zip(listed[0].split("|"), listed[1].split("|"), strict=True))
    assert (row["session_uuid"], row["cid_number"], row["state"]) == (
        caller.session_uuid, "0501", "Waiting",
    )  # fmt: skip
    assert listed[2:] == ["+OK"]
    offer = caller.offer_to("101")
    offer.answer()
    offer.hangup()
    events = []
    while len(events) < 7:
        body = client.frame()[1]
        event = dict(line.split(": ", 1) for line in body.strip("\n").split("\n"))
        if event.get("Event-Subclass") == "callcenter%3A%3Ainfo":
            events.append(event)
    assert [e["CC-Action"] for e in events] == [
        "member-queue-start",
        "members-count",
        "agent-offering",
        "bridge-agent-start",
        "members-count",
        "bridge-agent-end",
        "member-queue-end",
    ]
    for event, line in zip(
        [events[i] for i in (0, 1, 3, 5, 6)], (31, 32, 66, 116, 121), strict=True
    ):
        assert _cc_keys(event) == _cc_keys(recorded(line)), event["CC-Action"]
    join, answered, end = events[0], events[3], events[6]
    assert join["Unique-ID"] == join["CC-Member-Session-UUID"] == caller.session_uuid
    assert answered["CC-Agent"] == "101"
    assert answered["Channel-Name"].startswith("sofia/internal/sip%3Asip1%40")
    assert end["CC-Cause"] == "Terminated"
    assert lister.api(cc + "queue list members support@default") == "+OK\n"
    lister.close()


def test_a_caller_who_hangs_up_while_waiting_stays_listed_abandoned(
    server: EslServer, client: Raw
) -> None:
    lister = _authed(server)
    client.send("event plain CUSTOM callcenter::info")
    caller = server.queue_caller("support@default", caller_num="0502", caller_name="")
    caller.abandon()
    events = []
    while len(events) < 4:
        body = client.frame()[1]
        events.append(dict(line.split(": ", 1) for line in body.strip("\n").split("\n")))
    end = events[2]
    assert [e["CC-Action"] for e in events] == [
        "member-queue-start", "members-count", "member-queue-end", "members-count",
    ]  # fmt: skip
    # mod_callcenter.c callcenter_function's cancel event, in its order.
    assert _cc_keys(end) == [
        "CC-Queue", "CC-Action", "CC-Member-Leaving-Time", "CC-Member-Joined-Time", "CC-Cause",
        "CC-Cancel-Reason", "CC-Member-UUID", "CC-Member-Session-UUID", "CC-Member-CID-Name",
        "CC-Member-CID-Number",
    ]  # fmt: skip
    assert (end["CC-Cause"], end["CC-Cancel-Reason"], end["CC-Member-CID-Name"]) == (
        "Cancel", "BREAK_OUT", "_undef_",
    )  # fmt: skip
    listed = lister.api("callcenter_config queue list members support@default").splitlines()
    row = dict(zip(listed[0].split("|"), listed[1].split("|"), strict=True))
    assert (row["session_uuid"], row["state"]) == ("", "Abandoned")
    lister.close()

"""The loopback AMI server answers as the recorded Asterisk does (tests/pbx/recordings),
checked with raw sockets."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from tests.support.ami_recording import (
    CALL_TO_P2,
    CALL_TO_P2_TALKING,
    QUEUE,
    events,
    first,
    load,
    rewrite,
    segment,
    until,
)
from tests.support.ami_server import AmiServer, Member

Message = dict[str, str]


class Client:
    """A raw AMI connection: write messages, read them back as dicts."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.file = self.sock.makefile("rb")
        self.banner = self.file.readline().decode()

    def send(self, **fields: str) -> None:
        text = "".join(f"{key}: {value}\r\n" for key, value in fields.items())
        self.sock.sendall(text.encode() + b"\r\n")

    def read(self) -> Message:
        message: Message = {}
        while (line := self.file.readline().decode()) not in ("\r\n", ""):
            key, _, value = line.rstrip("\r\n").partition(": ")
            message[key] = value
        return message

    def ask(self, **fields: str) -> Message:
        self.send(**fields)
        return self.read()

    def login(self, events: str = "on") -> None:
        answer = self.ask(
            Action="Login", Username="agentstatus", Secret="ami-secret-0001", Events=events
        )
        assert answer["Message"] == "Authentication accepted"
        if events == "on":
            # As recorded: FullyBooted at once, then the security event of the login.
            assert self.read()["Event"] == "FullyBooted"
            assert self.read()["Event"] == "SuccessfulAuth"

    def next(self, event: str) -> Message:
        """The next message that is ``event`` (the security events of others skipped)."""
        while (message := self.read()).get("Event") != event:
            assert message, f"the connection ended before {event}"
        return message

    def close(self) -> None:
        self.file.close()
        self.sock.close()


@pytest.fixture
def server() -> Iterator[AmiServer]:
    with AmiServer(queues=("support", "sales")) as ami:
        yield ami


@pytest.fixture
def client(server: AmiServer) -> Iterator[Client]:
    connection = Client(server.port)
    connection.login()
    yield connection
    connection.close()


def test_banner_and_permission_before_login(server: AmiServer) -> None:
    raw = Client(server.port)
    assert raw.banner == f"{first_banner()}\r\n"
    assert raw.ask(Action="Ping", ActionID="p1") == {
        "Response": "Error", "ActionID": "p1", "Message": "Permission denied",
    }  # fmt: skip
    raw.close()


def first_banner() -> str:
    return next(line["banner"] for line in load() if "banner" in line)


def test_wrong_secret_is_refused_and_closed(server: AmiServer, client: Client) -> None:
    raw = Client(server.port)
    answer = raw.ask(Action="Login", Username="agentstatus", Secret="nope")
    assert answer == {"Response": "Error", "Message": "Authentication failed"}
    assert raw.file.readline() == b""  # the server hung up
    raw.close()
    assert server.sessions == 1
    assert client.next("InvalidPassword")["AccountID"] == "agentstatus"
    assert server.login_attempts == 2


def _keys(message: Message) -> list[str]:
    return [k for k in message if k not in ("t", "ActionID")]


def test_events_carry_the_fields_of_the_recorded_asterisk(
    server: AmiServer, client: Client
) -> None:
    """Every event the server makes itself has the recorded event's fields, in order."""
    other = Client(server.port)
    other.login()
    assert _keys(client.next("SuccessfulAuth")) == _keys(first("SuccessfulAuth"))
    booted = Client(server.port)
    booted.send(Action="Login", Username="agentstatus", Secret="ami-secret-0001")
    booted.read()
    assert _keys(booted.read()) == _keys(first("FullyBooted"))
    booted.close()
    server.add_at_phone("support", "Local/p1@agents", "Dana")
    assert _keys(client.next("QueueMemberAdded")) == _keys(first("QueueMemberAdded"))
    server.pause_at_phone("Local/p1@agents", True, "Lunch break")
    paused = client.next("QueueMemberPause")
    assert _keys(paused) == _keys(first("QueueMemberPause"))
    assert (paused["Paused"], paused["PausedReason"]) == ("1", "Lunch break")
    server.remove_at_phone("support", "Local/p1@agents")
    assert _keys(client.next("QueueMemberRemoved")) == _keys(first("QueueMemberRemoved"))
    bad = Client(server.port)
    bad.ask(Action="Login", Username="agentstatus", Secret="nope")
    bad.close()
    assert _keys(client.next("InvalidPassword")) == _keys(first("InvalidPassword"))
    server.stop_asterisk()
    assert _keys(client.next("Shutdown")) == _keys(first("Shutdown"))
    assert client.file.readline() == b""
    other.close()


def test_a_restart_restores_the_members_as_they_were(server: AmiServer, client: Client) -> None:
    """persistentmembers: the members and their pauses come back as they were at the stop,
    however stale; without it they are gone."""
    server.set_member("support", "PJSIP/1001", "Ann", paused=True, reason="Lunch break")
    server.set_member("sales", "PJSIP/1002", "Ben")
    before = server.members()
    server.stop_asterisk(clean=False)
    assert client.file.readline() == b""  # SIGKILL: no Shutdown
    server.start_asterisk()
    again = Client(server.port)
    again.login()
    assert server.members() == before
    assert len(server.logins) == 2
    again.close()
    with AmiServer(persistent_members=False) as forgetful:
        forgetful.set_member("support", "PJSIP/1001")
        forgetful.stop_asterisk()
        forgetful.start_asterisk()
        assert forgetful.members() == {}


def test_a_replayed_local_call_is_listed_by_core_show_channels(
    server: AmiServer, client: Client
) -> None:
    """Both halves of the member's Local channel, as Asterisk lists them mid-call: the ;1
    half runs AppQueue (the queue's leg), the ;2 half the member's dialplan (Wait)."""
    talking = until(segment(CALL_TO_P2), CALL_TO_P2_TALKING)
    server.replay(rewrite(talking, {"p2": "1002"}))
    assert client.next("AgentConnect")["Interface"] == "Local/1002@agents"
    client.send(Action="CoreShowChannels", ActionID="c")
    assert client.next("CoreShowChannel")  # skips the replayed events before the answer
    client.send(Action="CoreShowChannels", ActionID="d")
    while client.read().get("EventList") != "start":
        pass
    listed = {}
    while (item := client.read()).get("Event") == "CoreShowChannel":
        listed[item["Channel"]] = (item["Application"], item["ChannelState"], item["Linkedid"])
    assert item["ListItems"] == "4"
    linked = {link for _, _, link in listed.values()}
    assert len(linked) == 1
    assert {c: a[:2] for c, a in listed.items()} == {
        "Local/100@incoming-00000000;1": ("AppDial2", "6"),
        "Local/100@incoming-00000000;2": ("Queue", "6"),
        "Local/1002@agents-00000001;1": ("AppQueue", "6"),
        "Local/1002@agents-00000001;2": ("Wait", "6"),
    }


def test_add_twice_then_remove_twice(server: AmiServer, client: Client) -> None:
    add = {"Action": "QueueAdd", "Queue": "support", "Interface": "PJSIP/1001", "MemberName": "Ann"}
    assert client.ask(**add, ActionID="a1") == {
        "Response": "Success", "ActionID": "a1", "Message": "Added interface to queue",
    }  # fmt: skip
    event = client.read()
    assert (event["Event"], event["Interface"], event["MemberName"]) == (
        "QueueMemberAdded", "PJSIP/1001", "Ann",
    )  # fmt: skip
    assert client.ask(**add)["Message"] == "Unable to add interface: Already there"
    assert server.members() == {("support", "PJSIP/1001"): Member("support", "PJSIP/1001", "Ann")}
    remove = {"Action": "QueueRemove", "Queue": "support", "Interface": "PJSIP/1001"}
    assert client.ask(**remove)["Message"] == "Removed interface from queue"
    assert client.read()["Event"] == "QueueMemberRemoved"
    assert client.ask(**remove)["Message"] == "Unable to remove interface: Not there"
    assert client.ask(Action="QueueAdd", Queue="support")["Message"] == "'Interface' not specified."
    assert client.ask(Action="Nonsense")["Message"] == "Invalid/unknown command"
    assert server.max_outstanding == 1


def test_pause_with_reason_emits_queue_member_pause(server: AmiServer, client: Client) -> None:
    server.set_member("support", "PJSIP/1001", "Ann")
    server.set_member("sales", "PJSIP/1001", "Ann")
    answer = client.ask(Action="QueuePause", Interface="PJSIP/1001", Paused="true", Reason="Lunch")
    assert answer["Message"] == "Interface paused successfully"
    events = [client.read(), client.read()]
    assert {e["Queue"] for e in events} == {"support", "sales"}
    assert all(e["Event"] == "QueueMemberPause" and e["Paused"] == "1" for e in events)
    assert all(e["PausedReason"] == "Lunch" for e in events)
    assert server.members()[("sales", "PJSIP/1001")].reason == "Lunch"
    missing = client.ask(Action="QueuePause", Interface="PJSIP/9999", Paused="no")
    assert missing["Message"] == "Interface not found"


def test_queue_status_is_an_event_list(server: AmiServer, client: Client) -> None:
    server.set_member("support", "PJSIP/1001", "Ann", paused=True, reason="Break")
    client.send(Action="QueueStatus", Queue="support", ActionID="qs")
    ack = client.read()
    assert (ack["EventList"], ack["Message"], ack["ActionID"]) == (
        "start", "Queue status will follow", "qs",
    )  # fmt: skip
    params, member, done = client.read(), client.read(), client.read()
    assert params["Event"] == "QueueParams"
    assert params["ActionID"] == "qs"
    assert member["Event"] == "QueueMember"
    assert member["ActionID"] == "qs"
    assert (member["Interface"], member["Location"], member["MemberName"]) == (
        "PJSIP/1001", "PJSIP/1001", "Ann",
    )  # fmt: skip
    assert (member["Paused"], member["PausedReason"], member["Membership"]) == (
        "1", "Break", "dynamic",
    )  # fmt: skip
    assert done == {
        "Event": "QueueStatusComplete", "ActionID": "qs", "EventList": "Complete", "ListItems": "2",
    }  # fmt: skip


def test_pause_at_phone_and_events_off(server: AmiServer, client: Client) -> None:
    quiet = Client(server.port)
    quiet.login(events="off")
    server.set_member("support", "PJSIP/1001")
    server.pause_at_phone("PJSIP/1001", True, "Toilet")
    event = client.next("QueueMemberPause")
    assert (event["Event"], event["Paused"], event["PausedReason"]) == (
        "QueueMemberPause", "1", "Toilet",
    )  # fmt: skip
    assert quiet.ask(Action="Ping")["Ping"] == "Pong"  # no event queued ahead of the answer
    quiet.close()


def test_events_of_the_classes_asked_for(server: AmiServer, client: Client) -> None:
    """``Events: call,agent,system`` at login: no security or dialplan events."""
    picky = Client(server.port)
    answer = picky.ask(
        Action="Login", Username="agentstatus", Secret="ami-secret-0001", Events="agent,system"
    )
    assert answer["Message"] == "Authentication accepted"
    assert picky.read()["Event"] == "FullyBooted"
    other = Client(server.port)
    other.login()  # a SuccessfulAuth (security) the picky one does not get
    server.replay([first("VarSet"), first("QueueMemberAdded")])
    assert picky.read()["Event"] == "QueueMemberAdded"
    picky.close()
    other.close()


def test_a_call_in(server: AmiServer, client: Client) -> None:
    call = server.call_in("1001", caller_num="0501234567", caller_name="Dana", did="035551234")
    names = [client.read()["Event"] for _ in range(4)]
    assert names == ["Newchannel", "Newchannel", "DialBegin", "Newstate"]
    client.send(Action="CoreShowChannels", ActionID="c")
    assert client.read()["EventList"] == "start"
    listed = [client.read() for _ in range(3)]
    assert listed[1]["Channel"] == call.extension_channel
    assert listed[1]["ConnectedLineNum"] == "0501234567"
    assert listed[2]["ListItems"] == "2"
    call.answer()
    names = [client.read()["Event"] for _ in range(6)]
    assert names == [
        "Newstate",
        "DialEnd",
        "Newstate",
        "BridgeCreate",
        "BridgeEnter",
        "BridgeEnter",
    ]
    call.hangup()
    names = [client.read()["Event"] for _ in range(5)]
    assert names == ["BridgeLeave", "BridgeLeave", "BridgeDestroy", "Hangup", "Hangup"]


def test_drop_connections(server: AmiServer, client: Client) -> None:
    assert server.sessions == 1
    server.drop_connections()
    assert client.file.readline() == b""
    server.wait_for(lambda: server.sessions == 0, what="no sessions")
    again = Client(server.port)
    again.login()
    assert server.connections_accepted == 2
    assert server.sessions == 1
    again.close()


def _recorded_for_p9(event: str) -> Message:
    """The queue recording's first ``event`` about Missy's ``;1`` channel (the member)."""
    for m in events(QUEUE):
        channel = m.get("DestChannel") or m.get("Channel", "")
        if m["Event"] == event and channel.startswith("Local/p9@") and channel.endswith(";1"):
            return {k: v for k, v in m.items() if k != "t"}
    raise AssertionError(f"no recorded {event}")


def test_a_queue_ring_that_times_out_is_what_app_queue_sends(
    server: AmiServer, client: Client
) -> None:
    """As recorded (timeout = 3, Missy never answering): AgentCalled, DialBegin, then after
    the timeout AgentRingNoAnswer with RingTime, DialEnd NOANSWER and CANCEL, and the
    member channel's Hangup; the caller stays in the queue and may be rung again."""
    server.add_at_phone("support", "Local/p9@noanswer", "Missy")
    client.next("QueueMemberAdded")
    call = server.queue_call("support", "Local/p9@noanswer", caller_num="100", timeout=0.2)
    assert client.next("Newchannel")["Channel"].startswith("PJSIP/trunk-")
    assert _keys(client.next("QueueCallerJoin"))[-3:] == ["Queue", "Position", "Count"]
    flow = [client.read() for _ in range(7)]
    assert [m["Event"] for m in flow] == [
        "Newchannel",
        "AgentCalled",
        "DialBegin",
        "AgentRingNoAnswer",
        "DialEnd",
        "DialEnd",
        "Hangup",
    ]
    for message in flow:
        assert _keys(message) == _keys(_recorded_for_p9(message["Event"])), message["Event"]
    member = flow[0]["Channel"]
    assert member.startswith("Local/p9@noanswer-")
    assert member.endswith(";1")
    no_answer = flow[3]
    assert (no_answer["Queue"], no_answer["Interface"], no_answer["MemberName"]) == (
        "support",
        "Local/p9@noanswer",
        "Missy",
    )
    assert int(no_answer["RingTime"]) >= 200
    assert [flow[4]["DialStatus"], flow[5]["DialStatus"]] == ["NOANSWER", "CANCEL"]
    assert flow[6]["Channel"] == member
    call.ring_again()
    assert client.next("AgentCalled")["DestChannel"] != member  # a new channel each ring
    call.answer()
    leave = client.next("QueueCallerLeave")
    assert leave["Queue"] == "support"
    connect = client.next("AgentConnect")
    assert _keys(connect) == [*_keys(_recorded_for_p9("AgentCalled")), "HoldTime", "RingTime"]


def test_queue_callers_are_what_app_queue_sends_and_lists(
    server: AmiServer, client: Client
) -> None:
    """As recorded: QueueCallerJoin; QueueCallerLeave then AgentConnect for the answered
    caller; QueueCallerAbandon then QueueCallerLeave for the one who hangs up. While they
    wait, QueueStatus lists them as QueueEntry items (docs.asterisk.org's fields)."""
    recorded = {m["Event"]: m for m in reversed(events(QUEUE))}  # the first of each
    server.add_at_phone("support", "Local/p2@agents", "Eli")
    answered = server.queue_call("support", "Local/p2@agents", caller_num="0501", waited=12)
    gone = server.queue_call("support", None, caller_num="")
    client.send(Action="QueueStatus", Queue="support", ActionID="qs")
    entries, seen = [], []
    while (item := client.read()).get("Event") != "QueueStatusComplete":
        if item.get("Event") == "QueueEntry":
            entries.append(item)
        elif item.get("Event") == "QueueParams":
            assert item["Calls"] == "2"
        elif item.get("Event", "").startswith("QueueCaller"):
            seen.append(item)  # the joins, sent before the answer
    assert [_keys(e) for e in entries] == [[
        "Event", "Queue", "Position", "Channel", "Uniqueid", "CallerIDNum", "CallerIDName",
        "ConnectedLineNum", "ConnectedLineName", "Wait", "Priority",
    ]] * 2  # fmt: skip
    assert [(e["Uniqueid"], e["CallerIDNum"], e["Position"]) for e in entries] == [
        (answered.caller_uniqueid, "0501", "1"),
        (gone.caller_uniqueid, "unknown", "2"),
    ]
    assert int(entries[0]["Wait"]) >= 12
    answered.answer()
    gone.abandon()
    while len(seen) < 6:
        message = client.read()
        if message["Event"].startswith(("QueueCaller", "AgentConnect")):
            seen.append(message)
    assert [m["Event"] for m in seen] == [
        "QueueCallerJoin",
        "QueueCallerJoin",
        "QueueCallerLeave",
        "AgentConnect",
        "QueueCallerAbandon",
        "QueueCallerLeave",
    ]
    for message in seen:
        assert _keys(message) == _keys(recorded[message["Event"]]), message["Event"]
    assert int(seen[3]["HoldTime"]) >= 12
    assert seen[4]["Uniqueid"] == gone.caller_uniqueid
    assert server.waiting("support") == []

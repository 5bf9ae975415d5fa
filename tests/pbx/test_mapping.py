"""The pure parts of the connectors: settings checked, seats from presence (the mapping
table of docs/pbx.md), what a pause at the phone means, echoes, live calls."""

from __future__ import annotations

import pytest

from agentstatus.domain.calls import Call, CallBook, CallChange, CallState, Direction
from agentstatus.pbx.config import PbxConfigError, check_secret, make_config
from agentstatus.pbx.freeswitch import channel_rows, parse_table, quoted, user_of
from agentstatus.pbx.phone import Echoes, PauseAtPhone, PhoneError
from agentstatus.pbx.seats import (
    OTHER,
    Seated,
    SeatState,
    desired_seats,
    status_for_pause,
    template_pattern,
)

ASTERISK = make_config("asterisk", "pbx.example.com", queues=["support"], username="as")
FREESWITCH = make_config("freeswitch", "10.0.0.5", queues=["support@default"])


def test_defaults_and_refusals() -> None:
    assert (ASTERISK.port, ASTERISK.interface) == (5038, "PJSIP/{extension}")
    assert (FREESWITCH.port, FREESWITCH.agent, FREESWITCH.contact) == (
        8021,
        "{user_id}",
        "user/{extension}",
    )
    bad = [
        {"kind": "sip", "host": "h", "queues": ["q"]},
        {"kind": "asterisk", "host": "h", "queues": ["q"]},  # no username
        {"kind": "asterisk", "host": "h", "queues": [], "username": "u"},
        {"kind": "asterisk", "host": "h", "queues": ["a b"], "username": "u"},
        {"kind": "asterisk", "host": "h\r\nAction: Originate", "queues": ["q"], "username": "u"},
        {"kind": "asterisk", "host": "h", "queues": ["q"], "username": "u", "interface": "PJSIP/x"},
        {
            "kind": "asterisk",
            "host": "h",
            "queues": ["q"],
            "username": "u",
            "interface": "{secret}",
        },
        {"kind": "asterisk", "host": "h", "port": 0, "queues": ["q"], "username": "u"},
        {"kind": "freeswitch", "host": "h", "queues": ["q"], "username": "u"},
        {"kind": "freeswitch", "host": "h", "queues": ["q"], "contact": "user/{extension!r}"},
    ]
    for settings in bad:
        with pytest.raises(PbxConfigError):
            make_config(**settings)  # type: ignore[arg-type]
    with pytest.raises(PbxConfigError):
        check_secret("two\nlines")
    assert check_secret("s3cret\n") == "s3cret"


def _seated(status: int, available: bool, extension: str | None = "1001") -> Seated:
    return Seated(
        "u1", "Dana", extension, status, {1: "Login", 3: "Lunch break"}.get(status, "X"), available
    )


@pytest.mark.parametrize(
    ("status", "available", "state", "reason"),
    [
        (1, True, SeatState.TAKING, ""),
        (4, True, SeatState.TAKING, ""),  # another status that takes calls
        (3, False, SeatState.PAUSED, "Lunch break"),
        (2, False, SeatState.OUT, ""),
    ],
)
def test_the_mapping_table(status: int, available: bool, state: SeatState, reason: str) -> None:
    agent = _seated(status, available, None if status == 2 else "1001")
    seats = desired_seats(ASTERISK, ["1001", "1002"], [agent])
    assert seats["PJSIP/1001"].state is state
    assert seats["PJSIP/1001"].reason == reason
    assert seats["PJSIP/1002"].state is SeatState.OUT  # nobody there: removed
    fs = desired_seats(FREESWITCH, ["1001"], [agent])
    assert (fs["u1"].state, fs["u1"].extension) == (state, "" if status == 2 else "1001")


def test_what_a_pause_at_the_phone_means() -> None:
    names = {"lunch break": 3, "training": 11}
    assert status_for_pause(True, "Training", 1, True, names) == 11
    assert status_for_pause(True, "training ", 3, False, names) == 11
    assert status_for_pause(True, "coffee", 1, True, names) == OTHER
    assert status_for_pause(True, "", 1, True, names) == OTHER
    assert status_for_pause(True, "Lunch break", 3, False, names) is None  # already
    assert status_for_pause(True, "", 3, False, names) is None  # paused already
    assert status_for_pause(False, "", 3, False, names) == 1
    assert status_for_pause(False, "", 1, True, names) is None
    assert status_for_pause(True, "Training", 2, False, names) is None  # logged out


def test_echoes_of_what_was_asked_are_not_changes() -> None:
    echoes = Echoes()
    echoes.asked("PJSIP/1", True, "Lunch break")
    echoes.asked("PJSIP/1", False, "")
    assert echoes.is_echo(PauseAtPhone("PJSIP/1", False, ""))  # the latest
    assert echoes.is_echo(PauseAtPhone("PJSIP/1", True, "Lunch break"))  # a late echo
    assert not echoes.is_echo(PauseAtPhone("PJSIP/1", True, "Training"))
    assert not echoes.is_echo(PauseAtPhone("PJSIP/2", True, ""))


def test_templates_are_matched_back() -> None:
    assert template_pattern("PJSIP/{extension}").match("PJSIP/10.01")["extension"] == "10.01"  # type: ignore[index]
    assert template_pattern("agent-{user_id}").match("PJSIP/1") is None
    assert user_of("sofia/internal/sip:1001@10.0.0.7:5060") == "1001"
    assert user_of("sofia/internal/1001@10.0.0.5") == "1001"
    assert quoted("On Break") == "'On Break'"
    with pytest.raises(PhoneError):
        quoted("it's")
    table = "name|status|contact\n101|Available|user/1\n+OK\n"
    assert parse_table(table) == [{"name": "101", "status": "Available", "contact": "user/1"}]
    assert parse_table("+OK\n") == []


def test_a_call_book_starts_answers_holds_and_ends_once() -> None:
    book = CallBook()
    call = Call("u1", "1001", Direction.IN, CallState.RINGING, "Dana", "050", "03", 1000)
    assert book.start(call) is not None
    assert book.start(call) is None
    assert book.hold("u1", True) is None  # not answered yet
    answered = book.answer("u1", 2000)
    assert answered is not None
    assert answered.call.state is CallState.TALKING
    assert book.answer("u1", 3000) is None
    held = book.hold("u1", True)
    assert held is not None
    assert held.change is CallChange.HELD
    assert [c.change for c in book.end_all()] == [CallChange.ENDED]
    assert book.end("u1") is None


def test_freeswitchs_channel_list_is_read_without_trusting_its_shape() -> None:
    assert channel_rows('{"row_count":0}\n') == []  # what FreeSWITCH writes for no channels
    listed = '{"row_count":2,"rows":[{"uuid":"a-1","name":"sofia/internal/101@pbx","x":3},7]}'
    assert channel_rows(listed) == [{"uuid": "a-1", "name": "sofia/internal/101@pbx", "x": "3"}]
    assert channel_rows('{"rows":{"uuid":"a"}}') == []
    assert channel_rows('{"rows":[{"uuid":""},{"name":"no id"}]}') == []
    with pytest.raises(PhoneError, match="not JSON"):
        channel_rows("-ERR no reply\n")

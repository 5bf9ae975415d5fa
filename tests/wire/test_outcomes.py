"""The outcomes table read both ways: rendered by the server, read back by the client."""

from __future__ import annotations

import pytest

from agentstatus.wire.outcomes import OUTCOMES, Row, answered_row


def test_every_answer_reads_back_as_its_own_row() -> None:
    for row, outcome in OUTCOMES.items():
        expected = Row.UNREADABLE if row is Row.AUTHENTICATION_FAILED else row
        assert answered_row(outcome.as_dict(), outcome.http_status) is expected, row


def test_rows_1_and_6_are_the_same_answer() -> None:
    unreadable, failed = OUTCOMES[Row.UNREADABLE], OUTCOMES[Row.AUTHENTICATION_FAILED]
    assert (unreadable.as_dict(), unreadable.http_status) == (
        failed.as_dict(),
        failed.http_status,
    )


def test_the_message_tells_apart_rows_sharing_a_pair() -> None:
    in_use = {"Status": 3, "StatusError": 3, "StatusErroMessage": " extension is ALREADY in use"}
    assert answered_row(in_use, 200) is Row.EXTENSION_IN_USE
    other = {**in_use, "StatusErroMessage": "Extension in use"}  # not a substring match
    assert answered_row(other, 200) is Row.UNKNOWN_EXTENSION


def test_the_http_status_tells_apart_rows_sharing_pair_and_message() -> None:
    refused = OUTCOMES[Row.ADDRESS_NOT_ALLOWED].as_dict()
    assert answered_row(refused, 403) is Row.ADDRESS_NOT_ALLOWED
    assert answered_row(refused, 429) is Row.RATE_LIMITED
    assert answered_row(refused, 401) is Row.UNREADABLE


@pytest.mark.parametrize(
    "fields",
    [{}, {"Status": 7, "StatusError": 7}, {"Status": "1", "StatusError": "1"}, {"Status": 1}],
)
def test_answers_of_no_row(fields: dict[str, object]) -> None:
    assert answered_row(fields, 200) is None


def test_the_body_is_a_new_dict_each_time() -> None:
    ok = OUTCOMES[Row.OK]
    body = ok.as_dict()
    body["Status"] = 0
    assert ok.as_dict() == {"Status": 1, "StatusError": 1, "StatusErroMessage": "OK"}

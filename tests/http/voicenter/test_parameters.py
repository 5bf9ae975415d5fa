"""Unit tests of the tolerant ``SetStatusFromAPI`` parameter reader (SPEC.md 3) and of
the query redaction used by the access log (SPEC.md 6)."""

from __future__ import annotations

from urllib.parse import quote, urlencode

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentstatus.http.voicenter.parameters import (
    MAX_BODY,
    StatusParameters,
    Unreadable,
    canonical_key,
    media_type,
    parse_status,
    read_parameters,
    redact_query,
    status_parameters,
)
from agentstatus.wire.outcomes import Row

FORM = "application/x-www-form-urlencoded"
COMPLETE = {"Code": "c0de", "UserId": "7", "ExtensionUser": "sip1", "Status": "3"}


def read_json(
    document: object, content_type: str | None = "application/json"
) -> dict[str, str | None]:
    return read_parameters("POST", b"", content_type, orjson.dumps(document))


def test_canonical_keys_are_trimmed_and_lower_case() -> None:
    assert canonical_key("  UserId ") == "userid"
    assert canonical_key("ExtensionUser") == "extensionuser"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, ""),
        ("", ""),
        ("application/json", "application/json"),
        ("Application/JSON; charset=UTF-8", "application/json"),
        (" text/plain ;charset=utf-8", "text/plain"),
    ],
)
def test_media_type_drops_parameters_and_case(header: str | None, expected: str) -> None:
    assert media_type(header) == expected


def test_a_get_reads_the_query_case_insensitively() -> None:
    got = read_parameters("GET", b"CODE=x&userid=7&ExtensionUser=s&sTaTuS=1", None, b"")
    assert got == {"code": "x", "userid": "7", "extensionuser": "s", "status": "1"}


def test_a_get_ignores_its_body() -> None:
    assert read_parameters("GET", b"code=x", "application/json", b"{nonsense") == {"code": "x"}


def test_the_first_occurrence_of_a_name_wins() -> None:
    assert read_parameters("GET", b"Status=1&status=3&STATUS=5", None, b"") == {"status": "1"}


def test_body_values_win_over_the_query_which_fills_the_gaps() -> None:
    got = read_parameters("POST", b"Code=q&Status=9", "application/json", b'{"Status": 1}')
    assert got == {"status": "1", "code": "q"}


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "text/json", "text/plain", None, "application/vnd.crm+json", FORM],
)
def test_json_is_read_under_every_accepted_label(content_type: str | None) -> None:
    assert read_json({"Code": "x", "Status": 1}, content_type) == {"code": "x", "status": "1"}


def test_a_form_is_read_and_unescaped() -> None:
    body = b"Code=a%2Bb&UserId=7&sipid=sip+1&Status="
    got = read_parameters("POST", b"", f"{FORM}; charset=utf-8", body)
    assert got == {"code": "a+b", "userid": "7", "sipid": "sip 1", "status": ""}


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1, "1"), (3.0, "3"), (1.5, "1.5"), ("07", "07"), (None, None), (2**64 - 1, str(2**64 - 1))],
)
def test_json_scalars_become_strings(value: object, expected: str | None) -> None:
    assert read_json({"Status": value}) == {"status": expected}


def test_a_json_number_beyond_64_bits_is_still_read() -> None:
    body = b'{"Status": 100000000000000000000}'
    assert read_parameters("POST", b"", "application/json", body) == {"status": str(10**20)}


@pytest.mark.parametrize("value", [True, False, [1], {"a": 1}])
def test_json_booleans_arrays_and_objects_are_unreadable(value: object) -> None:
    with pytest.raises(Unreadable):
        read_json({"Status": value})


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", b'{"Code": '),
        ("application/json", b"[1, 2]"),
        ("application/json", b'"Code"'),
        ("application/json", b"\xff"),
        (FORM, b"Code=\xff"),
        ("application/xml", b"<Code>x</Code>"),
        ("multipart/form-data; boundary=b", b"--b\r\n"),
    ],
)
def test_what_cannot_be_read_is_unreadable(content_type: str, body: bytes) -> None:
    with pytest.raises(Unreadable):
        read_parameters("POST", b"", content_type, body)


def test_the_body_limit_is_16_kib() -> None:
    padding = "x" * (MAX_BODY - len(b'{"Code":""}'))
    fits = orjson.dumps({"Code": padding})
    assert len(fits) == MAX_BODY
    assert read_parameters("POST", b"", "application/json", fits)["code"] == padding
    with pytest.raises(Unreadable):
        read_parameters("POST", b"", "application/json", fits + b" ")


def test_an_empty_post_body_reads_the_query_whatever_its_label() -> None:
    assert read_parameters("POST", b"Code=x", "application/xml", b"  \r\n") == {"code": "x"}


def test_a_form_label_on_a_json_body_is_read_as_json() -> None:
    assert read_parameters("POST", b"", FORM, b' {"Code": "x"}') == {"code": "x"}


def test_a_complete_request_becomes_status_parameters() -> None:
    params: dict[str, str | None] = {canonical_key(k): f"  {v}\t" for k, v in COMPLETE.items()}
    assert status_parameters(params) == StatusParameters("c0de", "7", "sip1", 3)


def test_sipid_stands_in_for_extension_user() -> None:
    params: dict[str, str | None] = {"code": "c", "userid": "7", "sipid": "sip9", "status": "1"}
    assert status_parameters(params) == StatusParameters("c", "7", "sip9", 1)


@pytest.mark.parametrize(
    ("missing", "row"),
    [
        ("code", Row.MISSING_CODE_OR_USER),
        ("userid", Row.MISSING_CODE_OR_USER),
        ("extensionuser", Row.MISSING_EXTENSION),
        ("status", Row.MISSING_STATUS),
    ],
)
@pytest.mark.parametrize("how", ["absent", "empty", "blank", "null"])
def test_missing_or_empty_parameters_are_rows_2_to_4(missing: str, row: Row, how: str) -> None:
    params: dict[str, str | None] = {canonical_key(k): v for k, v in COMPLETE.items()}
    if how == "absent":
        del params[missing]
    else:
        params[missing] = {"empty": "", "blank": " \t ", "null": None}[how]
    assert status_parameters(params) is row


def test_rows_2_to_4_are_checked_in_order() -> None:
    assert status_parameters({}) is Row.MISSING_CODE_OR_USER
    assert status_parameters({"code": "c", "userid": "7"}) is Row.MISSING_EXTENSION
    assert status_parameters({"code": "c", "userid": "7", "sipid": "s"}) is Row.MISSING_STATUS


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1", 1), ("013", 13), ("99999999999999999999", 99999999999999999999)],
)
def test_ascii_digits_are_a_status(text: str, expected: int) -> None:
    assert parse_status(text) == expected


@pytest.mark.parametrize("text", ["-1", "+1", "1.0", "1e3", "abc", "\u0661", "\u00b2", "\u2168"])
def test_anything_else_is_no_status(text: str) -> None:
    assert parse_status(text) is None


def test_redaction_keeps_only_harmless_values() -> None:
    query = b"Code=s3cret&UserId=7&ExtensionUser=sip1&sipid=s2&Status=1&Other=x"
    assert redact_query(query) == (
        "Code=[redacted]&UserId=7&ExtensionUser=sip1&sipid=s2&Status=1&[redacted]=[redacted]"
    )


@pytest.mark.parametrize(
    "query",
    [
        "code=s3cret",
        "CODE=s3cret",
        "C%6Fde=s3cret",
        "Code=s3cret&Code=s3cret",
        quote("Code=s3cret&UserId=7", safe=""),  # the whole query escaped once
        "s3cret",  # the Code sent bare
        "s3cret=",
    ],
)
def test_redaction_hides_the_code_however_it_is_sent(query: str) -> None:
    assert "s3cret" not in redact_query(query.encode())


@given(
    code=st.text(alphabet=st.characters(codec="utf-8"), min_size=1),
    user=st.from_regex(r"[0-9]{1,6}", fullmatch=True),
)
def test_redaction_never_shows_a_code_property(code: str, user: str) -> None:
    query = urlencode({"Code": code, "UserId": user, "Status": "1"}).encode()
    assert redact_query(query) == f"Code=[redacted]&UserId={user}&Status=1"

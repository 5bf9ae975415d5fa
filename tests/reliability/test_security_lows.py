"""The low findings of the security review (issue 21, item 29), each at its root: the time
zones that are no place's time, the last ``X-Forwarded-Proto`` of a trusted proxy, a
session's idle timeout counted from its last request, and phone-system hosts judged when
they are saved."""

from __future__ import annotations

import ipaddress

import pytest
from sqlalchemy import Engine

from agentstatus.domain.pbx_config import PbxConfigError, make_config
from agentstatus.events import credentials
from agentstatus.events.slots import StreamSlots
from agentstatus.http.requests import is_https
from agentstatus.outbound import OutboundPolicy
from agentstatus.service import web_sessions
from agentstatus.service.errors import InvalidInput, TooMany
from agentstatus.service.pbx_settings import check_host
from agentstatus.service.timezones import zone
from agentstatus.service.tokens import Role
from agentstatus.service.users import add_user
from tests.support.web import PASSWORD

PROXY = (ipaddress.ip_network("10.0.0.0/8"),)


@pytest.mark.parametrize("name", ["localtime", "Factory", "posixrules", " localtime "])
def test_zones_that_are_no_place_are_refused(name: str) -> None:
    with pytest.raises(InvalidInput):
        zone(name)


def test_real_zones_are_taken() -> None:
    assert zone("Asia/Jerusalem").key == "Asia/Jerusalem"
    assert zone("UTC").key == "UTC"


def _scope(peer: str, *values: bytes) -> dict[str, object]:
    return {
        "scheme": "http",
        "client": (peer, 5000),
        "headers": [(b"x-forwarded-proto", v) for v in values],
    }


def test_the_trusted_proxys_x_forwarded_proto_is_the_last() -> None:
    # The client wrote "https"; the trusted proxy, which it reached over HTTP, appended.
    assert not is_https(_scope("10.0.0.1", b"https, http"), PROXY)
    assert not is_https(_scope("10.0.0.1", b"https", b"http"), PROXY)
    assert is_https(_scope("10.0.0.1", b"http, https"), PROXY)
    assert is_https(_scope("10.0.0.1", b"https"), PROXY)
    assert not is_https(_scope("192.0.2.1", b"https"), PROXY)  # not from the proxy


def test_the_idle_timeout_counts_from_the_last_request(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A session used 59 s after it opened lasts the idle time from then (to the second),
    not from when it opened."""
    user = add_user(engine, "idle@example.com", Role.ADMIN, PASSWORD, None, "")
    clock = [1_800_000_000_000]
    monkeypatch.setattr(web_sessions, "now_ms", lambda: clock[0])
    secret = web_sessions.open_session(engine, user)
    idle = 15 * 60_000
    clock[0] += 59_000
    assert web_sessions.session_user(engine, secret, idle) is not None
    clock[0] += idle - 1_000
    assert web_sessions.session_user(engine, secret, idle) is not None
    clock[0] += idle + 1_000
    assert web_sessions.session_user(engine, secret, idle) is None


@pytest.mark.parametrize(
    "host", ["2130706433", "0x7f.1", "127.1", "0", "017700000001", "10.0.0.01", "a.0x1", "1.2.3.4."]
)
def test_a_numeric_host_that_is_not_four_decimals_is_refused_when_saved(host: str) -> None:
    with pytest.raises(PbxConfigError, match="four decimal numbers"):
        make_config("asterisk", host, queues=["q"], username="u")


def test_localhost_follows_the_outbound_policy_when_saved() -> None:
    config = make_config("asterisk", "localhost", queues=["q"], username="u")
    for name in ("localhost", "LOCALHOST.", "pbx.localhost", "127.0.0.1", "[::1]"):
        with pytest.raises(InvalidInput, match="outbound address policy"):
            check_host(name, OutboundPolicy())
    loopback = OutboundPolicy.from_setting("127.0.0.0/8,::1/128")
    check_host(config.host, loopback)
    check_host("pbx.example.com", OutboundPolicy())  # a name is judged when resolved


def test_streams_are_capped_per_web_user_and_per_panel_agent() -> None:
    """A new session (signing in again) or a new panel link does not lift the cap."""
    slots = StreamSlots(per_token=2)
    given = [slots.take(credentials.session(1, user_id=7)), slots.take(credentials.session(2, 7))]
    with pytest.raises(TooMany, match="this user has 2"):
        slots.take(credentials.session(3, user_id=7))
    slots.take(credentials.session(4, user_id=8))  # another person
    given[0]()
    given[0]()  # giving back twice frees one slot
    slots.take(credentials.session(3, user_id=7))
    links = [slots.take(credentials.panel(10, agent_id=5)) for _ in range(2)]
    with pytest.raises(TooMany, match="this agent has 2"):
        slots.take(credentials.panel(11, agent_id=5))
    for give_back in links:
        give_back()
    slots.take(credentials.panel(11, agent_id=5))
    # Revocation matches a credential by kind and id, whoever owns it.
    assert credentials.session(3, user_id=7) == credentials.session(3)

"""The pure decision core, example by example and by property."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from agentstatus.domain.catalogue import LOGIN, LOGOUT
from agentstatus.domain.decision import LOGGED_OUT, Facts, Presence, decide
from agentstatus.wire.outcomes import Row


def facts(**overrides: object) -> Facts:
    base: dict[str, object] = {
        "agent_active": True,
        "address_allowed": True,
        "extension_exists": True,
        "status_enabled": True,
        "current": LOGGED_OUT,
        "extension_holder": None,
    }
    base.update(overrides)
    return Facts(**base)  # type: ignore[arg-type]


def test_login_from_logged_out_applies_a_change() -> None:
    decision = decide(facts(), "7", "sip1", LOGIN)
    assert decision.row is Row.OK
    assert decision.change is not None
    assert decision.change.previous == LOGGED_OUT
    assert decision.change.new == Presence("sip1", LOGIN)


def test_rows_are_checked_in_table_order() -> None:
    everything_wrong = facts(
        agent_active=False,
        address_allowed=False,
        extension_exists=False,
        status_enabled=False,
        extension_holder="other",
    )
    assert decide(everything_wrong, "7", "sip1", 3).row is Row.AUTHENTICATION_FAILED
    assert decide(facts(address_allowed=False, extension_exists=False), "7", "s", 3).row is (
        Row.ADDRESS_NOT_ALLOWED
    )
    assert decide(facts(extension_exists=False, status_enabled=False), "7", "s", 3).row is (
        Row.UNKNOWN_EXTENSION
    )
    assert decide(facts(status_enabled=False, extension_holder="x"), "7", "s", 3).row is (
        Row.STATUS_NOT_SUPPORTED
    )
    assert decide(facts(), "7", "s", None).row is Row.STATUS_NOT_SUPPORTED
    assert decide(facts(extension_holder="x"), "7", "s", 3).row is Row.EXTENSION_IN_USE


def test_logout_ignores_who_holds_the_named_extension() -> None:
    holding = facts(current=Presence("sip9", 3), extension_holder="someone-else")
    decision = decide(holding, "7", "sip1", LOGOUT)
    assert decision.row is Row.OK
    assert decision.change is not None
    assert decision.change.new == LOGGED_OUT


def test_logout_when_logged_out_changes_nothing() -> None:
    decision = decide(facts(), "7", "sip1", LOGOUT)
    assert decision.row is Row.OK
    assert decision.change is None


def test_repeating_current_state_records_nothing() -> None:
    here = Presence("sip1", 3)
    decision = decide(facts(current=here, extension_holder="7"), "7", "sip1", 3)
    assert decision.row is Row.OK
    assert decision.change is None


def test_moving_extensions_is_one_change() -> None:
    decision = decide(facts(current=Presence("sip1", LOGIN)), "7", "sip2", 5)
    assert decision.change is not None
    assert decision.change.previous == Presence("sip1", LOGIN)
    assert decision.change.new == Presence("sip2", 5)


presences = st.one_of(
    st.just(LOGGED_OUT),
    st.builds(Presence, st.sampled_from(["sip1", "sip2"]), st.sampled_from([1, 3, 5])),
)


@given(
    current=presences,
    holder=st.one_of(st.none(), st.sampled_from(["7", "8"])),
    extension=st.sampled_from(["sip1", "sip2"]),
    status=st.sampled_from([1, 2, 3, 5]),
    enabled=st.booleans(),
    active=st.booleans(),
    allowed=st.booleans(),
    exists=st.sampled_from([True, False, None]),
)
def test_properties(
    current: Presence,
    holder: str | None,
    extension: str,
    status: int,
    enabled: bool,
    active: bool,
    allowed: bool,
    exists: bool | None,
) -> None:
    decision = decide(
        facts(
            current=current,
            extension_holder=holder,
            status_enabled=enabled,
            agent_active=active,
            address_allowed=allowed,
            extension_exists=exists,
        ),
        "7",
        None if exists is None else extension,
        status,
    )
    # The rows are checked in the table's order: the first that applies answers.
    if not active:
        assert decision.row is Row.AUTHENTICATION_FAILED
        return
    if not allowed:
        assert decision.row is Row.ADDRESS_NOT_ALLOWED
        return
    if exists is False:
        assert decision.row is Row.UNKNOWN_EXTENSION
        return
    if exists is None and enabled and status != LOGOUT:
        # Only a logout may name no extension (an admin or system one).
        assert decision.row is Row.UNKNOWN_EXTENSION
        return
    if decision.change is not None:
        assert decision.row is Row.OK
        assert decision.change.previous == current
        assert decision.change.new != current
        # A logged-in agent always sits at the extension it asked for.
        if decision.change.new.status != LOGOUT:
            assert decision.change.new.extension == extension
        else:
            assert decision.change.new.extension is None
    if decision.row is Row.OK and status != LOGOUT:
        assert holder in (None, "7")
    if not enabled:
        assert decision.row is Row.STATUS_NOT_SUPPORTED

"""What each phone system's registration events mean for the organisation's extensions
(``pbx/registrations.py``), on the fields the test servers send (modelled from Asterisk's
AMI documentation and mod_sofia's source)."""

from __future__ import annotations

from agentstatus.domain.pbx_config import make_config
from agentstatus.domain.phone_registration import PhoneSeen, PhoneState
from agentstatus.pbx.registrations import AsteriskPhones, FreeSwitchPhones

EXTENSIONS = frozenset({"1001", "1002"})
UP, DOWN = PhoneState.REGISTERED, PhoneState.UNREGISTERED


def asterisk(interface: str = "PJSIP/{extension}", state: str = "") -> AsteriskPhones:
    config = make_config(
        "asterisk",
        "pbx.lan",
        queues=["support"],
        username="agentstatus",
        interface=interface,
        state_interface=state,
    )
    return AsteriskPhones(config, lambda: EXTENSIONS)


def contact(endpoint: str, status: str, uri: str = "sip:1001@192.0.2.5") -> dict[str, str]:
    return {"URI": uri, "ContactStatus": status, "AOR": endpoint, "EndpointName": endpoint}


def test_a_contact_created_then_removed() -> None:
    phones = asterisk()
    assert phones.interpret("ContactStatus", contact("1001", "Created")) == [PhoneSeen("1001", UP)]
    assert phones.interpret("ContactStatus", contact("1001", "Removed")) == [
        PhoneSeen("1001", DOWN)
    ]
    assert phones.interpret("ContactStatus", contact("9999", "Created")) == []  # not ours


def test_an_aor_with_two_phones_is_registered_until_both_are_gone() -> None:
    phones = asterisk()
    phones.interpret("ContactStatus", contact("1001", "Reachable", "sip:1001@desk"))
    phones.interpret("ContactStatus", contact("1001", "Reachable", "sip:1001@mobile"))
    gone = phones.interpret("ContactStatus", contact("1001", "Unreachable", "sip:1001@desk"))
    assert gone == [PhoneSeen("1001", UP)]
    last = phones.interpret("ContactStatus", contact("1001", "Removed", "sip:1001@mobile"))
    assert last == [PhoneSeen("1001", DOWN)]


def test_peer_and_device_states() -> None:
    phones = asterisk()
    peer = {"ChannelType": "PJSIP", "Peer": "PJSIP/1002", "PeerStatus": "Unreachable"}
    assert phones.interpret("PeerStatus", peer) == [PhoneSeen("1002", DOWN)]
    chan_sip = {"ChannelType": "SIP", "Peer": "SIP/1001", "PeerStatus": "Registered"}
    assert phones.interpret("PeerStatus", chan_sip) == [PhoneSeen("1001", UP)]
    busy = {"Device": "PJSIP/1001", "State": "INUSE"}
    assert phones.interpret("DeviceStateChange", busy) == [PhoneSeen("1001", UP)]
    for says_nothing in ("UNKNOWN", "INVALID"):
        device = {"Device": "PJSIP/1001", "State": says_nothing}
        assert phones.interpret("DeviceStateChange", device) == []
    assert (
        phones.interpret("DeviceStateChange", {"Device": "Queue:support", "State": "INUSE"}) == []
    )


def test_a_local_member_s_phone_is_its_sip_device() -> None:
    phones = asterisk("Local/{extension}@from-queue/n")
    device = {"Device": "PJSIP/1001", "State": "UNAVAILABLE"}
    assert phones.interpret("DeviceStateChange", device) == [PhoneSeen("1001", DOWN)]
    # The Local device's own state is the dialplan's, not the phone's.
    local = {"Device": "Local/1001@from-queue", "State": "NOT_INUSE"}
    assert phones.interpret("DeviceStateChange", local) == []
    # A state interface names the phone's device when the extension's SIP name differs.
    named = asterisk("Local/{extension}@agents", "PJSIP/phone-{extension}")
    mine = {"Device": "PJSIP/phone-1002", "State": "NOT_INUSE"}
    assert named.interpret("DeviceStateChange", mine) == [PhoneSeen("1002", UP)]


def test_read_on_connect_a_listed_contact_wins_over_the_device() -> None:
    phones = asterisk()
    devices = [
        {"Event": "DeviceStateChange", "Device": "PJSIP/1001", "State": "UNAVAILABLE"},
        {"Event": "DeviceStateChange", "Device": "PJSIP/1002", "State": "UNAVAILABLE"},
    ]
    contacts = [
        {"Event": "ContactList", "Endpoint": "1001", "Uri": "sip:1001@x", "Status": "Reachable"}
    ]
    seen = {s.extension: s.state for s in phones.listed(devices, contacts)}
    assert seen == {"1001": UP, "1002": DOWN}


def freeswitch(contact_template: str | None = None) -> FreeSwitchPhones:
    config = make_config(
        "freeswitch", "pbx.lan", queues=["support@default"], contact=contact_template
    )
    return FreeSwitchPhones(config, lambda: EXTENSIONS)


def test_sofia_events() -> None:
    phones = freeswitch()
    register = {"Event-Subclass": "sofia::register", "from-user": "1001", "call-id": "a"}
    assert phones.interpret(register) == [PhoneSeen("1001", UP)]
    second = {"Event-Subclass": "sofia::register", "from-user": "1001", "call-id": "b"}
    phones.interpret(second)
    expire = {"Event-Subclass": "sofia::expire", "user": "1001", "call-id": "a"}
    assert phones.interpret(expire) == [PhoneSeen("1001", UP)]  # "b" is still there
    gone = {"Event-Subclass": "sofia::unregister", "from-user": "1001", "call-id": "b"}
    assert phones.interpret(gone) == [PhoneSeen("1001", DOWN)]
    stranger = {"Event-Subclass": "sofia::register", "from-user": "7777", "call-id": "c"}
    assert phones.interpret(stranger) == []


def test_sofia_status_reg_and_the_profile() -> None:
    assert freeswitch().profile == "internal"
    assert freeswitch("sofia/agents/{extension}%pbx.lan").profile == "agents"
    line = "=" * 97
    text = (
        f"\nRegistrations:\n{line}\n"
        "Call-ID:    \tabc\nUser:       \t1002@10.0.0.5\n"
        'Contact:    \t"1002" <sip:1002@10.0.0.7:5060>\n'
        "Status:     \tRegistered(UDP)(unknown) EXP(2026-12-07 10:00:00) EXPSECS(3600)\n\n"
        f"Total items returned: 1\n{line}\n"
    )
    seen = {s.extension: s.state for s in freeswitch().listed(text)}
    assert seen == {"1001": DOWN, "1002": UP}
    assert freeswitch().listed("Invalid Profile!\n") == []

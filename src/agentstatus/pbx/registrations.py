"""The phones' registrations as each phone system tells them, mapped to the organisation's
extensions (``domain/phone_registration.py`` says what the words mean).

**Asterisk.** A SIP device (``PJSIP/1001``, ``SIP/1001``) is the extension's when the
member interface or the state interface makes it (``PJSIP/{extension}``), or else when its
endpoint's name is the extension's SIP name (a ``Local/…`` interface rings the phone
through its dialplan; the ``Local/`` device's own state says nothing of the phone).
Events: ``ContactStatus`` (a PJSIP contact: AOR, EndpointName, ContactStatus
Created/Reachable/Unreachable/Removed/Updated/NonQualified), ``PeerStatus`` (Peer
``PJSIP/1001``, PeerStatus Reachable/Unreachable/Registered/Unregistered/…),
``DeviceStateChange`` (Device, State NOT_INUSE/INUSE/UNAVAILABLE/…). Read on connect:
``DeviceStateList`` (its ``DeviceStateChange`` items) and ``PJSIPShowContacts``
(``ContactList`` items: Endpoint, Uri, Status).

**FreeSWITCH.** mod_sofia fires ``CUSTOM sofia::register`` (from-user, from-host, contact,
call-id, expires, profile-name, …), ``sofia::unregister`` (the same) and ``sofia::expire``
(user, host, contact, call-id, …): the user is the extension's SIP name. Read on connect:
``sofia status profile <profile> reg``, blocks of ``Call-ID:``/``User:``/``Contact:``/
``Status:`` lines. The profile is the contact template's (``sofia/<profile>/…``), else
``internal`` (where FreeSWITCH's default configuration registers phones).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

from agentstatus.domain.pbx_config import PbxConfig
from agentstatus.domain.phone_registration import (
    PhoneSeen,
    PhoneState,
    Registrations,
    contact_up,
    device_state,
    peer_state,
)
from agentstatus.domain.seats import channel_template, template_pattern

ASTERISK_EVENTS = frozenset({"ContactStatus", "PeerStatus", "DeviceStateChange"})
SOFIA_EVENTS = ("sofia::register", "sofia::unregister", "sofia::expire")
DEFAULT_PROFILE = "internal"
_SOFIA_CONTACT = re.compile(r"^sofia/([^/]+)/")
_SIP_TECHNOLOGIES = ("pjsip", "sip")


class AsteriskPhones:
    def __init__(self, config: PbxConfig, extensions: Callable[[], frozenset[str]]) -> None:
        templates = [config.state_interface, channel_template(config.interface)]
        self._patterns = [template_pattern(t) for t in templates if "{extension}" in t]
        self._extensions = extensions
        self._contacts = Registrations()

    def extension_of(self, device: str) -> str | None:
        """The organisation's extension a SIP device or endpoint name is, if any. Only a
        SIP device registers: a ``Local/`` or ``Custom:`` device's state is the dialplan's,
        not the phone's."""
        known = self._extensions()
        technology, _, name = device.partition("/")
        if not name:  # an endpoint's bare name (ContactStatus's EndpointName)
            return device if device in known else None
        if technology.lower() not in _SIP_TECHNOLOGIES:
            return None
        for pattern in self._patterns:
            match = pattern.match(device)
            if match is not None and match.group("extension") in known:
                return match.group("extension")
        return name if name in known else None

    def interpret(self, name: str, m: Mapping[str, str]) -> list[PhoneSeen]:
        if name == "ContactStatus":
            return self._contact(m.get("EndpointName") or m.get("AOR", ""), m, "ContactStatus")
        if name == "PeerStatus":
            found = self.extension_of(m.get("Peer", ""))
            state = peer_state(m.get("PeerStatus", ""))
        elif name == "DeviceStateChange":
            found = self.extension_of(m.get("Device", ""))
            state = device_state(m.get("State", ""))
        else:
            return []
        return [] if found is None or state is None else [PhoneSeen(found, state)]

    def _contact(self, endpoint: str, m: Mapping[str, str], field: str) -> list[PhoneSeen]:
        found = self.extension_of(endpoint)
        up = contact_up(m.get(field, ""))
        if found is None or up is None:
            return []
        uri = m.get("URI") or m.get("Uri", "")
        return [self._contacts.add(found, uri) if up else self._contacts.remove(found, uri)]

    def listed(
        self, devices: Sequence[Mapping[str, str]], contacts: Sequence[Mapping[str, str]]
    ) -> list[PhoneSeen]:
        """The states read on connect: each device's, then its contacts' (a phone with a
        reachable contact is registered whatever the device's cached state)."""
        seen: list[PhoneSeen] = []
        for item in devices:
            if item.get("Event") == "DeviceStateChange":
                seen.extend(self.interpret("DeviceStateChange", item))
        by_extension: dict[str, set[str]] = {}
        down: set[str] = set()
        for item in contacts:
            if item.get("Event") != "ContactList":
                continue
            found = self.extension_of(item.get("Endpoint", ""))
            up = contact_up(item.get("Status", ""))
            if found is None or up is None:
                continue
            if up:
                by_extension.setdefault(found, set()).add(item.get("Uri", ""))
            else:
                down.add(found)
        self._contacts.reset(by_extension)
        seen.extend(PhoneSeen(e, PhoneState.UNREGISTERED) for e in sorted(down - set(by_extension)))
        seen.extend(PhoneSeen(e, PhoneState.REGISTERED) for e in sorted(by_extension))
        return seen


class FreeSwitchPhones:
    def __init__(self, config: PbxConfig, extensions: Callable[[], frozenset[str]]) -> None:
        match = _SOFIA_CONTACT.match(config.contact)
        self.profile = match.group(1) if match is not None else DEFAULT_PROFILE
        self._extensions = extensions
        self._registrations = Registrations()

    def interpret(self, h: Mapping[str, str]) -> list[PhoneSeen]:
        subclass = h.get("Event-Subclass", "")
        if subclass not in SOFIA_EVENTS:
            return []
        user = h.get("from-user") or h.get("user", "")
        if user not in self._extensions():
            return []
        key = h.get("call-id") or h.get("contact", "")
        if subclass == "sofia::register":
            return [self._registrations.add(user, key)]
        return [self._registrations.remove(user, key)]

    def listed(self, text: str) -> list[PhoneSeen]:
        """``sofia status profile … reg``: every registration of the profile; an extension
        with none is unregistered."""
        found: dict[str, set[str]] = {}
        call_id = ""
        for line in text.splitlines():
            key, _, value = line.partition(":")
            value = value.strip()
            if key == "Call-ID":
                call_id = value
            elif key == "User":
                user = value.rsplit("@", 1)[0]
                if user in self._extensions():
                    found.setdefault(user, set()).add(call_id)
        if "Registrations:" not in text:
            return []  # "Invalid Profile!" or another answer: nothing is known
        self._registrations.reset(found)
        return [
            PhoneSeen(e, PhoneState.REGISTERED if e in found else PhoneState.UNREGISTERED)
            for e in sorted(self._extensions())
        ]

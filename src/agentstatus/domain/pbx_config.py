"""An organisation's phone system as configured: validated here, stored by
``service.pbx_settings``, used by the connectors.

Templates name where an agent appears in the phone system: ``{extension}`` (the SIP name
of the agent's extension) and ``{user_id}`` (the agent's id). Every value ends up inside an
AMI header or an event-socket command line, so line breaks are refused everywhere.
"""

from __future__ import annotations

import ipaddress
import re
import string
from dataclasses import dataclass
from enum import StrEnum

from agentstatus.domain.addresses import HOST_NAME, NUMERIC_LABEL

MAX_QUEUES = 20
MAX_TEMPLATE = 200
# Queue names: Asterisk's queues.conf sections and FreeSWITCH's name@domain.
_QUEUE = re.compile(r"[A-Za-z0-9_.@+-]{1,80}")
_HOST = re.compile(r"[A-Za-z0-9.:_\[\]-]{1,253}")
_USERNAME = re.compile(r"[A-Za-z0-9_.@+-]{1,80}")
FIELDS = frozenset({"extension", "user_id"})


def check_host_form(host: str) -> str:
    """``host`` stripped, when it is a host name, four decimal numbers (``a.b.c.d``) or an
    IPv6 address; PbxConfigError else. A last label that is a number makes the whole an
    IPv4 address to ``inet_aton`` (``2130706433``, ``0x7f.1``, ``127.1``, ``0``): such
    forms are refused here, so the address saved is the address judged and reached."""
    host = host.strip()
    if not _HOST.fullmatch(host):
        raise PbxConfigError("host must be a host name or an IP address")
    if ":" in host or host.startswith("["):
        try:
            return str(ipaddress.IPv6Address(host.removeprefix("[").removesuffix("]")))
        except ValueError:
            raise PbxConfigError("host is not a valid IPv6 address") from None
    if NUMERIC_LABEL.match(host.removesuffix(".").split(".")[-1]):
        try:
            return str(ipaddress.IPv4Address(host))
        except ValueError:
            raise PbxConfigError(
                "write an IPv4 address as four decimal numbers (a.b.c.d), or use a host name"
            ) from None
    if not HOST_NAME.match(host):
        raise PbxConfigError("host must be a host name or an IP address")
    return host


class PbxKind(StrEnum):
    ASTERISK = "asterisk"
    FREESWITCH = "freeswitch"


DEFAULT_PORTS = {PbxKind.ASTERISK: 5038, PbxKind.FREESWITCH: 8021}
DEFAULT_INTERFACE = "PJSIP/{extension}"
DEFAULT_AGENT = "{user_id}"
DEFAULT_CONTACT = "user/{extension}"


class PbxConfigError(ValueError):
    """A setting is malformed; the message names it (never the secret)."""


@dataclass(frozen=True, slots=True)
class PbxConfig:
    kind: PbxKind
    host: str
    port: int
    queues: tuple[str, ...]
    username: str | None = None
    interface: str = ""
    """Asterisk: the member interface (``PJSIP/{extension}``)."""
    state_interface: str = ""
    """Asterisk: the device whose state tells the queue the member is busy (default: the
    interface itself)."""
    agent: str = ""
    """FreeSWITCH: the mod_callcenter agent name (``{user_id}``)."""
    contact: str = ""
    """FreeSWITCH: the agent's contact (``user/{extension}``)."""

    def as_json(self) -> dict[str, object]:
        shaped: dict[str, object] = {
            "kind": self.kind.value,
            "host": self.host,
            "port": self.port,
            "queues": list(self.queues),
        }
        if self.kind is PbxKind.ASTERISK:
            shaped |= {
                "username": self.username,
                "interface": self.interface,
                "state_interface": self.state_interface,
            }
        else:
            shaped |= {"agent": self.agent, "contact": self.contact}
        return shaped


def check_template(name: str, template: str, *, required: str | None = None) -> str:
    """A template of ``{extension}`` and ``{user_id}``; PbxConfigError otherwise."""
    template = template.strip()
    if not template or len(template) > MAX_TEMPLATE or not template.isprintable():
        raise PbxConfigError(f"{name} must be 1-{MAX_TEMPLATE} printable characters")
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError:
        raise PbxConfigError(f"{name}: unbalanced braces in {template!r}") from None
    used = set()
    for _, field, spec, conversion in parsed:
        if field is None:
            continue
        if field not in FIELDS or spec or conversion:
            raise PbxConfigError(
                f"{name}: {{{field}}} is not a placeholder; use {{extension}} or {{user_id}}"
            )
        used.add(field)
    if required is not None and required not in used:
        raise PbxConfigError(f"{name} must contain {{{required}}}")
    return template


def fill(template: str, *, extension: str = "", user_id: str = "") -> str:
    return template.format(extension=extension, user_id=user_id)


def make_config(
    kind: str,
    host: str,
    *,
    port: int | None = None,
    queues: list[str] | tuple[str, ...],
    username: str | None = None,
    interface: str | None = None,
    state_interface: str | None = None,
    agent: str | None = None,
    contact: str | None = None,
) -> PbxConfig:
    """The configuration, checked; PbxConfigError names the first bad setting."""
    try:
        pbx = PbxKind(kind)
    except ValueError:
        raise PbxConfigError("the phone system must be asterisk or freeswitch") from None
    host = check_host_form(host)
    port = DEFAULT_PORTS[pbx] if port is None else port
    if not 1 <= port <= 65535:
        raise PbxConfigError("port must be from 1 to 65535")
    clean_queues = tuple(dict.fromkeys(q.strip() for q in queues))
    if not clean_queues or len(clean_queues) > MAX_QUEUES:
        raise PbxConfigError(f"give 1 to {MAX_QUEUES} queues")
    for queue in clean_queues:
        if not _QUEUE.fullmatch(queue):
            raise PbxConfigError(
                f"queue {queue[:80]!r}: use letters, digits and _ . @ + - (up to 80)"
            )
    if pbx is PbxKind.ASTERISK:
        if username is None or not _USERNAME.fullmatch(username.strip()):
            raise PbxConfigError("asterisk needs the AMI username (letters, digits, _ . @ + -)")
        iface = check_template("interface", interface or DEFAULT_INTERFACE, required="extension")
        state = check_template("state interface", state_interface) if state_interface else ""
        return PbxConfig(pbx, host, port, clean_queues, username.strip(), iface, state)
    if username:
        raise PbxConfigError("freeswitch's event socket has no username; give only the secret")
    agent_t = check_template("agent", agent or DEFAULT_AGENT)
    contact_t = check_template("contact", contact or DEFAULT_CONTACT, required="extension")
    return PbxConfig(pbx, host, port, clean_queues, None, agent=agent_t, contact=contact_t)


def check_secret(secret: str) -> str:
    """The AMI secret or event-socket password, as read (one line)."""
    secret = secret.rstrip("\r\n")
    if not secret or len(secret) > 256 or not secret.isprintable():
        raise PbxConfigError("the secret must be 1-256 printable characters on one line")
    return secret

"""What the phone-system link reads and writes, gathered for it: the seats as this phone
system shows them (from presence, ``storage.pbx_seats``), the connection's record, the
members made, and the live calls with their events (``service.phone_calls``)."""

from __future__ import annotations

from dataclasses import astuple

from agentstatus.domain.pbx_config import PbxConfig, PbxKind
from agentstatus.domain.seats import Seat, Seated, desired_seats, seat_of
from agentstatus.service.phone_calls import clear_calls, store_calls
from agentstatus.service.phone_registration import plan_after_changes, store_phones
from agentstatus.storage import pbx_seats
from agentstatus.storage.pbx_leases import add_commands, count_repairs, record
from agentstatus.storage.pbx_members import keep_owned, owned_members
from agentstatus.storage.pbx_seats import AtExtension, agent_at, org_extensions, pause_names
from agentstatus.storage.types import Engine

__all__ = [
    "AtExtension",
    "add_commands",
    "agent_at",
    "all_seats",
    "clear_calls",
    "count_repairs",
    "keep_owned",
    "org_extensions",
    "owned_members",
    "pause_names",
    "plan_after_changes",
    "record",
    "seats_for",
    "store_calls",
    "store_phones",
]


def _seated(found: list[pbx_seats.AgentSeat]) -> list[Seated]:
    return [Seated(*astuple(agent)) for agent in found]


def all_seats(engine: Engine, config: PbxConfig, oid: int) -> dict[str, Seat]:
    """Every seat of the organisation, as its presence says now."""
    sips, seated = pbx_seats.everyone(engine, oid)
    return desired_seats(config, sips, _seated(seated))


def seats_for(
    engine: Engine, config: PbxConfig, oid: int, sips: set[str], user_ids: set[str]
) -> list[Seat]:
    """The seats of some extensions (Asterisk) or agents (FreeSWITCH), as presence says now:
    an extension nobody holds any more is an empty seat."""
    if config.kind is PbxKind.ASTERISK:
        held = _seated(pbx_seats.at_extensions(engine, oid, sips))
        return list(desired_seats(config, sorted(sips), held).values())
    return [seat_of(config, agent) for agent in _seated(pbx_seats.of_agents(engine, oid, user_ids))]

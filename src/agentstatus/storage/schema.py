"""The relational schema, shared by every engine and by the Alembic migrations.

Times are integers of milliseconds since the Unix epoch (UTC): exact, portable between
engines and cheap to compare. The invariants of SPEC.md 3.2 live here as constraints:
``presence.agent_id`` is the primary key (one extension per agent) and
``presence.extension_id`` is unique (one agent per extension).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    func,
    literal_column,
    true,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite only makes INTEGER PRIMARY KEY an auto-incrementing rowid alias.
Id = BigInteger().with_variant(Integer(), "sqlite")

organisations = Table(
    "organisations",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("code_hash", String(64), nullable=False, unique=True),
    Column("allowlist", Text, nullable=True),
    Column("created_ms", BigInteger, nullable=False),
    # An IANA zone name: the web's dates and an agent's day are in it.
    Column("timezone", String(64), nullable=False, server_default="UTC"),
    # A JSON list of origins (scheme://host[:port]) that may embed the agent's panel.
    Column("embed_origins", Text, nullable=True),
    # The end of the shift: every agent still logged in is logged out at this local time
    # (HH:MM) on these weekdays (mon,tue,...); NULL: no end.
    Column("shift_end", String(5), nullable=True),
    Column("shift_days", String(32), nullable=True),
    # The phone-offline policy (SPEC 8): an agent whose phone stays unregistered this many
    # seconds while taking calls goes to this status; NULL: off.
    Column("phone_offline_seconds", Integer, nullable=True),
    Column("phone_offline_status", Integer, nullable=True),
)

agents = Table(
    "agents",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("org_id", Id, ForeignKey("organisations.id"), nullable=False),
    Column("user_id", String(128), nullable=False),
    Column("name", String(256), nullable=False, server_default=""),
    Column("active", Boolean, nullable=False, server_default=true()),
    Column("created_ms", BigInteger, nullable=False),
    # What a provisioning client (SCIM's externalId) calls the agent; NULL when none.
    Column("external_id", String(256), nullable=True),
    UniqueConstraint("org_id", "user_id", name="uq_agents_org_user"),
)

# The name an agent is shown by (its name, else its user id), without case: the board's
# order. The empty string is a literal, not a parameter, so that both engines match the
# query's expression to the index's.
SHOWN_NAME = func.lower(
    func.coalesce(func.nullif(agents.c.name, literal_column("''")), agents.c.user_id)
)
Index("ix_agents_org_shown", agents.c.org_id, SHOWN_NAME, agents.c.user_id)

extensions = Table(
    "extensions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("org_id", Id, ForeignKey("organisations.id"), nullable=False),
    Column("sip", String(128), nullable=False),
    Column("name", String(256), nullable=False, server_default=""),
    Column("created_ms", BigInteger, nullable=False),
    UniqueConstraint("org_id", "sip", name="uq_extensions_org_sip"),
)

statuses = Table(
    "statuses",
    metadata,
    Column("org_id", Id, ForeignKey("organisations.id"), primary_key=True),
    Column("status_id", Integer, primary_key=True, autoincrement=False),
    Column("name", String(128), nullable=False),
    Column("color", String(16), nullable=False),
    Column("available", Boolean, nullable=False),
    Column("enabled", Boolean, nullable=False),
    # The longest an agent should stay in the status, and what happens then (warn, login,
    # logout); NULL: no limit.
    Column("limit_seconds", Integer, nullable=True),
    Column("limit_action", String(8), nullable=True),
)

presence = Table(
    "presence",
    metadata,
    Column("agent_id", Id, ForeignKey("agents.id"), primary_key=True, autoincrement=False),
    Column("org_id", Id, ForeignKey("organisations.id"), nullable=False),
    Column("extension_id", Id, ForeignKey("extensions.id"), nullable=True, unique=True),
    Column("status", Integer, nullable=False),
    Column("since_ms", BigInteger, nullable=False),
    # Incremented by every write: the compare-and-set of the status change path.
    Column("version", BigInteger, nullable=False, server_default="0"),
)

# The event log: every history row is written by storage.event_log.append_event, which
# keeps the ordering rule the event streams rely on.
history = Table(
    "history",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("org_id", Id, ForeignKey("organisations.id"), nullable=False),
    # NULL for an event of no agent's: a queue's caller (queue.caller_*), whose user_id is "".
    Column("agent_id", Id, ForeignKey("agents.id"), nullable=True),
    Column("user_id", String(128), nullable=False),
    Column("prev_extension", String(128), nullable=True),
    Column("new_extension", String(128), nullable=True),
    Column("prev_status", Integer, nullable=False),
    Column("new_status", Integer, nullable=False),
    Column("at_ms", BigInteger, nullable=False),
    Column("source", String(16), nullable=False),
    Column("client_addr", String(64), nullable=True),
    # The event type (domain.event_types): agent.login, agent.logout and agent.status
    # change the agent's presence; agent.overdue and call.* leave it as it was.
    Column("kind", String(32), nullable=False),
    # The policy that made this row (limit:warn, limit:login, limit:logout, shift-end) and
    # when its deadline was due (at_ms is when it was applied); NULL for everything else.
    Column("policy", String(16), nullable=True),
    Column("due_ms", BigInteger, nullable=True),
    # A call event's call (JSON: id, direction, state, caller, dialled, started, answered);
    # the row's policy is then call:started, call:answered, call:held or call:ended and the
    # statuses are the agent's, unchanged.
    Column("call", Text, nullable=True),
    # Why the change was made, as its maker said it: a phone-system rule's name (wrap-up,
    # wrap-up-ended, missed-calls, phone-offline, next-status) or a supervisor's words.
    Column("reason", String(200), nullable=True),
    # Who made it, where the source has a who: the web user's e-mail, the token's label.
    Column("actor", String(320), nullable=True),
    # What the event carries beyond the statuses (JSON), by kind: the status queued as
    # next, the count of missed calls, a wrap-up's mode and end, a phone's state.
    Column("detail", Text, nullable=True),
    Index("ix_history_org_agent_at", "org_id", "agent_id", "at_ms"),
    Index("ix_history_org_at", "org_id", "at_ms"),
)

audit = Table(
    "audit",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("org_id", Id, ForeignKey("organisations.id"), nullable=True),
    Column("user_id", String(128), nullable=True),
    Column("outcome_row", Integer, nullable=False),
    Column("endpoint", String(64), nullable=False),
    Column("source", String(16), nullable=False),
    Column("client_addr", String(64), nullable=True),
    Column("at_ms", BigInteger, nullable=False),
    Index("ix_audit_org_at", "org_id", "at_ms"),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("org_id", Id, ForeignKey("organisations.id"), nullable=True),
    Column("label", String(128), nullable=False, server_default=""),
    Column("created_ms", BigInteger, nullable=False),
    Column("revoked", Boolean, nullable=False, server_default=false()),
)

webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("org_id", Id, ForeignKey("organisations.id"), nullable=False),
    Column("url", Text, nullable=False),
    Column("secret_enc", Text, nullable=False),
    # Comma-separated event types, or "*" for all of them.
    Column("events", String(256), nullable=False, server_default="*"),
    Column("enabled", Boolean, nullable=False, server_default=true()),
    Column("description", String(256), nullable=False, server_default=""),
    Column("created_ms", BigInteger, nullable=False),
    # Bodies as CloudEvents 1.0 structured JSON envelopes instead of the bare event.
    Column("cloudevents", Boolean, nullable=False, server_default=false()),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("endpoint_id", Id, ForeignKey("webhook_endpoints.id"), nullable=False),
    Column("history_id", Id, ForeignKey("history.id"), nullable=True),
    Column("event_type", String(32), nullable=False),
    # The body of test events, which have no history row.
    Column("payload", Text, nullable=True),
    Column("state", String(16), nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_ms", BigInteger, nullable=False),
    Column("last_status_code", Integer, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_ms", BigInteger, nullable=False),
    Column("finished_ms", BigInteger, nullable=True),
    Index("ix_webhook_deliveries_due", "state", "next_attempt_ms"),
    Index("ix_webhook_deliveries_endpoint", "endpoint_id", "id"),
)

# The failed-authentication limiter's shared counts (PostgreSQL only; on SQLite the limiter
# keeps them in process and this table stays empty). One row per client address (an IPv4
# address, an IPv6 /64): the failures counted in the window that opened at ``opened_ms``,
# on the database's clock, so that every instance agrees on when a window ends. Rows of
# windows that ended are deleted by the instances; nothing else refers to them.
auth_failures = Table(
    "auth_failures",
    metadata,
    Column("client", String(64), primary_key=True),
    Column("opened_ms", BigInteger, nullable=False),
    Column("failures", Integer, nullable=False),
)

# People who sign in to the web pages: the roles and scopes of api_tokens, a password hash
# (Argon2id, in the PHC string format) instead of a token digest.
users = Table(
    "users",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    # Stored lower-cased: e-mail addresses are compared without case.
    Column("email", String(254), nullable=False, unique=True),
    Column("name", String(128), nullable=False, server_default=""),
    Column("role", String(16), nullable=False),
    Column("org_id", Id, ForeignKey("organisations.id"), nullable=True),
    Column("password_hash", String(256), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
)

# Server-side sessions of the web pages. The cookie carries a random secret; only its
# digest is kept, so a copy of the database signs nobody in. Deleting a row signs out.
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("secret_hash", String(64), nullable=False, unique=True),
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("seen_ms", BigInteger, nullable=False),
    Index("ix_web_sessions_user", "user_id"),
)

# OpenID Connect sign-ins under way (issue 26): the digest of the ``state`` sent to the
# provider, the nonce and PKCE verifier it must come back with, where to go after. A row
# is deleted when its callback comes (or when it is ten minutes old): a state is used once.
oidc_states = Table(
    "oidc_states",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("state_hash", String(64), nullable=False, unique=True),
    Column("nonce", String(128), nullable=False),
    Column("verifier", String(128), nullable=False),
    Column("next_path", String(2048), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Index("ix_oidc_states_created", "created_ms"),
)

# Links to the agent's status panel: a bearer token scoped to one agent (and optionally one
# extension), of which only the digest is kept. Deactivating the agent revokes its links.
panel_links = Table(
    "panel_links",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("org_id", Id, ForeignKey("organisations.id"), nullable=False),
    Column("agent_id", Id, ForeignKey("agents.id"), nullable=False),
    Column("extension", String(128), nullable=True),
    Column("created_ms", BigInteger, nullable=False),
    Column("expires_ms", BigInteger, nullable=False),
    Column("revoked", Boolean, nullable=False, server_default=false()),
    Index("ix_panel_links_agent", "agent_id"),
)

# Links to an organisation's wall (the board for a TV that no one signs in to): a bearer
# token of which only the digest is kept, expiring, revocable. The row is the link's record:
# who made it and when, who revoked it and when (rows are never deleted).
wall_links = Table(
    "wall_links",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("org_id", Id, ForeignKey("organisations.id"), nullable=False),
    Column("label", String(128), nullable=False, server_default=""),
    Column("created_ms", BigInteger, nullable=False),
    Column("created_by", String(320), nullable=True),
    Column("expires_ms", BigInteger, nullable=False),
    Column("revoked_ms", BigInteger, nullable=True),
    Column("revoked_by", String(320), nullable=True),
    Index("ix_wall_links_org", "org_id"),
)

# Logins to Voicenter's real-time monitor (``/monitorAPI/Login/...``): a grant of one
# organisation made from an API token or a web user, holding the digests of its current
# socket token and refresh token with their expiries (a refresh replaces both). A user's
# grant keeps ``password_key``, the digest of the password hash it was made under: a new
# password ends it; removing the user deletes it. Revoked rows keep when and by whom.
monitor_logins = Table(
    "monitor_logins",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("org_id", Id, ForeignKey("organisations.id"), nullable=False),
    Column("token_id", Id, ForeignKey("api_tokens.id"), nullable=True),
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), nullable=True),
    Column("password_key", String(64), nullable=True),
    Column("socket_hash", String(64), nullable=False, unique=True),
    Column("socket_expires_ms", BigInteger, nullable=False),
    Column("refresh_hash", String(64), nullable=False, unique=True),
    Column("refresh_expires_ms", BigInteger, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("revoked_ms", BigInteger, nullable=True),
    Column("revoked_by", String(320), nullable=True),
    Index("ix_monitor_logins_org", "org_id"),
    Index("ix_monitor_logins_user", "user_id"),
)

# When a policy acts: a status's limit for one agent (``version``: the agent's presence
# version it was planned for; any change since cancels it) or an organisation's shift end.
# One row per plan, claimed for a while (``claimed_until_ms``) by the instance acting on it
# and deleted when done; a plan made stale by a change is deleted when it comes due.
deadlines = Table(
    "deadlines",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("org_id", Id, ForeignKey("organisations.id"), nullable=False),
    Column("agent_id", Id, ForeignKey("agents.id"), nullable=True),
    Column("kind", String(8), nullable=False),
    Column("status", Integer, nullable=True),
    Column("version", BigInteger, nullable=True),
    Column("due_ms", BigInteger, nullable=False),
    Column("claimed_until_ms", BigInteger, nullable=False, server_default="0"),
    Index("ix_deadlines_due", "due_ms"),
    Index("ix_deadlines_plan", "org_id", "kind", "status"),
)

# The phone system of an organisation (issue 15): how to reach it and how agents appear in
# it, and, written by the instance that holds the connection (the lease: ``holder`` until
# ``lease_until_ms``), how the connection is doing. The secret is encrypted like webhook
# secrets.
pbx_connections = Table(
    "pbx_connections",
    metadata,
    Column("org_id", Id, ForeignKey("organisations.id"), primary_key=True, autoincrement=False),
    Column("kind", String(16), nullable=False),
    Column("host", String(253), nullable=False),
    Column("port", Integer, nullable=False),
    Column("username", String(128), nullable=True),
    Column("secret_enc", Text, nullable=False),
    # A JSON list of queue names.
    Column("queues", Text, nullable=False),
    # Templates of {extension} and {user_id}: Asterisk's member interface and state
    # interface, FreeSWITCH's agent name and contact.
    Column("interface", String(256), nullable=False, server_default=""),
    Column("state_interface", String(256), nullable=False, server_default=""),
    Column("agent_name", String(256), nullable=False, server_default=""),
    Column("contact", String(256), nullable=False, server_default=""),
    Column("updated_ms", BigInteger, nullable=False),
    Column("holder", String(64), nullable=True),
    Column("lease_until_ms", BigInteger, nullable=False, server_default="0"),
    Column("connected", Boolean, nullable=False, server_default=false()),
    Column("connected_ms", BigInteger, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("last_error_ms", BigInteger, nullable=True),
    Column("reconcile_ms", BigInteger, nullable=True),
    Column("reconcile_checked", Integer, nullable=False, server_default="0"),
    Column("reconcile_repaired", Integer, nullable=False, server_default="0"),
    Column("repaired_total", Integer, nullable=False, server_default="0"),
    Column("commands_total", BigInteger, nullable=False, server_default="0"),
)

# The queue members agentstatus made at an organisation's Asterisk (issue 21): when the
# interface template or the queues change, the members made under the old settings are
# removed, and only those. ``endpoint`` is the phone system's host:port they were made at.
pbx_members = Table(
    "pbx_members",
    metadata,
    Column("org_id", Id, ForeignKey("organisations.id"), primary_key=True, autoincrement=False),
    Column("queue", String(80), primary_key=True),
    Column("interface", String(256), primary_key=True),
    Column("endpoint", String(300), nullable=False),
    Column("made_ms", BigInteger, nullable=False),
)

# The live calls of an organisation's extensions, as the phone system's channel events tell
# the instance holding the connection; emptied when the connection is lost (no phantom
# calls) and filled again from the phone system's channel list on reconnect.
pbx_calls = Table(
    "pbx_calls",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("org_id", Id, ForeignKey("organisations.id"), nullable=False),
    Column("call_id", String(64), nullable=False),
    Column("extension", String(128), nullable=False),
    Column("direction", String(8), nullable=False),
    Column("state", String(8), nullable=False),
    Column("caller_name", String(128), nullable=False, server_default=""),
    Column("caller_number", String(64), nullable=False, server_default=""),
    Column("dialled", String(64), nullable=False, server_default=""),
    Column("started_ms", BigInteger, nullable=False),
    Column("answered_ms", BigInteger, nullable=True),
    UniqueConstraint("org_id", "call_id", name="uq_pbx_calls_org_call"),
    Index("ix_pbx_calls_org_extension", "org_id", "extension"),
)

# An organisation's missed-calls rule (SPEC 8): after ``calls`` calls in a row offered to an
# agent and not answered, the agent goes to ``status``. No row: off. The running count is
# not kept here: it is read from the history (``storage.missed_calls``).
missed_calls = Table(
    "missed_calls",
    metadata,
    Column("org_id", Id, ForeignKey("organisations.id"), primary_key=True, autoincrement=False),
    Column("calls", Integer, nullable=False),
    Column("status", Integer, nullable=False),
)

# The phone of each extension as the phone system last said (issue 23): registered or
# unregistered, and since when. No row: unknown (never read). Kept by the instance holding
# the connection; like the live calls, not copied between databases.
phone_states = Table(
    "phone_states",
    metadata,
    Column("extension_id", Id, ForeignKey("extensions.id"), primary_key=True, autoincrement=False),
    Column("org_id", Id, ForeignKey("organisations.id"), nullable=False),
    Column("state", String(16), nullable=False),
    Column("since_ms", BigInteger, nullable=False),
    Index("ix_phone_states_org", "org_id"),
)

# Wrap-up (after-call work, SPEC 8) per organisation: mode off | timed | manual, the seconds
# of a timed one, and the status it puts agents in. No row: off.
wrap_up_settings = Table(
    "wrap_up_settings",
    metadata,
    Column("org_id", Id, ForeignKey("organisations.id"), primary_key=True, autoincrement=False),
    Column("mode", String(8), nullable=False),
    Column("seconds", Integer, nullable=True),
    Column("status", Integer, nullable=False),
)

# The wrap-up an agent is in: valid only while the agent's presence is at ``version`` (the
# change into wrap-up made it); any later change leaves the row stale, and so ends it.
wrap_ups = Table(
    "wrap_ups",
    metadata,
    Column("agent_id", Id, ForeignKey("agents.id"), primary_key=True, autoincrement=False),
    Column("org_id", Id, ForeignKey("organisations.id"), nullable=False),
    Column("version", BigInteger, nullable=False),
    Column("return_status", Integer, nullable=False),
    Column("started_ms", BigInteger, nullable=False),
    # When a timed wrap-up ends (its deadline's due_ms; a call ending meanwhile moves it).
    Column("due_ms", BigInteger, nullable=True),
)

# The status an agent asked for as next (applied when its call and wrap-up end): valid only
# while presence is at ``version``, so any applied change clears it.
next_statuses = Table(
    "next_statuses",
    metadata,
    Column("agent_id", Id, ForeignKey("agents.id"), primary_key=True, autoincrement=False),
    Column("org_id", Id, ForeignKey("organisations.id"), nullable=False),
    Column("version", BigInteger, nullable=False),
    Column("status", Integer, nullable=False),
    Column("source", String(16), nullable=False),
    Column("actor", String(320), nullable=True),
    Column("at_ms", BigInteger, nullable=False),
)

# A queue of the phone system as agentstatus numbers and weighs it (GetQueuesCallers' ID and
# Weight) and the wait its service level counts answers within; a row is made for a queue
# when it is first heard of, with the defaults.
queue_settings = Table(
    "queue_settings",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("org_id", Id, ForeignKey("organisations.id"), nullable=False),
    Column("name", String(128), nullable=False),
    Column("service_level_seconds", Integer, nullable=False),
    Column("weight", Integer, nullable=False),
    UniqueConstraint("org_id", "name", name="uq_queue_settings_org_id"),
)

# The callers waiting in a queue now: added by a queue.caller_joined, removed by the event
# that ends the wait (answered, abandoned, left), replaced by what a reconnect reads.
queue_callers = Table(
    "queue_callers",
    metadata,
    Column("org_id", Id, ForeignKey("organisations.id"), primary_key=True, autoincrement=False),
    Column("queue", String(128), primary_key=True),
    Column("call_id", String(128), primary_key=True),
    Column("phone", String(64), nullable=False),
    Column("joined_ms", BigInteger, nullable=False),
)

# A queue's figures of one day (the organisation's timezone), counted as its events are
# written: callers offered (joined), answered, abandoned, answered within the queue's
# service-level threshold as it was then, and the answered callers' waits summed.
queue_days = Table(
    "queue_days",
    metadata,
    Column("org_id", Id, ForeignKey("organisations.id"), primary_key=True, autoincrement=False),
    Column("queue", String(128), primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("offered", Integer, nullable=False),
    Column("answered", Integer, nullable=False),
    Column("abandoned", Integer, nullable=False),
    Column("answered_within", Integer, nullable=False),
    Column("answered_wait_ms", BigInteger, nullable=False),
)

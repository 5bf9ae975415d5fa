"""The phone-system connectors (Asterisk over AMI, FreeSWITCH over the event socket).

- ``config``: an organisation's phone system, validated (pure).
- ``seats``: what each agent should be at the phone system, from agentstatus's presence
  (pure), and the status a pause made at the phone means.
- ``ami``, ``esl``: small asyncio protocol clients, one outstanding request at a time.
- ``asterisk``, ``freeswitch``: the two phone systems behind one interface (``PhoneSystem``):
  read the members, apply a seat, report pauses and channel events.
- ``calls``: live calls from channel events (pure).
- ``link``: one organisation's connection: connect, reconcile, follow the history, act on
  the phone's events; ``manager``: the instance's leases and links.
"""

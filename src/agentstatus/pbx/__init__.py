"""The phone-system connectors (Asterisk over AMI, FreeSWITCH over the event socket).

The settings (``domain.pbx_config``), the seats an agent should hold (``domain.seats``)
and live calls (``domain.calls``) are pure and live in the domain.

- ``ami``, ``esl``: small asyncio protocol clients, one outstanding request at a time.
- ``asterisk``, ``freeswitch``: the two phone systems behind one interface (``PhoneSystem``):
  read the members, apply a seat, report pauses and channel events; ``connector``: what
  the two share (settings, counters, the checked TCP connection); ``asterisk_queues``,
  ``freeswitch_queues``: the callers in their queues (``domain.queues``), from each one's
  queue events and listing.
- ``link``: one organisation's connection: connect, reconcile, follow the history, act on
  the phone's events; ``manager``: the instance's leases and links.
"""

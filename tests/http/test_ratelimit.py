"""The failed-authentication limiter itself (``http.ratelimit``), with a clock the tests
move: windows, bursts, waiting, trusted Codes, client keys, bounds of memory."""

from __future__ import annotations

import asyncio

import pytest

from agentstatus.http.ratelimit import (
    UNLIMITED,
    FailedAuthLimiter,
    Refusal,
    Ticket,
    client_key,
)
from agentstatus.wire.outcomes import Row

LIMIT = 20


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def limiter(clock: Clock, **kwargs: object) -> FailedAuthLimiter:
    return FailedAuthLimiter(LIMIT, 60.0, clock, **kwargs)  # type: ignore[arg-type]


async def ticket(limiter: FailedAuthLimiter, address: str, code: str) -> Ticket:
    admitted = await limiter.admit(address, code)
    assert isinstance(admitted, Ticket), admitted
    return admitted


async def fail(limiter: FailedAuthLimiter, address: str, code: str = "wrong") -> None:
    await limiter.failed(await ticket(limiter, address, code))


async def test_limit_failures_then_429_until_the_window_closes_even_with_a_right_code() -> None:
    clock = Clock()
    lim = limiter(clock)
    for i in range(LIMIT):
        await fail(lim, "198.51.100.1", f"guess{i}")
        clock.now += 1
    refused = await lim.admit("198.51.100.1", "right")
    assert refused == Refusal(Row.RATE_LIMITED, 40)  # the window opened 20 s ago
    assert isinstance(await lim.admit("198.51.100.2", "right"), Ticket)  # others go on
    clock.now += 39.5
    assert await lim.admit("198.51.100.1", "right") == Refusal(Row.RATE_LIMITED, 1)
    clock.now += 0.5
    assert isinstance(await lim.admit("198.51.100.1", "right"), Ticket)


async def test_successes_and_unknown_outcomes_never_count() -> None:
    lim = limiter(Clock())
    for _ in range(100):
        lim.authenticated(await ticket(lim, "198.51.100.1", "right"))
        lim.abandoned(await ticket(lim, "198.51.100.1", "other"))
    for _ in range(LIMIT - 1):
        await fail(lim, "198.51.100.1")
    assert isinstance(await lim.admit("198.51.100.1", "fresh"), Ticket)
    assert lim.sizes()["pending"] == 1  # that last ticket, not settled


async def test_no_address_or_limit_zero_is_never_limited() -> None:
    lim = FailedAuthLimiter(0)
    assert await lim.admit("198.51.100.1", "x") is UNLIMITED
    assert await limiter(Clock()).admit(None, "x") is UNLIMITED
    await lim.failed(UNLIMITED)
    assert lim.sizes() == {"windows": 0, "queue": 0, "trusted": 0, "pending": 0}


async def test_a_burst_of_guesses_gets_limit_lookups_and_429_for_the_rest() -> None:
    lim = limiter(Clock())
    burst = [asyncio.ensure_future(lim.admit("198.51.100.9", f"guess{i}")) for i in range(1000)]
    await asyncio.sleep(0)
    admitted = [t.result() for t in burst if t.done()]
    assert len(admitted) == LIMIT  # the others wait for these to settle
    for ticket_ in admitted:
        assert isinstance(ticket_, Ticket)
        await lim.failed(ticket_)
    answers = await asyncio.gather(*burst)
    assert sum(isinstance(a, Ticket) for a in answers) == LIMIT
    assert answers.count(Refusal(Row.RATE_LIMITED, 60)) == 1000 - LIMIT
    assert lim.sizes()["pending"] == 0


async def test_a_burst_of_right_codes_waits_only_for_the_first_success() -> None:
    """A CRM sending 200 requests at once with its Code, before any has worked."""
    lim = limiter(Clock())
    burst = [asyncio.ensure_future(lim.admit("198.51.100.10", "crm-code")) for _ in range(200)]
    await asyncio.sleep(0)
    first = [t.result() for t in burst if t.done()]
    assert len(first) == LIMIT
    assert isinstance(first[0], Ticket)
    lim.authenticated(first[0])  # the Code works: nobody need wait any more
    await asyncio.sleep(0)
    answers = await asyncio.gather(*burst)
    assert all(isinstance(a, Ticket) for a in answers)
    reserved = [a for a in answers if isinstance(a, Ticket) and a.reserved]
    assert len(reserved) == LIMIT  # the first 20; the others went in as trusted
    for a in answers[1:]:
        assert isinstance(a, Ticket)
        lim.authenticated(a)
    assert lim.sizes()["pending"] == 0
    # Trusted from now on: never held, never waiting, however many at once.
    again = await asyncio.gather(*(lim.admit("198.51.100.10", "crm-code") for _ in range(500)))
    assert all(isinstance(a, Ticket) and not a.reserved for a in again)


async def test_a_trusted_code_is_still_refused_when_the_client_is_blocked() -> None:
    lim = limiter(Clock())
    lim.authenticated(await ticket(lim, "198.51.100.11", "right"))
    for _ in range(LIMIT):
        await fail(lim, "198.51.100.11")
    assert await lim.admit("198.51.100.11", "right") == Refusal(Row.RATE_LIMITED, 60)


async def test_a_wait_longer_than_max_wait_is_answered_row_11() -> None:
    lim = limiter(Clock(), max_wait_seconds=0.05)
    held = [await ticket(lim, "198.51.100.12", f"slow{i}") for i in range(LIMIT)]
    assert await lim.admit("198.51.100.12", "late") == Refusal(Row.UPDATE_FAILED, 1)
    for t in held:
        lim.abandoned(t)
    assert lim.sizes()["pending"] == 0
    assert isinstance(await lim.admit("198.51.100.12", "late"), Ticket)


async def test_a_cancelled_waiter_gives_back_what_it_was_handed() -> None:
    lim = limiter(Clock())
    held = [await ticket(lim, "198.51.100.13", f"g{i}") for i in range(LIMIT)]
    waiter = asyncio.ensure_future(lim.admit("198.51.100.13", "next"))
    await asyncio.sleep(0)
    lim.abandoned(held.pop())  # room for the waiter: handed to it...
    waiter.cancel()  # ...which is cancelled before it runs
    with pytest.raises(asyncio.CancelledError):
        await waiter
    for t in held:
        lim.abandoned(t)
    assert lim.sizes()["pending"] == 0


async def test_failures_while_lookups_are_in_flight_leave_room_for_exactly_the_limit() -> None:
    lim = limiter(Clock())
    for _ in range(15):
        await fail(lim, "198.51.100.14")
    in_flight = [asyncio.ensure_future(lim.admit("198.51.100.14", f"g{i}")) for i in range(50)]
    await asyncio.sleep(0)
    started = [task.result() for task in in_flight if task.done()]
    assert len(started) == LIMIT - 15
    for admitted in started:
        assert isinstance(admitted, Ticket)
        lim.abandoned(admitted)  # unknown outcomes: the room comes back, for the next five
    await asyncio.sleep(0)
    assert sum(task.done() for task in in_flight) == 2 * (LIMIT - 15)
    for task in in_flight:
        if not task.done():
            task.cancel()
    await asyncio.gather(*in_flight, return_exceptions=True)
    for task in in_flight:
        if not task.cancelled() and isinstance(handed := task.result(), Ticket):
            lim.abandoned(handed)
    assert lim.sizes()["pending"] == 0


async def test_with_instances_each_starts_only_its_share_of_the_room() -> None:
    lim = limiter(Clock())
    lim.set_instances(3)
    burst = [asyncio.ensure_future(lim.admit("198.51.100.15", f"g{i}")) for i in range(40)]
    await asyncio.sleep(0)
    assert sum(t.done() for t in burst) == 7  # ceil(20 / 3): three instances start <= 21
    lim.report(client_key("198.51.100.15"), 1, LIMIT, 30.0)  # another instance: blocked
    answers = await asyncio.gather(*[t for t in burst if not t.done()])
    assert set(answers) == {Refusal(Row.RATE_LIMITED, 30)}
    for t in burst[:7]:
        result = t.result()
        assert isinstance(result, Ticket)
        lim.abandoned(result)


async def test_reports_of_other_instances_count_by_window() -> None:
    clock = Clock()
    lim = limiter(clock)
    key = client_key("198.51.100.16")
    await fail(lim, "198.51.100.16")
    lim.report(key, 5000, 12, 59.0)  # the shared count of this window
    lim.report(key, 5000, 3, 59.0)  # an older, smaller count of it changes nothing
    for _ in range(LIMIT - 12 - 1):
        await fail(lim, "198.51.100.16")
    assert isinstance(await lim.admit("198.51.100.16", "x"), Ticket)
    lim.report(key, 4000, 50, 10.0)  # a window that closed before: ignored
    assert lim.retry_after("198.51.100.16") is None
    lim.report(key, 9000, LIMIT, 45.0)  # a newer window, already full
    assert lim.retry_after("198.51.100.16") == 45
    lim.report(client_key("198.51.100.17"), 9000, LIMIT, 0.0)  # already over: nothing
    assert lim.retry_after("198.51.100.17") is None


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("198.51.100.7", "198.51.100.7"),
        ("::ffff:198.51.100.7", "198.51.100.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2::ffff", "2001:db8:1:2::/64"),
        ("2001:DB8:1:2::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
        ("testclient", "testclient"),
    ],
)
def test_client_keys(address: str, key: str) -> None:
    assert client_key(address) == key


def test_long_or_odd_addresses_get_short_keys() -> None:
    assert len(client_key("x" * 500)) <= 64
    assert client_key("x" * 500) != client_key("y" * 500)
    assert len(client_key("a:" * 100)) <= 64


async def test_an_ipv6_64_shares_one_allowance() -> None:
    lim = limiter(Clock())
    for i in range(LIMIT):
        await fail(lim, f"2001:db8:5:6::{i + 1:x}")
    assert isinstance(await lim.admit("2001:db8:5:6:ffff::1", "x"), Refusal)
    assert isinstance(await lim.admit("2001:db8:5:7::1", "x"), Ticket)


async def test_memory_stays_bounded_past_max_addresses_and_the_oldest_is_forgotten() -> None:
    clock = Clock()
    lim = limiter(clock, max_addresses=1000)
    for i in range(5000):
        await fail(lim, f"10.0.{i // 256}.{i % 256}")
        lim.authenticated(await ticket(lim, f"10.1.{i // 256}.{i % 256}", "right"))
    sizes = lim.sizes()
    assert sizes["windows"] == 1000
    assert sizes["trusted"] == 1000
    assert sizes["queue"] <= 2000
    assert sizes["pending"] == 0
    assert lim.evicted == 4000
    clock.now += 61
    await lim.admit("10.9.9.9", "x")  # any call drops what has lapsed
    assert lim.sizes() == {"windows": 0, "queue": 0, "trusted": 0, "pending": 1}

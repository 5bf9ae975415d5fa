"""The outbound address policy: what it refuses by default, what the operator's networks
allow, and the URLs it accepts."""

from __future__ import annotations

import pytest

from agentstatus.outbound import OutboundPolicy, OutboundRefused, check_url

DEFAULT = OutboundPolicy()
LAN = OutboundPolicy.from_setting("192.168.10.0/24, 127.0.0.0/8")


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.0.9", "loopback"),
        ("::1", "loopback"),
        ("0.0.0.0", "unspecified"),  # noqa: S104 - an address judged, not bound
        ("::", "unspecified"),
        ("169.254.169.254", "link-local (cloud metadata)"),
        ("fe80::1", "link-local"),
        ("febf::1", "link-local"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:169.254.169.254", "link-local"),
        ("::ffff:0.0.0.0", "unspecified"),
        ("64:ff9b::7f00:1", "loopback"),  # NAT64 of 127.0.0.1
        ("::127.0.0.1", "IPv4-compatible"),
        ("10.1.2.3", "private"),
        ("172.31.255.255", "private"),
        ("192.168.1.1", "private"),
        ("fd00:ec2::254", "unique local"),  # a cloud's IPv6 metadata address
        ("100.100.100.200", "carrier-grade NAT"),  # another cloud's metadata address
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("255.255.255.255", "broadcast"),
        ("240.0.0.1", "reserved"),
        ("192.0.2.10", "documentation"),
        ("2001:db8::1", "documentation"),
        ("198.18.0.1", "benchmarking"),
        ("2002:7f00:1::", "6to4"),
    ],
)
def test_refused_by_default(address: str, reason: str) -> None:
    refusal = DEFAULT.refusal(address)
    assert refusal is not None
    assert reason in refusal
    with pytest.raises(OutboundRefused, match="outbound address policy"):
        DEFAULT.check_address(address)


@pytest.mark.parametrize(
    "address", ["93.184.215.14", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"]
)
def test_public_addresses_are_allowed(address: str) -> None:
    assert DEFAULT.refusal(address) is None


def test_allowed_networks_win_over_the_refusals_and_only_theirs() -> None:
    assert LAN.refusal("192.168.10.7") is None
    assert LAN.refusal("127.0.0.1") is None
    assert LAN.refusal("::ffff:127.0.0.1") is None  # judged as the IPv4 address it carries
    assert LAN.refusal("192.168.11.7") is not None
    assert LAN.refusal("::1") is not None  # 127.0.0.0/8 is IPv4 loopback only
    assert LAN.refusal("169.254.169.254") is not None


def test_a_scoped_address_is_refused_even_when_allowed() -> None:
    allowed = OutboundPolicy.from_setting("fe80::/10")
    assert allowed.refusal("fe80::1") is None
    refusal = allowed.refusal("fe80::1%eth0")
    assert refusal is not None
    assert "zone" in refusal


@pytest.mark.parametrize(
    "url",
    [
        "http://2130706433/",
        "http://0x7f.1/",
        "http://0x7f000001/",
        "http://017700000001/",
        "http://0177.0.0.1/",
        "http://127.1/",
        "http://127.0.0.1./",
        "http://1.2.3.4.5/",
        "http://8.8.8.0x8/",
    ],
)
def test_odd_numeric_hosts_are_refused(url: str) -> None:
    with pytest.raises(OutboundRefused, match="four decimal numbers"):
        check_url(url, LAN)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://user:s3cret@crm.example/hook", "user name or password"),
        ("http://s3cret@crm.example/hook", "user name or password"),
        ("http://127.0.0.1:8000/hook", "loopback"),
        ("http://[::1]:8000/hook", "loopback"),
        ("http://[::ffff:127.0.0.1]/hook", "loopback"),
        ("http://[::ffff:7f00:1]/hook", "loopback"),
        ("https://169.254.169.254/latest/meta-data/", "cloud metadata"),
        ("http://0.0.0.0:8000/", "unspecified"),
        ("http://[fe80::1%25eth0]/", "zone"),
        ("ftp://crm.example/", "http:// or https://"),
        ("http:///hook", "http:// or https://"),
        ("http://crm.example:0/", "port"),
        ("http://[::1/", "cannot be parsed"),
        ("http://crm.example/\x00", "printable"),
        ("http://crm exa.mple/", "valid host name"),
        ("http://" + "a" * 2050 + ".example/", "2048"),
    ],
)
def test_refused_urls_say_why_without_repeating_the_url(url: str, message: str) -> None:
    with pytest.raises(OutboundRefused) as refused:
        check_url(url, DEFAULT)
    assert message in str(refused.value)
    assert "s3cret" not in str(refused.value)
    assert "hook" not in str(refused.value)


@pytest.mark.parametrize(
    "url",
    [
        "https://crm.example/hook?token=abc",
        "http://localhost:8000/hook",  # a name: judged on each address it resolves to
        "https://bücher.example/hook",
        "http://93.184.215.14/hook",
        "http://[2606:4700:4700::1111]:8443/hook",
        "  https://crm.example/hook  ",
    ],
)
def test_accepted_urls(url: str) -> None:
    assert check_url(url, DEFAULT) == url.strip()


def test_allowed_literals_are_accepted() -> None:
    assert check_url("http://127.0.0.1:9/hook", LAN) == "http://127.0.0.1:9/hook"
    assert check_url("http://192.168.10.5/crm", LAN) == "http://192.168.10.5/crm"

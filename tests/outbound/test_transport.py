"""The outbound client against real receivers on loopback: the policy holds on the address
actually connected to, whatever the URL says and whatever the environment holds."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from agentstatus.outbound import OutboundPolicy, OutboundRefused, outbound_client
from agentstatus.outbound.transport import GuardedBackend
from tests.support.receiver import LOOPBACK, Receiver


def post(policy: OutboundPolicy, url: str) -> httpx.Response:
    async def send() -> httpx.Response:
        async with outbound_client(policy, timeout=5) as client:
            return await client.post(url, content=b"{}")

    return asyncio.run(send())


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver(verify=False) as receiver:
        yield receiver


def on(receiver: Receiver, host: str) -> str:
    return receiver.url.replace("127.0.0.1", host)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "127.1", "2130706433", "0x7f.1"])
def test_loopback_is_refused_by_default_however_it_is_written(
    receiver: Receiver, host: str
) -> None:
    """Names and the numeric forms are resolved here (inet_aton reads ``127.1``), and the
    address that would be connected to is what is judged."""
    with pytest.raises(OutboundRefused, match="loopback"):
        post(OutboundPolicy(), on(receiver, host))
    assert receiver.received == []


def test_an_allowed_name_is_connected_to_by_the_address_checked(receiver: Receiver) -> None:
    answer = post(LOOPBACK, on(receiver, "localhost"))
    assert answer.status_code == 200
    (got,) = receiver.received
    # Connected to 127.0.0.1, but the request still names the URL's host.
    assert got.headers["Host"] == f"localhost:{receiver.server.server_address[1]}"


def test_a_name_with_one_refused_address_is_refused() -> None:
    """``localhost`` is 127.0.0.1 and ::1 here; only 127.0.0.0/8 is allowed."""
    if len({info[4][0] for info in socket.getaddrinfo("localhost", 80)}) < 2:
        pytest.skip("localhost has one address on this machine")
    backend = GuardedBackend(LOOPBACK)
    try:
        with pytest.raises(OutboundRefused, match="::1 is loopback"):
            asyncio.run(backend.resolve("localhost", 80))
    finally:
        backend.close()


def test_proxy_and_netrc_settings_of_the_environment_are_not_read(
    receiver: Receiver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed = f"http://127.0.0.1:{_closed_port()}"
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login someone password s3cret\n")
    netrc.chmod(0o600)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
        monkeypatch.setenv(name, closed)
    monkeypatch.setenv("NO_PROXY", "")
    monkeypatch.setenv("NETRC", str(netrc))
    assert post(LOOPBACK, receiver.url).status_code == 200  # not through the closed proxy
    (got,) = receiver.received
    assert "Authorization" not in got.headers


def test_redirects_are_not_followed(tmp_path: Path) -> None:
    """A 3xx is the receiver's answer (a failed attempt), never a second request."""
    with Receiver(respond=lambda n: 307, verify=False) as receiver:
        answer = post(LOOPBACK, receiver.url)
    assert answer.status_code == 307
    assert len(receiver.received) == 1


def test_tls_names_the_url_host_not_the_address(tmp_path: Path) -> None:
    """SNI and certificate checks use the URL's name although the connection is made to
    the checked address: the server sees ``localhost`` as the server name."""
    seen: list[str | None] = []
    context = _tls_server_context(tmp_path)
    context.sni_callback = lambda sock, name, ctx: seen.append(name)
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]

        def accept() -> None:
            conn, _ = listener.accept()
            # The client gives up in the handshake, as it must.
            with conn, contextlib.suppress(OSError):
                context.wrap_socket(conn, server_side=True).close()

        thread = threading.Thread(target=accept, daemon=True)
        thread.start()
        # The certificate is its own issuer, not in certifi's bundle: refused, after the
        # handshake has named the host.
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            post(LOOPBACK, f"https://localhost:{port}/hook")
        thread.join(5)
    assert seen == ["localhost"]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _tls_server_context(tmp_path: Path) -> ssl.SSLContext:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    return context

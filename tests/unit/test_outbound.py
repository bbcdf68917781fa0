"""The outbound guard (tmfstack.net): address rules, and real calls to real local servers.

Servers here are real sockets on loopback: refusals are proven by a listening socket that
counts the connections it accepts (none), and by the time a refusal takes (no hang).
"""

from __future__ import annotations

import datetime
import gzip
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpcore
import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.listener import Listener
from tmfstack.errors import BadRequest
from tmfstack.net.outbound import (
    AddressPolicy,
    DeadlineExceeded,
    DestinationNotAllowed,
    GuardedBackend,
    TooLarge,
    check_destination,
    fetch,
    guarded_client,
    literal_ip,
)

pytestmark = pytest.mark.anyio
STRICT = AddressPolicy()
LOOPBACK = AddressPolicy.parse("127.0.0.0/8, ::1/128")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # the guard resolves names with asyncio's loop.getaddrinfo


# -- the address rules --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "policy", "why"),
    [
        ("8.8.8.8", "", None),
        ("2606:4700:4700::1111", "", None),
        ("127.0.0.1", "", "loopback"),
        ("127.0.0.1", "127.0.0.0/8", None),
        ("127.0.0.2", "127.0.0.2/32", None),
        ("127.0.0.1", "127.0.0.2/32", "loopback"),
        ("::1", "", "loopback"),
        ("::1", "127.0.0.0/8", "loopback"),
        ("::1", "::1/128", None),
        ("10.1.2.3", "", "private"),
        ("10.1.2.3", "10.1.0.0/16", None),
        ("172.16.0.1", "", "private"),
        ("192.168.1.1", "", "private"),
        ("fd12::1", "", "private"),
        ("fe80::1", "", "link-local"),
        ("169.254.1.1", "", "link-local"),
        ("100.64.0.1", "", "shared address space"),
        ("0.0.0.0", "", "unspecified"),
        ("::", "", "unspecified"),
        ("224.0.0.1", "", "multicast"),
        ("ff02::1", "", "multicast"),
        ("240.0.0.1", "", "reserved"),
        ("255.255.255.255", "", "reserved"),
        ("198.18.0.1", "", "private"),
        # cloud metadata: forbidden even inside a broad allowed range, open only when named exactly
        ("169.254.169.254", "", "cloud metadata service"),
        ("169.254.169.254", "169.254.0.0/16", "cloud metadata service"),
        ("169.254.169.254", "0.0.0.0/0", "cloud metadata service"),
        ("169.254.169.254", "169.254.169.254/32", None),
        ("168.63.129.16", "", "cloud metadata service"),
        ("100.100.100.200", "100.64.0.0/10", "cloud metadata service"),
        ("fd00:ec2::254", "fd00::/8", "cloud metadata service"),
        ("fd00:ec2::254", "fd00:ec2::254/128", None),
        # IPv4 carried in IPv6: judged by the IPv4
        ("::ffff:127.0.0.1", "", "loopback"),
        ("::ffff:127.0.0.1", "127.0.0.0/8", None),
        ("::ffff:8.8.8.8", "", None),
        ("::ffff:169.254.169.254", "", "cloud metadata service"),
        ("::127.0.0.1", "", "loopback"),
        ("::10.0.0.1", "", "private"),
        ("64:ff9b::127.0.0.1", "", "loopback"),
        ("64:ff9b::a9fe:a9fe", "", "cloud metadata service"),
        ("64:ff9b::8.8.8.8", "", None),
        ("64:ff9b:1::1", "", "reserved"),
        ("2002:7f00:1::1", "", "6to4 of 127.0.0.1: loopback"),
        ("2002:a9fe:a9fe::1", "", "6to4 of 169.254.169.254: cloud metadata service"),
        ("2002:808:808::1", "", None),
        ("2001::1", "", "private"),  # Teredo
    ],
)
def test_policy_table(address: str, policy: str, why: str | None) -> None:
    rules = AddressPolicy.parse(policy)
    assert rules.refusal(address) == why
    assert rules.allowed(address) is (why is None)
    assert rules.allowed(ipaddress.ip_address(address)) is (why is None)


def test_policy_parse() -> None:
    assert AddressPolicy.parse("") == AddressPolicy()
    assert AddressPolicy.parse(" , ") == AddressPolicy()
    parsed = AddressPolicy.parse(" 10.0.0.0/8 ,::1/128,192.168.1.5")
    assert [str(n) for n in parsed.allowed_networks] == ["10.0.0.0/8", "::1/128", "192.168.1.5/32"]
    for bad in ("10.0.0.0/33", "localhost", "10.0.0.0/8, 300.1.1.1", "::1/129"):
        with pytest.raises(ValueError, match="not a CIDR") as caught:
            AddressPolicy.parse(bad)
        assert bad.split(", ")[-1] in str(caught.value)


NON_PUBLIC_V4 = [
    ipaddress.ip_network(n)
    for n in (
        *("0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12"),
        *("192.168.0.0/16", "224.0.0.0/4", "240.0.0.0/4", "198.18.0.0/15", "192.0.0.0/24"),
    )
]


@given(st.sampled_from(NON_PUBLIC_V4).flatmap(lambda net: st.ip_addresses(network=net)))
def test_non_public_ipv4_is_refused_in_every_spelling(ip: ipaddress.IPv4Address) -> None:
    for form in (ip, f"::ffff:{ip}", f"64:ff9b::{ip}", f"::{ip}", f"2002:{int(ip) >> 16:x}:{int(ip) & 0xFFFF:x}::1"):
        assert STRICT.refusal(form) is not None, form


@given(st.ip_addresses(v=4))
def test_ipv4_in_ipv6_gets_the_ipv4_verdict(ip: ipaddress.IPv4Address) -> None:
    for policy in (STRICT, LOOPBACK, AddressPolicy.parse("10.0.0.0/8")):
        verdict = policy.allowed(ip)
        assert policy.allowed(f"::ffff:{ip}") is verdict
        assert policy.allowed(f"64:ff9b::{ip}") is verdict
        if int(ip) > 1:
            assert policy.allowed(f"::{ip}") is verdict
        if policy.allowed(f"2002:{int(ip) >> 16:x}:{int(ip) & 0xFFFF:x}::1"):
            assert verdict


@given(st.ip_addresses(network="10.0.0.0/8"), st.ip_addresses(network="10.0.0.0/8"))
def test_an_allowed_cidr_opens_exactly_its_addresses(one: ipaddress.IPv4Address, other: ipaddress.IPv4Address) -> None:
    assert AddressPolicy.parse("10.0.0.0/8").allowed(other)
    single = AddressPolicy.parse(f"{one}/32")
    assert single.allowed(one)
    assert single.allowed(other) is (other == one)


@pytest.mark.parametrize(
    ("host", "ip"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0X7F.0.0.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),
        ("[::1]", "::1"),
        ("::ffff:127.0.0.1", "::ffff:127.0.0.1"),
        ("169.254.169.254.", "169.254.169.254"),
        ("example.com", None),
        ("deadbeef", None),
        ("face.cafe", None),
    ],
)
def test_literal_ip_spellings(host: str, ip: str | None) -> None:
    assert literal_ip(host) == (None if ip is None else ipaddress.ip_address(ip))


@pytest.mark.parametrize(
    ("url", "code", "words"),
    [
        ("https://hooks.example.com/tmf", None, None),
        ("http://8.8.8.8:8080/x", None, None),
        ("http://[2606:4700::1111]/x", None, None),
        ("ftp://example.com/x", "INVALID_URL", "http"),
        ("file:///etc/passwd", "INVALID_URL", "http"),
        ("/relative/path", "INVALID_URL", "http"),
        ("not a url", "INVALID_URL", "http"),
        ("http://", "INVALID_URL", "no host"),
        ("http://:80/x", "INVALID_URL", "no host"),
        ("http://example.com:99999/x", "INVALID_URL", "malformed"),
        ("http://[::1/x", "INVALID_URL", "malformed"),
        ("http://user:secret@example.com/x", "INVALID_URL", "credentials"),
        ("http://token@example.com/x", "INVALID_URL", "credentials"),
        ("http://:pw@example.com/x", "INVALID_URL", "credentials"),
        ("http://127.0.0.1:9/x", "DESTINATION_NOT_ALLOWED", "127.0.0.1 is not allowed (loopback)"),
        ("http://127.1/x", "DESTINATION_NOT_ALLOWED", "loopback"),
        ("http://0x7f000001/x", "DESTINATION_NOT_ALLOWED", "loopback"),
        ("http://2130706433/x", "DESTINATION_NOT_ALLOWED", "loopback"),
        ("http://[::1]/x", "DESTINATION_NOT_ALLOWED", "loopback"),
        ("http://[::ffff:127.0.0.1]/x", "DESTINATION_NOT_ALLOWED", "loopback"),
        ("http://[::ffff:7f00:1]/x", "DESTINATION_NOT_ALLOWED", "loopback"),
        ("http://localhost:8080/x", "DESTINATION_NOT_ALLOWED", "loopback"),
        ("http://LocalHost./x", "DESTINATION_NOT_ALLOWED", "loopback"),
        ("http://api.localhost/x", "DESTINATION_NOT_ALLOWED", "loopback"),
        ("http://169.254.169.254/latest/meta-data/", "DESTINATION_NOT_ALLOWED", "metadata"),
        ("http://10.0.0.7/x", "DESTINATION_NOT_ALLOWED", "private"),
        ("http://[fe80::1%25eth0]/x", "DESTINATION_NOT_ALLOWED", "link-local"),
    ],
)
def test_check_destination(url: str, code: str | None, words: str | None) -> None:
    if code is None:
        check_destination(url, STRICT)
        return
    with pytest.raises(BadRequest) as caught:
        check_destination(url, STRICT)
    assert caught.value.code == code and caught.value.status == 400
    assert words is not None and words in caught.value.message
    assert "secret" not in caught.value.message


def test_check_destination_follows_the_policy_and_the_callers_code() -> None:
    check_destination("http://127.0.0.1:9/x", LOOPBACK)
    check_destination("http://localhost:9/x", LOOPBACK)
    with pytest.raises(BadRequest) as caught:
        check_destination("http://169.254.169.254/", AddressPolicy.parse("169.254.0.0/16"))
    assert caught.value.code == "DESTINATION_NOT_ALLOWED"
    with pytest.raises(BadRequest) as caught:
        check_destination("gopher://x/", STRICT, code="INVALID_CALLBACK")
    assert caught.value.code == "INVALID_CALLBACK"


# -- real servers ----------------------------------------------------------------------------


class Counter:
    """A listening socket that accepts and counts connections: proof that none was attempted."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.bind((host, 0))
        self.sock.listen(16)
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()


@pytest.fixture
def counter() -> Iterator[Counter]:
    c = Counter()
    yield c
    c.close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/redirect":
            self._answer(302, b"", (("Location", query["to"]),))
        elif url.path == "/big":
            self._answer(200, b"x" * int(query.get("n", "10000")))
        elif url.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for _ in range(10):
                self.wfile.write(b"3e8\r\n" + b"y" * 1000 + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        elif url.path == "/gzip":  # 5 MB of zeros in a few kB
            self._answer(200, gzip.compress(b"\0" * 5_000_000), (("Content-Encoding", "gzip"),))
        elif url.path == "/slow":
            time.sleep(float(query.get("s", "3")))
            self._answer(200, b"late")
        else:
            self._answer(200, b"ok")

    def _answer(self, status: int, body: bytes, headers: tuple[tuple[str, str], ...] = ()) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False


@contextmanager
def serve(host: str = "127.0.0.1", tls: ssl.SSLContext | None = None) -> Iterator[str]:
    """A real HTTP(S) server on ``host``; yields its base URL."""
    server = _Server((host, 0), _Handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"{'https' if tls else 'http'}://{host}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


async def test_loopback_listener_refused_by_default_reached_when_allowed() -> None:
    with Listener() as listener:
        async with guarded_client(STRICT, timeout=2) as client:
            with pytest.raises(DestinationNotAllowed, match=r"destination 127\.0\.0\.1 is not allowed \(loopback\)"):
                await client.post(listener.url, json={"a": 1})
        assert listener.requests == []
        async with guarded_client(LOOPBACK, timeout=2) as client:
            answer = await fetch(client, "POST", listener.url, content=b'{"a": 1}', limit=100, deadline=5)
        assert answer.status == 201
        assert listener.bodies == [{"a": 1}]


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "localhost", "0x7f000001", "2130706433", "127.1", "017700000001", "[::ffff:127.0.0.1]", "[::1]"],
)
async def test_loopback_spellings_refused_before_connecting(counter: Counter, host: str) -> None:
    started = time.monotonic()
    async with guarded_client(STRICT, timeout=1) as client:
        with pytest.raises(httpx.HTTPError) as caught:
            await fetch(client, "GET", f"http://{host}:{counter.port}/", limit=100, deadline=2)
    assert isinstance(caught.value, DestinationNotAllowed), caught.value
    assert "loopback" in str(caught.value)
    assert caught.value.request.url.port == counter.port
    assert time.monotonic() - started < 0.5
    assert counter.accepted == 0


@pytest.mark.parametrize("host", ["169.254.169.254", "[fd00:ec2::254]", "100.100.100.200", "10.255.255.1", "0.0.0.0"])
async def test_non_public_destinations_refused_without_waiting(host: str) -> None:
    started = time.monotonic()
    async with guarded_client(STRICT, timeout=5) as client:
        with pytest.raises(DestinationNotAllowed, match="is not allowed"):
            await client.get(f"http://{host}/latest/meta-data/")
    assert time.monotonic() - started < 0.5  # no connect attempt, which would wait for its timeout


async def test_the_socket_goes_to_the_checked_address_not_the_name() -> None:
    seen: list[str] = []

    class Recording(httpcore.AnyIOBackend):
        async def connect_tcp(self, host: str, port: int, *args: Any, **kwargs: Any) -> httpcore.AsyncNetworkStream:
            seen.append(host)
            return await super().connect_tcp(host, port, *args, **kwargs)

    with Listener() as listener:
        backend = GuardedBackend(LOOPBACK, inner=Recording())
        async with httpcore.AsyncConnectionPool(network_backend=backend) as pool:
            response = await pool.request("POST", f"http://localhost:{listener.port}/x", content=b"{}")
    assert response.status == 201
    assert seen and all(ipaddress.ip_address(h).is_loopback for h in seen)


async def test_a_redirect_to_a_forbidden_address_is_refused(counter: Counter) -> None:
    only_two = AddressPolicy.parse("127.0.0.2/32")
    with serve("127.0.0.2") as base:
        async with guarded_client(only_two, timeout=2, follow_redirects=True) as client:
            fine = await fetch(client, "GET", f"{base}/redirect?to={base}/ok", limit=100, deadline=5)
            assert (fine.status, fine.body, fine.url) == (200, b"ok", f"{base}/ok")
            evil = f"http://127.0.0.1:{counter.port}/"
            with pytest.raises(DestinationNotAllowed, match=r"127\.0\.0\.1 is not allowed \(loopback\)"):
                await fetch(client, "GET", f"{base}/redirect?to={evil}", limit=100, deadline=5)
            with pytest.raises(httpx.UnsupportedProtocol):
                await fetch(client, "GET", f"{base}/redirect?to=file:///etc/passwd", limit=100, deadline=5)
        async with guarded_client(only_two, timeout=2) as client:  # redirects not followed by default
            assert (await fetch(client, "GET", f"{base}/redirect?to={evil}", limit=100, deadline=5)).status == 302
    assert counter.accepted == 0


async def test_redirects_are_limited() -> None:
    with serve("127.0.0.1") as base:
        loop = f"{base}/redirect?to={base}/redirect%3Fto%3D{base}/ok"
        async with guarded_client(LOOPBACK, follow_redirects=True, max_redirects=1) as client:
            with pytest.raises(httpx.TooManyRedirects):
                await fetch(client, "GET", loop, limit=100, deadline=5)


async def test_size_cap() -> None:
    with serve() as base:
        async with guarded_client(LOOPBACK, timeout=2) as client:
            assert (await fetch(client, "GET", f"{base}/big?n=1000", limit=1000, deadline=5)).body == b"x" * 1000
            with pytest.raises(TooLarge, match="declares 1001 bytes"):  # refused on its Content-Length
                await fetch(client, "GET", f"{base}/big?n=1001", limit=1000, deadline=5)
            with pytest.raises(TooLarge, match="larger than 4096"):  # no Content-Length: counted
                await fetch(client, "GET", f"{base}/chunked", limit=4096, deadline=5)
            cut = await fetch(client, "GET", f"{base}/chunked", limit=4096, deadline=5, truncate=True)
            assert (cut.status, cut.body) == (200, b"y" * 4096)
            with pytest.raises(TooLarge):  # inflated only up to the cap
                await fetch(client, "GET", f"{base}/gzip", limit=1 << 20, deadline=5)
            assert len((await fetch(client, "GET", f"{base}/gzip", limit=6_000_000, deadline=5)).body) == 5_000_000
            assert (await fetch(client, "GET", f"{base}/ok", limit=100, deadline=5)).body == b"ok"  # pool still fine


async def test_whole_call_deadline() -> None:
    with serve() as base:
        async with guarded_client(LOOPBACK, timeout=10) as client:
            started = time.monotonic()
            with pytest.raises(DeadlineExceeded, match=r"within 0\.5 s") as caught:
                await fetch(client, "GET", f"{base}/slow?s=3", limit=100, deadline=0.5)
            assert time.monotonic() - started < 2
            assert isinstance(caught.value, httpx.TimeoutException)


async def test_no_proxy_from_the_environment(monkeypatch: pytest.MonkeyPatch, counter: Counter) -> None:
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{counter.port}")
    monkeypatch.setenv("ALL_PROXY", f"http://127.0.0.1:{counter.port}")
    with serve("127.0.0.2") as base:
        async with guarded_client(AddressPolicy.parse("127.0.0.2/32"), timeout=2) as client:
            assert (await fetch(client, "GET", f"{base}/ok", limit=10, deadline=5)).body == b"ok"
    assert counter.accepted == 0


# -- TLS: the socket goes to the checked IP, the certificate is verified against the name ------


def _tls_pair(folder: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server context with a certificate for "localhost", client context trusting its test CA)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)

    def cert(subject: str, key: Any, issuer: str, signer: Any, ca: bool) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        return builder.sign(signer, hashes.SHA256())

    ca_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = cert("test CA", ca_key, "test CA", ca_key, True)
    leaf = cert("localhost", leaf_key, "test CA", ca_key, False)
    pem = serialization.Encoding.PEM
    (folder / "ca.pem").write_bytes(ca.public_bytes(pem))
    (folder / "leaf.pem").write_bytes(leaf.public_bytes(pem))
    (folder / "key.pem").write_bytes(
        leaf_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(folder / "leaf.pem", folder / "key.pem")
    return server, ssl.create_default_context(cafile=str(folder / "ca.pem"))


async def test_tls_is_verified_against_the_host_name(tmp_path: Path) -> None:
    server_tls, client_tls = _tls_pair(tmp_path)
    with serve("127.0.0.1", tls=server_tls) as base:
        port = urlsplit(base).port
        async with guarded_client(LOOPBACK, timeout=2, verify=client_tls) as client:
            answer = await fetch(client, "GET", f"https://localhost:{port}/ok", limit=10, deadline=5)
            assert (answer.status, answer.body) == (200, b"ok")
            with pytest.raises(httpx.ConnectError, match=r"(?i)certificate"):  # same socket, wrong name
                await fetch(client, "GET", f"https://127.0.0.1:{port}/ok", limit=10, deadline=5)
        async with guarded_client(LOOPBACK, timeout=2) as client:  # the system CAs do not know the test CA
            with pytest.raises(httpx.ConnectError, match=r"(?i)certificate"):
                await fetch(client, "GET", f"https://localhost:{port}/ok", limit=10, deadline=5)

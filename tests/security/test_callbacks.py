"""Hub callbacks cannot be turned against the operator or leak what they carry: no callback to
the server itself (registration and delivery, even with private callbacks allowed), no secrets
shown to operators, no listener's answer stored, a bounded number of hubs per client, and
every delivery signed with the hub's own secret."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.support.listener import Listener
from tests.support.polling import wait_until
from tests.support.security import Caller, Secured
from tmfstack.settings import Settings
from tmfstack.web.app import create_app

CATALOG = "/tmf-api/productCatalogManagement/v4"
HUB = f"{CATALOG}/hub"
PO = f"{CATALOG}/productOffering"
LOOPBACK = "127.0.0.0/8,::1/128"


@contextmanager
def app(settings: Settings, **changes: Any) -> Iterator[Secured]:
    with TestClient(create_app(dataclasses.replace(settings, **changes))) as client:
        yield Secured(client)


def deliveries(ops: Caller, until: Any, host: str = "testserver", timeout: float = 10.0) -> list[dict[str, Any]]:
    rows = wait_until(
        lambda: ops.get("/admin/deliveries", headers={"Host": host}).json(), until, timeout, "deliveries got there"
    )
    return list(rows)


def offering(ops: Caller, name: str) -> None:
    assert ops.post(PO, json={"name": name}).status_code == 201


# -- the server itself -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "callback",
    [
        "http://127.0.0.1:8080/tmf-api/productCatalogManagement/v4/productOffering",  # where it listens
        "http://localhost:8080/x",
        "http://LOCALHOST.:8080/x",
        "http://[::1]:8080/x",
        "http://[::ffff:127.0.0.1]:8080/x",
        "http://127.1:8080/x",
        "http://testserver/tmf-api/productCatalogManagement/v4/productOffering",  # its public URL
    ],
)
def test_a_callback_to_the_server_itself_is_refused_even_with_private_callbacks(
    secure_settings: Settings, callback: str
) -> None:
    with app(secure_settings, allow_private_callbacks=LOOPBACK) as secured:
        ops = secured.login("ops", ["operator"])
        r = ops.post(HUB, json={"callback": callback})
        assert r.status_code == 400, r.text
        assert r.json()["code"] == "DESTINATION_NOT_ALLOWED"
        assert "this server" in r.json()["message"]
        # the same host on another port is somebody else: allowed (private callbacks are)
        if callback.startswith("http://127.0.0.1:8080"):
            assert ops.post(HUB, json={"callback": "http://127.0.0.1:8081/x"}).status_code == 201


@pytest.mark.parametrize(
    "callback",
    [
        "http://api.example.net:8443/x",  # an address the operator declared (TMFSTACK_OWN_URLS)
        "https://bss.example.org/x",  # a Host it serves (TMFSTACK_ALLOWED_HOSTS): every port
        "https://bss.example.org:9999/x",
    ],
)
def test_a_callback_to_a_declared_own_address_is_refused(secure_settings: Settings, callback: str) -> None:
    changes = {"own_urls": "api.example.net:8443", "allowed_hosts": "testserver,bss.example.org"}
    with app(secure_settings, **changes) as secured:
        r = secured.login("ops", ["operator"]).post(HUB, json={"callback": callback})
        assert r.status_code == 400 and r.json()["code"] == "DESTINATION_NOT_ALLOWED", r.text


def test_a_stored_callback_to_the_server_itself_is_refused_when_delivering(
    secure_settings: Settings, listener: Listener
) -> None:
    # registered while the server listened elsewhere; now it listens where the callback points
    # (or a name registered then resolves to it now): the dispatcher refuses on the address
    with app(secure_settings, allow_private_callbacks=LOOPBACK) as secured:
        ops = secured.login("ops", ["operator"])
        assert ops.post(HUB, json={"callback": listener.url}).status_code == 201
    moved = {"public_url": f"http://127.0.0.1:{listener.port}", "allow_private_callbacks": LOOPBACK}
    with app(secure_settings, **moved) as secured:
        ops = secured.login("ops2", ["operator"])
        offering(ops, "Storm seed")
        [row] = deliveries(ops, lambda rows: rows and rows[0]["last_error"], host="127.0.0.1")
        assert row["last_error"] == "destination not allowed (own address)"
        assert listener.requests == []


def _loopback_alias() -> str | None:
    """This machine's name when it resolves to 127.0.0.1 only (it does on many hosts)."""
    name = socket.gethostname()
    try:
        found = {i[4][0] for i in socket.getaddrinfo(name, 80, type=socket.SOCK_STREAM)}
    except OSError:
        return None
    return name if found == {"127.0.0.1"} else None


def test_another_name_for_the_server_is_refused_when_delivering(secure_settings: Settings, listener: Listener) -> None:
    alias = _loopback_alias()
    if alias is None:
        pytest.skip("this machine's name does not resolve to 127.0.0.1 alone")
    changes = {"public_url": f"http://127.0.0.1:{listener.port}", "allow_private_callbacks": LOOPBACK}
    with app(secure_settings, **changes) as secured:
        ops = secured.login("ops", ["operator"])
        r = ops.post(HUB, json={"callback": f"http://{alias}:{listener.port}/loop"})
        assert r.status_code == 201, r.text  # a name is judged on the address it resolves to
        offering(ops, "Storm seed")
        [row] = deliveries(ops, lambda rows: rows and rows[0]["last_error"], host="127.0.0.1")
        assert row["last_error"] == "destination not allowed (own address)"
        assert listener.requests == []


# -- what operators see ------------------------------------------------------------------------


def test_admin_listing_redacts_callback_secrets_and_shows_no_answer_text(
    secure_settings: Settings, listener: Listener
) -> None:
    listener.fail()  # answers 500 with a body of its own
    with app(secure_settings, allow_private_callbacks=LOOPBACK) as secured:
        ops = secured.login("ops", ["operator"])
        callback = f"{listener.url}?token=s3cr3t-t0ken&tenant=acme"
        r = ops.post(HUB, json={"callback": callback})
        assert r.status_code == 201, r.text
        hub_secret = r.headers["X-Tmf-Hub-Secret"]
        # the owner reads its hub back as registered, but never the signing secret again
        got = ops.get(f"{HUB}/{r.json()['id']}")
        assert got.json()["callback"] == callback and hub_secret not in got.text
        offering(ops, "Leaky")
        listener.wait_requests(1)
        rows = deliveries(ops, lambda rows: rows and rows[0]["last_error"])
        text = ops.get("/admin/deliveries").text
        for leak in ("s3cr3t-t0ken", "acme", "listener told to fail", hub_secret):
            assert leak not in text
        assert rows[0]["callback"] == f"{listener.url}?token=REDACTED&tenant=REDACTED"
        assert rows[0]["last_error"] == "HTTP 500"


def test_hubs_per_client_are_capped(secure_settings: Settings, listener: Listener) -> None:
    with app(secure_settings, allow_private_callbacks=LOOPBACK) as secured:  # the default limit: 20
        partner = secured.login("acme", ["partner"], party="org-acme")
        other = secured.login("globex", ["partner"], party="org-globex")
        ids = [partner.post(HUB, json={"callback": f"{listener.url}/{i}"}).json()["id"] for i in range(20)]
        r = partner.post(HUB, json={"callback": f"{listener.url}/20"})
        assert r.status_code == 422 and r.json()["code"] == "HUB_LIMIT", r.text
        assert other.post(HUB, json={"callback": f"{listener.url}/g"}).status_code == 201  # per client
        assert partner.delete(f"{HUB}/{ids[0]}").status_code == 204
        assert partner.post(HUB, json={"callback": f"{listener.url}/20"}).status_code == 201


# -- signed deliveries -----------------------------------------------------------------------


def _verify(secret: str, header: str, raw: bytes) -> bool:
    fields = dict(part.split("=", 1) for part in header.split(","))
    mac = hmac.new(secret.encode(), f"{fields['t']}.".encode() + raw, hashlib.sha256).hexdigest()
    return hmac.compare_digest(mac, fields["v1"]) and abs(time.time() - int(fields["t"])) < 300


@pytest.mark.parametrize("passphrase", ["", "sealed at rest"])
def test_deliveries_are_signed_with_the_hubs_own_secret(
    secure_settings: Settings, listener: Listener, passphrase: str
) -> None:
    with app(secure_settings, allow_private_callbacks=LOOPBACK, key_passphrase=passphrase) as secured:
        ops = secured.login("ops", ["operator"])
        first = ops.post(HUB, json={"callback": f"{listener.url}/a"})
        second = ops.post(HUB, json={"callback": f"{listener.url}/b"})
        secrets = {"/listener/a": first.headers["X-Tmf-Hub-Secret"], "/listener/b": second.headers["X-Tmf-Hub-Secret"]}
        assert first.headers["Cache-Control"] == "no-store"
        assert secrets["/listener/a"] != secrets["/listener/b"]
        offering(ops, "Signed")
        received = listener.wait_requests(2)
        for got in received:
            header = got.headers["x-tmf-signature"]
            assert _verify(secrets[got.path], header, got.raw)
            # a forger without the secret, or a body changed on the way, does not verify
            assert not _verify("whsec_guessed", header, got.raw)
            assert not _verify(secrets[got.path], header, got.raw.replace(b"Signed", b"Forged"))
            assert got.headers["x-tmf-event-id"] == got.body["eventId"]
            assert got.headers["x-tmf-delivery-id"].isdigit()
        # de-duplication by id: two hubs, one event, two deliveries
        assert len({r.headers["x-tmf-delivery-id"] for r in received}) == 2
        assert len({r.headers["x-tmf-event-id"] for r in received}) == 1

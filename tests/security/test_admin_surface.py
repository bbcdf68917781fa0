"""The operator endpoints (/admin/*) cannot be reached by a rebound name or another site, take
JSON bodies only, within limits, and a redelivery is an audited action (who, when, why)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.support.listener import Listener
from tests.support.security import Caller, Secured
from tmfstack.settings import Settings
from tmfstack.web.app import create_app

CATALOG = "/tmf-api/productCatalogManagement/v4"
REFERENCE = {"regions": [{"id": "AT", "name": "Austria"}]}


@pytest.fixture
def ops(secure: Secured) -> Caller:
    return secure.login("ops", ["operator"])


@pytest.fixture
def dead_letter(secure_settings: Settings) -> Iterator[tuple[Secured, Caller, int]]:
    """An app with loopback listeners allowed and one delivery parked as dead."""
    settings = dataclasses.replace(secure_settings, allow_private_callbacks="127.0.0.0/8")
    with TestClient(create_app(settings)) as client, Listener() as listener:
        secured = Secured(client)
        ops = secured.login("ops", ["operator"])
        listener.fail()
        assert ops.post(f"{CATALOG}/hub", json={"callback": listener.url}).status_code == 201
        assert ops.post(f"{CATALOG}/productOffering", json={"name": "Doomed"}).status_code == 201
        deadline = time.monotonic() + 10
        while not (dead := ops.get("/admin/deliveries", params={"status": "dead"}).json()):
            assert time.monotonic() < deadline, "no dead letter"
            time.sleep(0.05)
        yield secured, ops, dead[0]["id"]


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8080", "127.0.0.1.evil.example", "[::2]:8080"])
def test_a_rebound_host_name_is_refused(ops: Caller, host: str) -> None:
    # DNS rebinding: the browser's request carries the attacker's name in Host
    for method, path, body in (("GET", "/admin/deliveries", None), ("POST", "/admin/reference", REFERENCE)):
        r = ops.request(method, path, json=body, headers={"Host": host})
        assert r.status_code == 400, r.text
        assert r.json()["code"] == "INVALID_HOST"
    # the server's own names are served
    for good in ("testserver", "127.0.0.1:8080", "localhost", "[::1]:8080"):
        assert ops.get("/admin/deliveries", headers={"Host": good}).status_code == 200


def test_only_the_configured_hosts_are_served(secure_settings: Settings) -> None:
    settings = dataclasses.replace(secure_settings, allowed_hosts="bss.example.org")
    with TestClient(create_app(settings)) as client:
        ops = Secured(client).login("ops", ["operator"])
        assert ops.get("/admin/deliveries").status_code == 400  # testserver is no longer one of them
        assert ops.get("/admin/deliveries", headers={"Host": "BSS.example.org:443"}).status_code == 200


@pytest.mark.parametrize(
    "content_type, body",
    [
        ("text/plain", b'{"regions": [{"id": "AT", "name": "Austria"}]}'),
        ("application/x-www-form-urlencoded", b"regions=AT"),
        ("multipart/form-data; boundary=x", b"--x--"),
        (None, b'{"regions": []}'),
    ],
)
def test_operator_writes_take_json_bodies_only(ops: Caller, content_type: str | None, body: bytes) -> None:
    # what a cross-site form or a "simple" fetch can send without the browser asking first
    headers = {"Content-Type": content_type} if content_type else {}
    r = ops.post("/admin/reference", content=body, headers=headers)
    assert r.status_code == 415, r.text
    assert r.json()["code"] == "UNSUPPORTED_MEDIA_TYPE"
    assert ops.post("/admin/reference", json=REFERENCE).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [{"Origin": "https://evil.example"}, {"Origin": "null"}, {"Sec-Fetch-Site": "cross-site"}],
)
def test_cross_site_operator_writes_are_refused(
    dead_letter: tuple[Secured, Caller, int], headers: dict[str, str]
) -> None:
    _, ops, delivery = dead_letter
    r = ops.post(f"/admin/deliveries/{delivery}/redeliver", headers=headers)
    assert r.status_code == 403 and r.json()["code"] == "CROSS_ORIGIN", r.text
    assert ops.get("/admin/deliveries", params={"status": "dead"}).json()[0]["id"] == delivery  # still parked
    assert (
        ops.post(f"/admin/deliveries/{delivery}/redeliver", headers={"Origin": "http://testserver"}).status_code == 202
    )


def test_operator_bodies_are_bounded(dead_letter: tuple[Secured, Caller, int]) -> None:
    _, ops, delivery = dead_letter
    huge = b'{"reason": "' + b"x" * (1 << 20) + b'"}'
    r = ops.post(f"/admin/deliveries/{delivery}/redeliver", content=huge, headers={"Content-Type": "application/json"})
    assert r.status_code == 413, r.text
    r = ops.post(f"/admin/deliveries/{delivery}/redeliver", json={"reason": "a\x1b[2Jfake log line"})
    assert r.status_code == 400, r.text
    assert ops.get("/admin/audit").json() == []  # nothing was done, nothing recorded


def test_a_redelivery_is_audited(dead_letter: tuple[Secured, Caller, int]) -> None:
    secured, ops, delivery = dead_letter
    reader = secured.login("reader", ["tmf620:read"])
    r = reader.post(f"/admin/deliveries/{delivery}/redeliver", json={"reason": "sneaky"})
    assert r.status_code == 403  # the admin scope is needed
    before = time.time()
    r = ops.post(f"/admin/deliveries/{delivery}/redeliver", json={"reason": "listener fixed, ticket OPS-42"})
    assert r.status_code == 202, r.text
    audit: list[dict[str, Any]] = ops.get("/admin/audit").json()
    assert audit == [
        {
            "deliveryId": delivery,
            "action": "redeliver",
            "actor": "ops",
            "at": audit[0]["at"],
            "reason": "listener fixed, ticket OPS-42",
        }
    ]
    assert before <= audit[0]["at"] <= time.time()
    assert reader.get("/admin/audit").status_code == 403

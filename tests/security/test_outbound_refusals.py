"""Outbound calls cannot be turned against the operator: hub callbacks to internal addresses are
refused when registered (literal addresses) and when delivered (names, checked on the address
actually connected to); the activation adapter obeys the same guard."""

from __future__ import annotations

import ipaddress
import socket
import time

import pytest

from tests.support.ordering import ORDERS, mobile, order
from tests.support.security import Secured

HUB = "/tmf-api/productOrderingManagement/v4/hub"


@pytest.mark.parametrize(
    "callback",
    [
        "http://127.0.0.1:8080/listener",
        "http://localhost/listener",
        "http://LOCALHOST./x",
        "http://api.localhost/x",
        "http://[::1]/x",
        "http://[::ffff:127.0.0.1]/x",
        "http://0x7f000001/x",
        "http://2130706433/x",
        "http://127.1/x",
        "http://10.0.0.8/x",
        "http://192.168.1.1/x",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/x",
        "http://0.0.0.0/x",
        "http://user:secret@listener.example/x",
        "ftp://listener.example/x",
        "file:///etc/passwd",
    ],
)
def test_hub_callbacks_to_internal_addresses_are_refused(secure: Secured, callback: str) -> None:
    ops = secure.login("ops", ["operator"])
    r = ops.post(HUB, json={"callback": callback})
    assert r.status_code == 400, r.text
    assert r.json()["code"] in ("INVALID_CALLBACK", "DESTINATION_NOT_ALLOWED")
    assert "secret" not in r.text


def _internal_name() -> str | None:
    """This machine's own name when it resolves to a non-public address (it does in CI containers)."""
    name = socket.gethostname()
    try:
        infos = socket.getaddrinfo(name, 80, type=socket.SOCK_STREAM)
    except OSError:
        return None
    return name if infos and all(not ipaddress.ip_address(i[4][0]).is_global for i in infos) else None


def test_a_name_resolving_inside_is_refused_when_delivering(secure: Secured) -> None:
    name = _internal_name()
    if name is None:
        pytest.skip("this machine's name does not resolve to an internal address")
    ops = secure.login("ops", ["operator"])
    r = ops.post(HUB, json={"callback": f"http://{name}:9/listener"})
    assert r.status_code == 201, r.text  # a name cannot be judged before it is resolved
    assert ops.post(ORDERS, json=order(mobile("1"), customer="cust-ssrf")).status_code == 201
    deadline = time.monotonic() + 10
    while True:
        found = [d for d in ops.get("/admin/deliveries").json() if d.get("last_error")]
        if found:
            break
        assert time.monotonic() < deadline, "no delivery attempt recorded"
        time.sleep(0.05)
    assert "not allowed" in found[0]["last_error"], found[0]

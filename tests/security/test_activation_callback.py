"""``/activation/callback/{monitor}`` is not open: an activation platform answers through the signed
URL it was given (``X-Callback-Url``) or with a bearer token holding the ``activation`` scope."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from tests.support.chain import load_chain
from tests.support.listener import Listener
from tests.support.ordering import ORDERS, mobile, order
from tests.support.security import Caller, Secured
from tmfstack.settings import Settings
from tmfstack.web.app import create_app

MONITORS = "/tmf-api/ServiceActivationAndConfiguration/v4/monitor"


@pytest.fixture
def accepted(secure_settings: Settings) -> Iterator[tuple[Secured, Caller, str]]:
    """An order whose first activation the platform accepted (202): (app, operator, its callback URL path)."""
    with Listener() as platform:
        platform.respond(lambda path, headers, body: 202)
        settings = dataclasses.replace(
            secure_settings, activation_url=platform.url, allow_private_callbacks="127.0.0.0/8"
        )
        with TestClient(create_app(settings)) as client:
            secured = Secured(client)
            operator = secured.login("ops", ["operator"])
            load_chain(operator)
            assert operator.post(ORDERS, json=order(mobile("1"), customer="cust-cb")).status_code == 201
            request = platform.wait_requests(1)[0]
            monitor_id = request.headers["x-request-id"]
            deadline = time.monotonic() + 10
            while (operator.get(f"{MONITORS}/{monitor_id}").json().get("response") or {}).get("statusCode") != "202":
                assert time.monotonic() < deadline
                time.sleep(0.05)
            yield secured, operator, request.headers["x-callback-url"].removeprefix("http://testserver")


def test_an_unsigned_or_forged_callback_is_refused(accepted: tuple[Secured, Caller, str]) -> None:
    secured, operator, callback = accepted
    path, _, signature = callback.partition("?sig=")
    assert signature
    for url in (
        path,
        f"{path}?sig=",
        f"{path}?sig={signature[:-2]}xx",
        f"{path}?sig={signature}&x=1".replace(signature, "A" * 43),
    ):
        r = secured.client.post(url, json={"state": "completed"})
        assert r.status_code == 401, (url, r.text)
        assert r.json()["code"] == "UNAUTHORIZED"
    # a signature is good for its own monitor only
    other = path.rsplit("/", 1)[0] + "/another-monitor"
    assert secured.client.post(f"{other}?sig={signature}", json={"state": "completed"}).status_code == 401
    # a token without the activation scope is refused too, even an operator's other scopes
    almost = secured.login("almost", [s for s in secured.security.table.operator if s != "activation"])
    assert almost.post(path, json={"state": "completed"}).status_code == 403
    monitor = operator.get(f"{MONITORS}/{path.rsplit('/', 1)[1]}").json()
    assert monitor["state"] == "inProgress"  # nothing above changed it


def test_the_signed_url_answers_its_request(accepted: tuple[Secured, Caller, str]) -> None:
    secured, operator, callback = accepted
    r = secured.client.post(callback, json={"state": "completed", "message": "done"})
    assert r.status_code == 204, r.text
    assert operator.get(f"{MONITORS}/{callback.split('?')[0].rsplit('/', 1)[1]}").json()["state"] == "completed"


def test_a_platform_with_the_activation_scope_answers_by_token(accepted: tuple[Secured, Caller, str]) -> None:
    secured, _, callback = accepted
    platform = secured.login("network", ["activation"])
    r = platform.post(callback.split("?")[0], json={"state": "completed"})
    assert r.status_code == 204, r.text

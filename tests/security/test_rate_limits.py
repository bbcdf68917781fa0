"""Rate limits: a token bucket per client (its own rate where registered with one) and per source
address for the token endpoint and requests without a valid token; 429 with ``Retry-After`` and
the RateLimit header fields (also on successful answers); shared by replicas through Redis."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from tests.support.security import Secured
from tmfstack.settings import Settings
from tmfstack.web.app import create_app

pytest_plugins = ["tests.support.redis_server"]
OFFERINGS = "/tmf-api/productCatalogManagement/v4/productOffering"
POLICY = re.compile(r'^"(client|address)";q=\d+;w=\d+$')
REMAINING = re.compile(r'^"(client|address)";r=(\d+);t=(\d+)$')


@pytest.fixture
def tight(secure_settings: Settings) -> Iterator[Secured]:
    """Clients get 2/s with a burst of 4 unless registered otherwise; addresses 1/s with a burst of 6."""
    settings = dataclasses.replace(secure_settings, rate="2/s", burst=4, anon_rate="1/s", anon_burst=6)
    with TestClient(create_app(settings)) as client:
        yield Secured(client)


def test_a_client_is_throttled_once_its_burst_is_spent(tight: Secured) -> None:
    # registered with a burst of 5 (its token request counts for its address, not for it)
    caller = tight.login("busy", ["operator"], rate=1.0, burst=5)
    remaining = []
    for _ in range(5):
        r = caller.get(OFFERINGS)
        assert r.status_code == 200, r.text
        assert POLICY.match(r.headers["ratelimit-policy"]), r.headers["ratelimit-policy"]
        found = REMAINING.match(r.headers["ratelimit"])
        assert found, r.headers["ratelimit"]
        remaining.append(int(found.group(2)))
    assert remaining == [4, 3, 2, 1, 0]
    r = caller.get(OFFERINGS)
    assert r.status_code == 429
    body = r.json()
    assert body["code"] == "TOO_MANY_REQUESTS" and body["status"] == "429" and body["@type"] == "Error"
    assert int(r.headers["retry-after"]) >= 1
    assert REMAINING.match(r.headers["ratelimit"]).group(2) == "0"  # type: ignore[union-attr]
    # another client has a bucket of its own, with the server's default (burst 4)
    other = tight.login("calm", ["operator"])
    assert [other.get(OFFERINGS).status_code for _ in range(5)] == [200, 200, 200, 200, 429]


def test_the_token_endpoint_and_tokenless_requests_are_throttled_per_address(tight: Secured) -> None:
    secret = tight.register("someone", ["partner"], party="org-s")
    codes = [tight.token_response("someone", "wrong" + secret).status_code for _ in range(7)]
    assert codes == [401] * 6 + [429]
    assert tight.token_response("someone", secret).status_code == 429  # guessing costs the address its budget
    r = tight.client.get(OFFERINGS, headers={"Authorization": "Bearer forged"})
    assert r.status_code == 429 and "retry-after" in r.headers
    assert tight.client.get("/health").status_code == 200  # probes are never throttled


def test_forged_tokens_are_throttled_before_they_are_checked(tight: Secured) -> None:
    """Each unknown token costs a signature check: the address pays before the server does."""
    real = tight.login("someone", ["operator"])  # its token request: one of the address's six
    assert real.get(OFFERINGS).status_code == 200  # its first use: the second
    forged = tight.bad_tokens(real.token)
    codes = [tight.client.get(OFFERINGS, headers={"Authorization": f"Bearer {t}"}).status_code for t in forged.values()]
    assert codes[:4] == [401] * 4 and set(codes[4:]) == {429}, codes
    assert real.get(OFFERINGS).status_code == 200  # a token verified before is not held up by its address


def test_replicas_share_a_clients_budget_through_redis(secure_settings: Settings, redis_url: str) -> None:
    settings = dataclasses.replace(secure_settings, rate="1/s", burst=6, redis_url=redis_url)
    with TestClient(create_app(settings)) as first, TestClient(create_app(settings)) as second:
        one, two = Secured(first), Secured(second)
        caller = one.login("shared", ["operator"])  # the same database: the client is known to both
        headers = caller.headers()
        codes = [c.get(OFFERINGS, headers=headers).status_code for c in (first, second) * 4]
        assert codes == [200] * 6 + [429] * 2, codes
        assert two.client.get(OFFERINGS, headers=headers).headers["retry-after"]

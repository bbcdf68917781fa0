"""``Idempotency-Key`` on POST (``engine/idempotency.py``), through the HTTP API: a retry with the
key gets the first answer and creates nothing, on every declared resource that can be created
(generated as in ``test_every_api.py``); another body with the key is a 422; keys belong to a client
and a path; a malformed key is a 400; the answer survives a restart and expires after the
retention; concurrent requests with one key create one resource; the loser of a race rolls back."""

from __future__ import annotations

import dataclasses
import json
import threading
import time

import httpx
import pytest
from starlette.testclient import TestClient

from tests.api.test_every_api import Case, assert_error, body_for, cases, collection
from tests.support.security import Secured
from tmfstack.engine import idempotency
from tmfstack.engine.unit import Unit
from tmfstack.errors import Conflict
from tmfstack.settings import Settings
from tmfstack.store.base import IdempotencyRow
from tmfstack.web.app import create_app

KEY = "Idempotency-Key"
CATALOG = "/tmf-api/productCatalogManagement/v4"
CATEGORY = f"{CATALOG}/category"


def total(client: TestClient, path: str, headers: dict[str, str] | None = None) -> int:
    r = client.get(path, params={"limit": 1}, headers=headers)
    assert r.status_code in (200, 206), r.text
    return int(r.headers["x-total-count"])


def assert_same_answer(first: httpx.Response, again: httpx.Response) -> None:
    assert again.status_code == first.status_code, again.text
    assert again.content == first.content
    assert again.headers["location"] == first.headers["location"]
    assert again.headers.get("etag") == first.headers.get("etag")
    assert "idempotency-replayed" not in first.headers
    assert again.headers["idempotency-replayed"] == "true"


@pytest.mark.parametrize("case", cases("create", "list"))
def test_a_retry_gets_the_first_answer_and_another_body_is_a_422(client: TestClient, case: Case) -> None:
    path = collection(client, case)
    body = body_for(client, case)
    before = total(client, path)
    first = client.post(path, json=body, headers={KEY: "retry-1"})
    assert first.status_code in (200, 201, 202), f"{case}: {first.status_code} {first.text[:300]}"
    assert total(client, path) == before + 1

    # the same request: its attributes in another order, spaced otherwise
    text = json.dumps(dict(reversed(list(body.items()))), indent=2)
    again = client.post(path, content=text, headers={KEY: "retry-1", "Content-Type": "application/json"})
    assert_same_answer(first, again)
    assert total(client, path) == before + 1

    other = client.post(path, json={**body, "@baseType": "Other"}, headers={KEY: "retry-1"})
    assert_error(case.api, other, 422)
    assert other.json()["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert total(client, path) == before + 1


def test_a_key_belongs_to_its_path(client: TestClient) -> None:
    made = [
        client.post(f"{CATALOG}/{name}", json={"name": "same"}, headers={KEY: "k"}) for name in ("category", "catalog")
    ]
    assert [r.status_code for r in made] == [201, 201], [r.text for r in made]
    assert "idempotency-replayed" not in made[1].headers
    assert made[0].json()["href"] != made[1].json()["href"]


def test_a_key_belongs_to_its_client(secure: Secured) -> None:
    one, two = secure.login("ops-one", ["operator"]), secure.login("ops-two", ["operator"])
    first = one.post(CATEGORY, json={"name": "c"}, headers={KEY: "shared"})
    second = two.post(CATEGORY, json={"name": "c"}, headers={KEY: "shared"})
    assert (first.status_code, second.status_code) == (201, 201), (first.text, second.text)
    assert "idempotency-replayed" not in second.headers
    assert first.json()["id"] != second.json()["id"]
    assert_same_answer(second, two.post(CATEGORY, json={"name": "c"}, headers={KEY: "shared"}))
    assert_same_answer(first, one.post(CATEGORY, json={"name": "c"}, headers={KEY: "shared"}))
    assert total(secure.client, CATEGORY, one.headers()) == 2


@pytest.mark.parametrize(
    "key",
    ["", '""', "x" * 256, "caf\xe9".encode("latin-1"), b"tab\there"],
    ids=["empty", "quoted-empty", "long", "latin", "tab"],
)
def test_a_malformed_key_is_a_400_and_creates_nothing(client: TestClient, key: str | bytes) -> None:
    r = client.post(CATEGORY, json={"name": "c"}, headers={KEY: key})  # type: ignore[dict-item]
    assert r.status_code == 400, r.text
    body = r.json()
    assert (body["code"], body["status"], body["@type"]) == ("INVALID_IDEMPOTENCY_KEY", "400", "Error")
    assert body["reason"] and "Idempotency-Key" in body["message"]
    assert total(client, CATEGORY) == 0


def test_the_longest_key_and_the_drafts_quoted_form(client: TestClient) -> None:
    longest = "~" * 255
    first = client.post(CATEGORY, json={"name": "c"}, headers={KEY: longest})
    assert first.status_code == 201, first.text
    assert_same_answer(first, client.post(CATEGORY, json={"name": "c"}, headers={KEY: f'"{longest}"'}))
    assert total(client, CATEGORY) == 1


def test_a_hub_post_is_not_idempotent(client: TestClient) -> None:
    """Only resources are: a subscription answers its signing secret once, never to a replay."""
    hub = {"callback": "http://127.0.0.1:9/cb"}
    made = [client.post(f"{CATALOG}/hub", json=hub, headers={KEY: "h"}) for _ in range(2)]
    assert [r.status_code for r in made] == [201, 201], [r.text for r in made]
    assert made[0].json()["id"] != made[1].json()["id"]
    assert not any("idempotency-replayed" in r.headers for r in made)


def test_the_answer_survives_a_restart(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        first = client.post(CATEGORY, json={"name": "before"}, headers={KEY: "restart"})
        assert first.status_code == 201, first.text
    with TestClient(create_app(settings)) as client:
        assert_same_answer(first, client.post(CATEGORY, json={"name": "before"}, headers={KEY: "restart"}))
        assert client.post(CATEGORY, json={"name": "after"}, headers={KEY: "restart"}).status_code == 422
        assert total(client, CATEGORY) == 1


def test_an_expired_answer_lets_the_key_create_again(settings: Settings) -> None:
    with TestClient(create_app(dataclasses.replace(settings, idempotency_retention=0.5))) as client:
        first = client.post(CATEGORY, json={"name": "c"}, headers={KEY: "short"})
        assert first.status_code == 201, first.text
        time.sleep(0.6)
        second = client.post(CATEGORY, json={"name": "other"}, headers={KEY: "short"})  # another body: no 422
        assert second.status_code == 201, second.text
        assert "idempotency-replayed" not in second.headers
        assert second.json()["id"] != first.json()["id"]
        assert_same_answer(second, client.post(CATEGORY, json={"name": "other"}, headers={KEY: "short"}))
        assert total(client, CATEGORY) == 2


def test_concurrent_requests_with_one_key_create_one_resource(client: TestClient) -> None:
    threads, start = 8, threading.Barrier(8)
    answers: list[httpx.Response] = []

    def post() -> None:
        start.wait()
        answers.append(client.post(CATEGORY, json={"name": "raced"}, headers={KEY: "race"}))

    running = [threading.Thread(target=post) for _ in range(threads)]
    for t in running:
        t.start()
    for t in running:
        t.join(timeout=30)
    assert len(answers) == threads
    assert {r.status_code for r in answers} == {201}, [r.text for r in answers]
    assert len({r.json()["id"] for r in answers}) == 1
    assert sum("idempotency-replayed" not in r.headers for r in answers) == 1
    assert total(client, CATEGORY) == 1


def test_a_key_taken_meanwhile_rolls_the_creation_back(client: TestClient) -> None:
    """The loser of a race (reachable on PostgreSQL, where its insert waits for the winner's unit):
    its insert finds the key taken, its unit rolls back with its creation, and without a stored
    answer to see it is a 409. Here the competing record is written in the loser's own unit, so
    the rollback takes it too and the 409 is what remains."""
    engine = client.app.state.engine  # type: ignore[attr-defined]
    svc = engine.services[CATALOG]["category"]
    keyed = idempotency.Keyed("", CATEGORY, "taken", idempotency.fingerprint({"name": "c"}))

    async def work(unit: Unit) -> idempotency.Answer:
        doc, raw, _ = await svc.create({"name": "c"}, unit=unit)
        rival = IdempotencyRow("", CATEGORY, "taken", "0" * 64, 201, None, None, b"{}", time.time())
        assert await unit.tx.idempotent_put(rival, 0.0)
        return idempotency.Answer(201, raw, doc["href"], None)

    with pytest.raises(Conflict) as refused:
        client.portal.call(idempotency.once, engine, keyed, work)  # type: ignore[union-attr]
    assert refused.value.code == "IDEMPOTENCY_KEY_IN_USE"
    assert total(client, CATEGORY) == 0

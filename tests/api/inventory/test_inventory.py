"""TMF637 product inventory written directly (migrations, administration): create, the status
lifecycle edge by edge through PATCH, filters, fields, errors.

Every response body is checked against the official TMF637 v4.0.0 Swagger file, whose
ProductStatusType spells one value ``"aborted "`` (trailing space).
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from starlette.testclient import TestClient

from tests.support.assertions import TMF637_SPEC, assert_error, definitions
from tests.support.database import fresh_database_url
from tests.support.ordering import INVENTORY, PRODUCTS, assert_637, party
from tmfstack.apis.inventory.tmf637 import ABORTED, PRODUCT_LIFECYCLE
from tmfstack.settings import Settings
from tmfstack.web.app import create_app

STATES = sorted(PRODUCT_LIFECYCLE.transitions)
PAIRS = list(itertools.product(STATES, STATES))
Doc = dict[str, Any]


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """One app for the module: every test creates its own products."""
    folder: Path = tmp_path_factory.mktemp("inventory")
    url = fresh_database_url(folder, "inventory.db")
    settings = Settings(database_url=url, public_url="http://testserver", export_dir=folder / "exports")
    with TestClient(create_app(settings)) as client:
        yield client


def error(response: Any, status: int, code: str | None = None) -> Doc:
    return assert_error(response, status, code, spec=TMF637_SPEC)


def create(client: TestClient, status: str | None = "created", **body: Any) -> Doc:
    payload: Doc = {"name": "Fibre 500", **body}
    if status is not None:
        payload["status"] = status
    r = client.post(PRODUCTS, json=payload)
    assert r.status_code == 201, r.text
    doc = r.json()
    assert_637("Product", doc)
    assert r.headers["location"].endswith(f"/product/{doc['id']}")
    return doc


def move(client: TestClient, doc: Doc, status: str) -> Any:
    return client.patch(f"{PRODUCTS}/{doc['id']}", json={"status": status, "description": "moved"})


def test_the_table_has_the_spec_statuses() -> None:
    assert set(STATES) == set(definitions(TMF637_SPEC)["ProductStatusType"]["enum"])
    assert ABORTED == "aborted " and PRODUCT_LIFECYCLE.initial == "created"


def test_status_is_required_on_create(shared: TestClient) -> None:
    body = error(shared.post(PRODUCTS, json={"name": "no status"}), 400)
    assert "status" in body["message"]
    assert shared.get(PRODUCTS, params={"name": "no status"}).json() == []


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "status": "bogus"},
        {"name": "x", "status": None},
        {"name": "x", "status": "active", "id": "my-id"},
        {"name": "x", "status": "active", "href": "http://x/product/1"},
        {"name": "x", "status": "active", "relatedParty": [{"id": "c-1"}]},  # @referredType is required
        ["not", "an", "object"],
    ],
    ids=["unknown status", "null status", "id", "href", "party without @referredType", "array"],
)
def test_invalid_creates_are_refused(shared: TestClient, body: Any) -> None:
    error(shared.post(PRODUCTS, json=body), 400)


def test_create_then_read(shared: TestClient) -> None:
    owner = party(f"c-{uuid.uuid4().hex[:6]}")
    doc = create(
        shared,
        "active",
        relatedParty=[owner],
        productCharacteristic=[{"name": "Download speed", "value": 500}],
        productOffering={"id": "po-fibre-500"},
        billingAccount={"id": "ba-1"},
    )
    assert doc["status"] == "active" and doc["@type"] == "Product"
    assert doc["href"] == f"http://testserver{INVENTORY}/product/{doc['id']}"
    r = shared.get(f"{PRODUCTS}/{doc['id']}")
    assert r.status_code == 200 and r.json() == doc
    assert_637("Product", r.json())


@pytest.mark.parametrize(("old", "new"), PAIRS, ids=[f"{a.strip()}->{b.strip()}" for a, b in PAIRS])
def test_status_transition(shared: TestClient, old: str, new: str) -> None:
    doc = create(shared, old)
    assert doc["status"] == old
    r = move(shared, doc, new)
    url = f"{PRODUCTS}/{doc['id']}"
    if old == new or new in PRODUCT_LIFECYCLE.transitions[old]:
        assert r.status_code == 200, r.text
        assert_637("Product", r.json())
        assert r.json()["status"] == new and r.json()["description"] == "moved"
    else:
        body = error(r, 409, "INVALID_TRANSITION")
        assert repr(old) in body["message"] and repr(new) in body["message"]
        after = shared.get(url).json()
        assert after == doc, "a refused move must change nothing"


def test_named_edges(shared: TestClient) -> None:
    doc = create(shared, "created")
    assert move(shared, doc, "active").status_code == 200
    error(move(shared, doc, "created"), 409, "INVALID_TRANSITION")
    assert shared.get(f"{PRODUCTS}/{doc['id']}").json()["status"] == "active"


@pytest.mark.parametrize("spelling", ["aborted", "aborted ", " Aborted", "ABORTED  "])
def test_aborted_is_stored_and_answered_with_the_specs_trailing_space(shared: TestClient, spelling: str) -> None:
    doc = create(shared, "pendingActive")
    r = move(shared, doc, spelling)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "aborted "
    assert_637("Product", r.json())
    again = shared.get(f"{PRODUCTS}/{doc['id']}").json()
    assert again["status"] == "aborted "
    assert_637("Product", again)
    error(move(shared, doc, "active"), 409, "INVALID_TRANSITION")


def test_created_aborted_validates_and_is_found_by_status(shared: TestClient) -> None:
    tag = uuid.uuid4().hex[:8]
    doc = create(shared, "aborted ", name=f"aborted {tag}")
    assert doc["status"] == "aborted "
    for value in ("aborted", "aborted "):
        r = shared.get(f"{PRODUCTS}?status={quote(value)}&name={quote(doc['name'])}")
        assert r.status_code == 200, r.text
        assert [p["id"] for p in r.json()] == [doc["id"]], value
        assert_637("Product", r.json())


@pytest.mark.parametrize(("spelling", "stored"), [("aborted", "aborted "), ("Active", "active")])
def test_create_reads_status_spellings_like_patch_does(shared: TestClient, spelling: str, stored: str) -> None:
    patched = create(shared, "pendingActive")
    assert move(shared, patched, spelling).json()["status"] == stored
    assert create(shared, spelling)["status"] == stored


def test_status_cannot_be_removed(shared: TestClient) -> None:
    doc = create(shared, "active")
    error(shared.patch(f"{PRODUCTS}/{doc['id']}", json={"status": None}), 400)
    assert shared.get(f"{PRODUCTS}/{doc['id']}").json()["status"] == "active"


def test_filters_and_fields(shared: TestClient) -> None:
    tag = uuid.uuid4().hex[:8]
    alice, bob = party(f"alice-{tag}"), party(f"bob-{tag}")
    a1 = create(shared, "active", name=f"A1 {tag}", relatedParty=[alice], productOffering={"id": "po-fibre-500"})
    a2 = create(shared, "suspended", name=f"A2 {tag}", relatedParty=[alice], productOffering={"id": "po-mobile-m"})
    a3 = create(shared, "active", name=f"A3 {tag}", relatedParty=[alice], productOffering={"id": "po-mobile-m"})
    b1 = create(shared, "active", name=f"B1 {tag}", relatedParty=[bob], productOffering={"id": "po-fibre-500"})

    def ids(**params: Any) -> set[str]:
        r = shared.get(PRODUCTS, params={"limit": 1000, **params})
        assert r.status_code == 200, r.text
        assert_637("Product", r.json())
        assert int(r.headers["x-total-count"]) == len(r.json())
        return {p["id"] for p in r.json()}

    assert ids(**{"relatedParty.id": alice["id"]}) == {a1["id"], a2["id"], a3["id"]}
    assert ids(**{"relatedParty.id": bob["id"]}) == {b1["id"]}
    assert ids(**{"relatedParty.id": alice["id"], "status": "active"}) == {a1["id"], a3["id"]}
    assert ids(**{"relatedParty.id": alice["id"], "status": "suspended,active"}) == {a1["id"], a2["id"], a3["id"]}
    assert {a1["id"], a3["id"], b1["id"]} <= ids(status="active")
    assert a2["id"] not in ids(status="active")
    assert ids(**{"relatedParty.id": alice["id"], "productOffering.id": "po-mobile-m"}) == {a2["id"], a3["id"]}
    assert ids(**{"relatedParty.id": f"nobody-{tag}"}) == set()

    r = shared.get(PRODUCTS, params={"relatedParty.id": bob["id"], "fields": "status,name"})
    assert r.status_code == 200, r.text
    assert r.json() == [{"id": b1["id"], "href": b1["href"], "status": "active", "name": f"B1 {tag}"}]
    assert_637("Product", r.json())
    r = shared.get(f"{PRODUCTS}/{a2['id']}", params={"fields": "status"})
    assert r.status_code == 200 and r.json() == {"id": a2["id"], "href": a2["href"], "status": "suspended"}

    r = shared.get(PRODUCTS, params={"relatedParty.id": alice["id"], "sort": "name", "limit": 2})
    assert [p["name"] for p in r.json()] == [f"A1 {tag}", f"A2 {tag}"]
    assert r.headers["x-total-count"] == "3"


def test_unknown_product(shared: TestClient) -> None:
    error(shared.get(f"{PRODUCTS}/no-such-product"), 404)
    error(shared.patch(f"{PRODUCTS}/no-such-product", json={"status": "active"}), 404)
    error(shared.delete(f"{PRODUCTS}/no-such-product"), 404)


def test_delete(shared: TestClient) -> None:
    doc = create(shared, "terminated")
    r = shared.delete(f"{PRODUCTS}/{doc['id']}")
    assert r.status_code == 204, r.text
    error(shared.get(f"{PRODUCTS}/{doc['id']}"), 404)


def test_bad_query(shared: TestClient) -> None:
    error(shared.get(PRODUCTS, params={"limit": "many"}), 400)

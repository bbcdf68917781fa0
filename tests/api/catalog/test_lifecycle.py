"""Catalog ``lifecycleStatus``: every (from, to) pair of CATALOG_LIFECYCLE, through POST and PATCH."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.support.assertions import assert_error, assert_valid
from tests.support.database import fresh_database_url
from tests.support.ordering import CATALOG
from tmfstack.apis.catalog.lifecycle import CATALOG_LIFECYCLE
from tmfstack.settings import Settings
from tmfstack.web.app import create_app

STATES = sorted(CATALOG_LIFECYCLE.transitions)
PAIRS = list(itertools.product(STATES, STATES))
OFFERINGS = f"{CATALOG}/productOffering"


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """One app for the whole transition table: each case creates its own offering."""
    folder = tmp_path_factory.mktemp("lifecycle")
    url = fresh_database_url(folder, "lifecycle.db")
    settings = Settings(database_url=url, public_url="http://testserver", export_dir=folder / "exports")
    with TestClient(create_app(settings)) as client:
        yield client


def offering(client: TestClient, status: str | None = None, resource: str = "productOffering") -> dict[str, Any]:
    body: dict[str, Any] = {"name": f"In {status}"}
    if status is not None:
        body["lifecycleStatus"] = status
    response = client.post(f"{CATALOG}/{resource}", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def move(client: TestClient, doc: dict[str, Any], status: Any, resource: str = "productOffering") -> Any:
    return client.patch(f"{CATALOG}/{resource}/{doc['id']}", json={"lifecycleStatus": status, "description": "moved"})


def test_table_covers_the_documented_states() -> None:
    assert set(STATES) == {"In study", "In design", "In test", "Active", "Launched", "Retired", "Obsolete", "Rejected"}
    assert CATALOG_LIFECYCLE.initial == "In design"


@pytest.mark.parametrize(("old", "new"), PAIRS, ids=[f"{a}->{b}" for a, b in PAIRS])
def test_transition(shared: TestClient, old: str, new: str) -> None:
    doc = offering(shared, old)
    assert doc["lifecycleStatus"] == old
    response = move(shared, doc, new)
    url = f"{OFFERINGS}/{doc['id']}"
    if old == new or new in CATALOG_LIFECYCLE.transitions[old]:
        assert response.status_code == 200, response.text
        assert response.json()["lifecycleStatus"] == new
        assert response.json()["description"] == "moved"
        assert_valid("620", "ProductOffering", response.json())
        assert shared.get(url).json()["lifecycleStatus"] == new
    else:
        body = assert_error(response, 409, spec="620")
        assert body["code"] == "INVALID_TRANSITION"
        assert old in body["message"] and new in body["message"]
        assert shared.get(url).json() == doc  # refused atomically: the description is not applied either


# Independent of the table above: the moves the TMF620 user-guide lifecycle draws.
DOCUMENTED_ALLOWED = [
    ("In study", "In design"),
    ("In design", "In test"),
    ("In test", "Active"),
    ("In test", "In design"),
    ("Active", "Launched"),
    ("Launched", "Retired"),
    ("Retired", "Obsolete"),
    ("In study", "Rejected"),
    ("In test", "Rejected"),
]
DOCUMENTED_REFUSED = [
    ("Obsolete", "Launched"),
    ("Rejected", "In design"),
    ("Retired", "Launched"),
    ("Launched", "In design"),
    ("In design", "Launched"),
    ("In study", "Active"),
]


def test_documented_moves(shared: TestClient) -> None:
    for old, new in DOCUMENTED_ALLOWED:
        assert move(shared, offering(shared, old), new).status_code == 200, (old, new)
    for old, new in DOCUMENTED_REFUSED:
        assert assert_error(move(shared, offering(shared, old), new), 409, spec="620")["code"] == "INVALID_TRANSITION"


def test_full_path_to_obsolete(shared: TestClient) -> None:
    doc = offering(shared)
    assert doc["lifecycleStatus"] == "In design"
    for status in ("In test", "Active", "Launched", "Retired", "Obsolete"):
        response = move(shared, doc, status)
        assert response.status_code == 200, response.text
        assert response.json()["lifecycleStatus"] == status
    for status in STATES:
        if status != "Obsolete":
            assert_error(move(shared, doc, status), 409, spec="620")


@pytest.mark.parametrize("resource", ["catalog", "category", "productOfferingPrice", "productSpecification"])
def test_other_entities_share_the_lifecycle(shared: TestClient, resource: str) -> None:
    doc = offering(shared, "Launched", resource)
    assert assert_error(move(shared, doc, "In design", resource), 409, spec="620")["code"] == "INVALID_TRANSITION"
    response = move(shared, doc, "Retired", resource)
    assert response.status_code == 200, response.text
    assert response.json()["lifecycleStatus"] == "Retired"


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("in DESIGN", "In design"),
        (" launched ", "Launched"),
        ("IN  study", "In study"),
        ("\tretired\n", "Retired"),
        ("obsolete", "Obsolete"),
    ],
)
def test_case_insensitive_on_create(shared: TestClient, given: str, stored: str) -> None:
    doc = offering(shared, given)
    assert doc["lifecycleStatus"] == stored
    assert shared.get(f"{OFFERINGS}/{doc['id']}").json()["lifecycleStatus"] == stored
    listed = shared.get(OFFERINGS, params={"id": doc["id"], "lifecycleStatus": stored}).json()
    assert [d["id"] for d in listed] == [doc["id"]]


def test_case_insensitive_on_patch(shared: TestClient) -> None:
    doc = offering(shared, "In test")
    response = move(shared, doc, "  active")
    assert response.status_code == 200, response.text
    assert response.json()["lifecycleStatus"] == "Active"
    response = move(shared, doc, "LAUNCHED ")
    assert response.json()["lifecycleStatus"] == "Launched"
    # same state, other spelling: allowed, stays canonical
    response = move(shared, doc, "launched")
    assert response.status_code == 200
    assert response.json()["lifecycleStatus"] == "Launched"


def test_case_insensitive_with_json_patch(shared: TestClient) -> None:
    doc = offering(shared, "In design")
    ops = b'[{"op": "replace", "path": "/lifecycleStatus", "value": "in test"}]'
    response = shared.patch(
        f"{OFFERINGS}/{doc['id']}", content=ops, headers={"content-type": "application/json-patch+json"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["lifecycleStatus"] == "In test"


@pytest.mark.parametrize("value", ["Launch", "Draft", "", "In-design", "Tentative"])
def test_unknown_value_refused(shared: TestClient, value: str) -> None:
    response = shared.post(OFFERINGS, json={"name": "x", "lifecycleStatus": value})
    body = assert_error(response, 400, spec="620")
    assert "lifecycleStatus" in body["message"]
    doc = offering(shared, "In design")
    body = assert_error(move(shared, doc, value), 400, spec="620")
    assert "lifecycleStatus" in body["message"]
    assert shared.get(f"{OFFERINGS}/{doc['id']}").json() == doc


@pytest.mark.parametrize("value", [None, 5, ["Active"], {"state": "Active"}])
def test_non_string_value_refused(shared: TestClient, value: Any) -> None:
    doc = offering(shared, "In test")
    assert_error(move(shared, doc, value), 400, spec="620")
    assert shared.get(f"{OFFERINGS}/{doc['id']}").json() == doc


def test_default_when_omitted(client: TestClient) -> None:
    for resource in ("catalog", "category", "productOffering", "productOfferingPrice", "productSpecification"):
        doc = offering(client, None, resource)
        assert doc["lifecycleStatus"] == "In design"
    # the status counters follow transitions (X-Total-Count of a status filter)
    doc = offering(client, "In test")
    assert client.get(OFFERINGS, params={"lifecycleStatus": "In test"}).headers["x-total-count"] == "1"
    assert move(client, doc, "Active").status_code == 200
    assert client.get(OFFERINGS, params={"lifecycleStatus": "In test"}).headers["x-total-count"] == "0"
    assert client.get(OFFERINGS, params={"lifecycleStatus": "active"}).headers["x-total-count"] == "1"
    assert client.get(OFFERINGS, params={"lifecycleStatus": "In design"}).headers["x-total-count"] == "1"

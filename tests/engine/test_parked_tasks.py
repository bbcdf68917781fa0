"""A poison task (a step that keeps raising) is retried with growing delays, then parked for an operator.

The poison is real catalog data: a customer-facing service specification whose name was
removed (TMF633 PATCH ``{"name": null}``; its full schema does not require one) makes every
decomposition build a TMF641 service order the contract refuses, so the order step raises
each time. Before parking existed it retried forever, with the order stuck in progress and
nothing for an operator to see. Now, after TMFSTACK_TASK_MAX_ATTEMPTS failures: the task
is parked (GET /admin/tasks?state=parked shows it with its short error), the order is held
with a note coded [TASK_PARKED] (the error itself is not shown to the customer), and an
operator's audited retry, once the catalog is fixed, completes the order.
"""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.support.assertions import assert_error
from tests.support.ordering import CATALOG, ORDERS, get_order, iso, notes, order, post_order, wait_state
from tests.support.security import Secured
from tmfstack.settings import Settings
from tmfstack.web.app import create_app

Doc = dict[str, Any]
SERVICE_SPECS = "/tmf-api/serviceCatalogManagement/v4/serviceSpecification"
MERGE = {"Content-Type": "application/merge-patch+json"}
ATTEMPTS, BASE = 5, 0.05  #: delays 0.05, 0.1, 0.2, 0.4 s, then parked


def fast(settings: Settings) -> Settings:
    return dataclasses.replace(settings, task_max_attempts=ATTEMPTS, task_retry_base=BASE, task_retry_max=5.0)


@pytest.fixture
def shop(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(fast(settings))) as client:
        yield client


def poison_offering(client: Any) -> tuple[str, str]:
    """(offering id, its CFS id): an offering whose service specification has lost its name."""
    r = client.post(SERVICE_SPECS, json={"name": "Poison CFS", "@type": "CustomerFacingServiceSpecification"})
    assert r.status_code == 201, r.text
    cfs = r.json()["id"]
    r = client.patch(f"{SERVICE_SPECS}/{cfs}", json={"name": None}, headers=MERGE)
    assert r.status_code == 200, r.text
    r = client.post(f"{CATALOG}/productSpecification", json={"name": "Poisoned", "serviceSpecification": [{"id": cfs}]})
    assert r.status_code == 201, r.text
    spec = r.json()["id"]
    body = {"name": "Poisoned offer", "lifecycleStatus": "Launched", "productSpecification": {"id": spec}}
    r = client.post(f"{CATALOG}/productOffering", json=body)
    assert r.status_code == 201, r.text
    return r.json()["id"], cfs


def parked(client: Any, key: str, timeout: float = 10.0) -> tuple[Doc, list[float]]:
    """Poll the task queue until ``key`` is parked; returns its listing and every due time seen."""
    dues: list[float] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for task in client.get("/admin/tasks").json():
            if task["key"] != key:
                continue
            if task["state"] == "parked":
                return task, dues
            if task["due"] not in dues:
                dues.append(task["due"])
        time.sleep(0.005)
    raise AssertionError(f"task {key} not parked after {timeout}s")


def test_a_poison_step_is_parked_the_order_held_and_a_retry_completes_it(shop: TestClient) -> None:
    offering, cfs = poison_offering(shop)
    # a start one second ahead: the order is validated and inProgress before the poison step runs
    doc = post_order(
        shop, order({"id": "1", "action": "add", "productOffering": {"id": offering}}, requestedStartDate=iso(1))
    )
    wait_state(shop, doc["id"], "inProgress")
    task, dues = parked(shop, doc["id"])

    assert task["attempts"] == ATTEMPTS and task["queue"] == "productOrder"
    assert (
        task["lastError"].startswith("SCHEMA_VIOLATION: ServiceOrder_Create is not valid")
        and len(task["lastError"]) <= 300
    )
    gaps = [b - a for a, b in itertools.pairwise(dues)]
    assert len(gaps) >= 2 and all(b > a for a, b in itertools.pairwise(gaps)), gaps  # the delays grow
    assert shop.get("/admin/tasks", params={"state": "parked"}).json() == [task]
    assert shop.get("/admin/tasks", params={"state": "queued"}).json() == []
    time.sleep(0.5)
    assert shop.get(f"/admin/tasks/productOrder/{doc['id']}").json()["attempts"] == ATTEMPTS, (
        "a parked task is left alone"
    )

    held = wait_state(shop, doc["id"], "held")
    assert "[TASK_PARKED]" in notes(held) and "SCHEMA_VIOLATION" not in notes(held)

    r = shop.patch(f"{SERVICE_SPECS}/{cfs}", json={"name": "Poison CFS, fixed"}, headers=MERGE)
    assert r.status_code == 200, r.text
    r = shop.post(f"/admin/tasks/productOrder/{doc['id']}/retry", json={"reason": "CFS name restored (INC-42)"})
    assert r.status_code == 202, r.text
    assert r.json()["retriedBy"] == "local"  # authentication is off in this test: the local operator
    done = wait_state(shop, doc["id"])
    assert done["state"] == "completed", notes(done)
    assert "released by an operator" in notes(done)
    history = shop.get(f"/admin/tasks/productOrder/{doc['id']}").json()["history"]
    assert [(h["action"], h["actor"]) for h in history] == [("retry", "local"), ("parked", "task runner")]
    assert history[0]["reason"] == "CFS name restored (INC-42)"


def test_an_order_parked_before_it_was_accepted_keeps_its_state_and_gets_the_coded_note(shop: TestClient) -> None:
    offering, _ = poison_offering(shop)
    doc = post_order(shop, order({"id": "1", "action": "add", "productOffering": {"id": offering}}))
    parked(shop, doc["id"])
    deadline = time.monotonic() + 5
    while "[TASK_PARKED]" not in notes(found := get_order(shop, doc["id"])):
        assert time.monotonic() < deadline, notes(found)
        time.sleep(0.02)
    assert found["state"] == "acknowledged"  # TMF622 holds only an order in progress


def test_a_retry_needs_a_parked_task_and_a_reason(shop: TestClient) -> None:
    assert_error(shop.post("/admin/tasks/productOrder/nope/retry", json={"reason": "x"}), 404, "NOT_FOUND")
    for body in ({}, {"reason": ""}, {"reason": 7}, {"reason": "x" * 501}, []):
        assert_error(shop.post("/admin/tasks/productOrder/nope/retry", json=body), 400)
    assert_error(shop.get("/admin/tasks", params={"state": "stuck"}), 400, "INVALID_QUERY")
    assert_error(shop.get("/admin/tasks/productOrder/nope"), 404, "NOT_FOUND")


def test_only_an_admin_sees_and_retries_parked_tasks(secure_settings: Settings) -> None:
    with TestClient(create_app(fast(secure_settings))) as client:
        secure = Secured(client)
        admin = secure.login("ops", ["admin", "tmf622:write", "tmf622:read", "tmf620:write", "tmf633:write"])
        partner = secure.login("acme", ["partner"], party="org-acme")
        operator_without_admin = secure.login("almost", ["tmf622:read", "tmf622:write"])
        for caller in (partner, operator_without_admin):
            assert caller.get("/admin/tasks").status_code == 403
            assert caller.post("/admin/tasks/productOrder/x/retry", json={"reason": "mine"}).status_code == 403
        assert client.get("/admin/tasks").status_code == 401
        offering, _ = poison_offering(admin)
        doc = admin.post(ORDERS, json=order({"id": "1", "action": "add", "productOffering": {"id": offering}}))
        assert doc.status_code == 201, doc.text
        key = doc.json()["id"]
        parked(admin, key)
        r = admin.post(f"/admin/tasks/productOrder/{key}/retry", json={"reason": "try again"})
        assert r.status_code == 202 and r.json()["retriedBy"] == "ops", r.text
        assert admin.get(f"/admin/tasks/productOrder/{key}").json()["history"][0]["actor"] == "ops"

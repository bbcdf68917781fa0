"""Every documented bound answered with a TMF Error beyond it, and honoured up to it.

TMF630 (OR lists, fields, sort keys, filters), hub queries (the same parser and limits, checked
at registration), items per order and quantity per item (TMF622 and TMF641), the stored
document's size after PATCHes, nesting on operator endpoints and through JSON Patch, and an
order's checks in O(n): CPU time for 4n items against n, not wall-clock. Authentication on.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from tests.support.security import Caller, Secured
from tmfstack.limits import Limits
from tmfstack.settings import Settings
from tmfstack.web.app import create_app

CATALOG = "/tmf-api/productCatalogManagement/v4"
OFFERINGS = f"{CATALOG}/productOffering"
ORDERS = "/tmf-api/productOrderingManagement/v4/productOrder"
SERVICE_ORDERS = "/tmf-api/serviceOrdering/v4/serviceOrder"
LIMITS = Limits()
CALLBACK = "https://listener.example/events"


def _error(r: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, (r.status_code, r.text[:300])
    body = dict(r.json())
    assert body["status"] == str(status) and body["reason"] and body["message"] and body["@type"] == "Error"
    if code is not None:
        assert body["code"] == code, body
    return body


@pytest.fixture
def ops(secure: Secured) -> Caller:
    return secure.login("ops", ["operator"])


def test_query_bounds(ops: Caller) -> None:
    values = ",".join(f"v{i}" for i in range(LIMITS.or_values))
    assert ops.get(f"{OFFERINGS}?name={values}").status_code == 200
    _error(ops.get(f"{OFFERINGS}?name={values},one-more"), 400, "INVALID_QUERY")
    # repeated keys are the same OR list
    _error(ops.get(f"{OFFERINGS}?name={values}&name=again"), 400, "INVALID_QUERY")
    fields = ",".join(f"f{i}" for i in range(LIMITS.fields))
    assert ops.get(f"{OFFERINGS}?fields={fields}").status_code == 200
    _error(ops.get(f"{OFFERINGS}?fields={fields},one-more"), 400, "INVALID_QUERY")
    _error(ops.get(f"{OFFERINGS}?sort=" + ",".join(["name"] * (LIMITS.fields + 1))), 400, "INVALID_QUERY")
    keys = [
        f"{a}.{op}"
        for a in ("description", "version", "name", "statusReason", "lifecycleStatus")
        for op in ("eq", "ne", "gt", "lt")
    ]
    filters = "&".join(f"{key}=1" for key in keys[: LIMITS.filters])
    assert ops.get(f"{OFFERINGS}?{filters}").status_code == 200
    _error(ops.get(f"{OFFERINGS}?{filters}&name=x"), 400, "INVALID_QUERY")
    _error(ops.get(f"{OFFERINGS}?name*=" + "a" * (LIMITS.pattern + 1)), 400, "INVALID_QUERY")


def test_hub_queries_use_the_same_parser_and_bounds_at_registration(ops: Caller) -> None:
    hub = f"{CATALOG}/hub"
    fine = {"callback": CALLBACK, "query": "eventType=ProductOfferingCreateEvent&event.productOffering.name*=^Fi"}
    assert ops.post(hub, json=fine).status_code == 201
    values = ",".join(f"v{i}" for i in range(LIMITS.or_values + 1))
    for query in (
        "event.productOffering.name*=(a)\\1",  # a back-reference needs backtracking: RE2 refuses it
        "event.productOffering.name*=" + "a" * (LIMITS.pattern + 1),
        f"event.productOffering.name={values}",
        "&".join(f"event.x{i}=1" for i in range(LIMITS.filters + 1)),
    ):
        _error(ops.post(hub, json={"callback": CALLBACK, "query": query}), 400)


def _order(n: int, nested: int = 0, quantity: int = 1) -> dict[str, Any]:
    items: list[dict[str, Any]] = [
        {"id": str(i), "action": "add", "quantity": quantity, "productOffering": {"id": "po-none"}} for i in range(n)
    ]
    if nested:
        items[0]["productOrderItem"] = [
            {"id": f"c{i}", "action": "add", "productOffering": {"id": "po-none"}} for i in range(nested)
        ]
    customer = {"id": "cust-1", "role": "customer", "@referredType": "Individual"}
    return {"productOrderItem": items, "relatedParty": [customer]}


def test_items_per_order_and_quantity_per_item(ops: Caller) -> None:
    assert ops.post(ORDERS, json=_order(LIMITS.order_items)).status_code == 201
    _error(ops.post(ORDERS, json=_order(LIMITS.order_items + 1)), 400, "TOO_MANY_ITEMS")
    # nested bundle items count too
    _error(ops.post(ORDERS, json=_order(LIMITS.order_items - 5, nested=6)), 400, "TOO_MANY_ITEMS")
    assert ops.post(ORDERS, json=_order(1, quantity=LIMITS.quantity)).status_code == 201
    _error(ops.post(ORDERS, json=_order(1, quantity=LIMITS.quantity + 1)), 400, "QUANTITY_TOO_LARGE")
    # order item ids follow the one id rule
    bad = _order(1)
    bad["productOrderItem"][0]["id"] = "1\r\n2"
    _error(ops.post(ORDERS, json=bad), 400, "INVALID_ID")
    # TMF641: the same rule
    so_items = [{"id": str(i), "action": "add", "service": {"name": "s"}} for i in range(LIMITS.order_items + 1)]
    _error(ops.post(SERVICE_ORDERS, json={"serviceOrderItem": so_items}), 400, "TOO_MANY_ITEMS")


def test_a_document_cannot_grow_beyond_its_limit_through_patches(ops: Caller) -> None:
    created = ops.post(OFFERINGS, json={"name": "growing"}).json()
    url = f"{OFFERINGS}/{created['id']}"
    chunk = "x" * (LIMITS.document * 2 // 3)
    assert ops.patch(url, json={"description": chunk}).status_code == 200
    _error(ops.patch(url, json={"extra1": chunk}), 413, "DOCUMENT_TOO_LARGE")
    # JSON Patch too
    patch = [{"op": "add", "path": "/extra2", "value": chunk}]
    headers = {"content-type": "application/json-patch+json"}
    _error(ops.patch(url, json=patch, headers=headers), 413, "DOCUMENT_TOO_LARGE")
    stored = ops.get(url)
    assert stored.status_code == 200 and len(stored.content) <= LIMITS.document
    assert "extra1" not in stored.json() and "extra2" not in stored.json()


def test_json_patch_cannot_nest_deeper_than_the_limit(ops: Caller) -> None:
    half = LIMITS.depth // 2
    value: Any = []
    for _ in range(half):
        value = [value]
    created = ops.post(OFFERINGS, json={"name": "nested", "extra": value}).json()
    url = f"{OFFERINGS}/{created['id']}"
    headers = {"content-type": "application/json-patch+json"}
    path = "/extra" + "/0" * (half - 1)  # the innermost array
    assert ops.patch(url, json=[{"op": "add", "path": path + "/-", "value": 1}], headers=headers).status_code == 200
    # each patch body is shallow enough, the result would not be
    deep = [{"op": "add", "path": path + "/-", "value": value}]
    _error(ops.patch(url, json=deep, headers=headers), 400, "TOO_DEEP")


def test_operator_endpoints_refuse_deep_bodies(ops: Caller) -> None:
    deep = {"areas": [], "x": _nest(LIMITS.depth + 1)}
    _error(ops.post("/admin/reference", json=deep), 400, "TOO_DEEP")
    _error(ops.post("/activation/callback/m-1", json={"state": "completed", "x": _nest(LIMITS.depth + 1)}), 400)
    _error(ops.post("/admin/reference", json={"regions": [{"id": "r\u0000"}]}), 400, "INVALID_VALUE")


def _nest(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


# -- O(n) ----------------------------------------------------------------------------------


@pytest.fixture
def roomy(secure_settings: Settings) -> Iterator[Caller]:
    """An app whose item limit lets a 16,000-item order in, with the order manager validating it
    synchronously (strict orders) and no background workers to blur the CPU clock."""
    settings = dataclasses.replace(
        secure_settings,
        limits=dataclasses.replace(Limits(), order_items=20_000, body=4 << 20, document=8 << 20),
        strict_orders=True,
        workers=False,
        dispatcher=False,
    )
    with TestClient(create_app(settings)) as client:
        yield Secured(client).login("ops", ["operator"])


def _cpu(ops: Caller, n: int) -> float:
    body = _order(n)
    best = float("inf")
    for _ in range(3):
        start = time.process_time()  # every thread of this process: the app runs in one of them
        r = ops.post(ORDERS, json=body)
        best = min(best, time.process_time() - start)
        assert r.status_code == 422 and "OFFERING_NOT_FOUND" in r.text, r.text[:300]
    return best


def test_an_order_is_checked_in_linear_time(roomy: Caller) -> None:
    # the duplicate check was list.count per item: 16,000 items took seconds, 4,000 a sixteenth
    small, large = _cpu(roomy, 4000), _cpu(roomy, 16_000)
    assert large < 7 * small, f"4,000 items: {small:.3f} s CPU; 16,000 items: {large:.3f} s CPU"

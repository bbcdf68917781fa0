"""Helpers for the TMF622 ordering and TMF637 inventory tests.

Contract checks (tests/support/assertions.py) against the official TMF622 v4.0.0 and TMF637 v4.0.0 files::

    assert_622("ProductOrder", body)       # an object, or each item of a list
    assert_637("Product", body)

Catalog: the demo catalog, imported through a TMF620 importJob (``load_demo``).
Orders are processed asynchronously: ``wait_state`` polls until the order is in one
of the given states.
"""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.support.assertions import TMF622_SPEC, TMF637_SPEC, assert_valid
from tests.support.polling import wait_until

DEMO_FILE = Path(__file__).resolve().parents[2] / "src/tmfstack/demo/data/product_catalog.json"

CATALOG = "/tmf-api/productCatalogManagement/v4"
ORDERING = "/tmf-api/productOrderingManagement/v4"
INVENTORY = "/tmf-api/productInventory/v4"
ORDERS = f"{ORDERING}/productOrder"
CANCELS = f"{ORDERING}/cancelProductOrder"
PRODUCTS = f"{INVENTORY}/product"
OFFERINGS = f"{CATALOG}/productOffering"

ORDER_TERMINAL = frozenset({"completed", "failed", "partial", "cancelled", "rejected"})
CANCEL_TERMINAL = frozenset({"done", "terminatedWithError"})

Doc = dict[str, Any]


# -- contract ------------------------------------------------------------------------------


def assert_622(entity: str, body: Any) -> None:
    """``body`` (or each item of a list) is a valid TMF622 v4.0.0 ``entity``."""
    assert_valid(TMF622_SPEC, entity, body)


def assert_637(entity: str, body: Any) -> None:
    """``body`` (or each item of a list) is a valid TMF637 v4.0.0 ``entity``."""
    assert_valid(TMF637_SPEC, entity, body)


# -- catalog -------------------------------------------------------------------------------


def load_demo(client: Any, timeout: float = 15.0) -> None:
    """Import the demo catalog through a TMF620 importJob and wait for it to succeed."""
    r = client.post(f"{CATALOG}/importJob", json={"url": f"file://{DEMO_FILE}", "contentType": "application/json"})
    assert r.status_code == 201, r.text
    job_id = r.json()["id"]
    job = wait_until(
        lambda: client.get(f"{CATALOG}/importJob/{job_id}").json(),
        lambda job: job["status"] in ("Succeeded", "Failed"),
        timeout,
        lambda job: f"demo import still {job['status']}",
    )
    assert job["status"] == "Succeeded", job


def create_offering(client: Any, **body: Any) -> Doc:
    r = client.post(OFFERINGS, json=body)
    assert r.status_code == 201, r.text
    return r.json()


# -- order bodies --------------------------------------------------------------------------

_numbers = itertools.count(10_000_000)


def msisdn() -> str:
    """A fresh, valid MSISDN (``^\\+[1-9][0-9]{7,14}$``)."""
    return f"+3361{next(_numbers)}"


def customer() -> str:
    """A fresh customer id, so that a test's orders and products are its own on a shared app."""
    return f"cust-{uuid.uuid4().hex[:8]}"


def iso(seconds_from_now: float) -> str:
    when = datetime.now(UTC) + timedelta(seconds=seconds_from_now)
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def party(customer_id: str, name: str | None = None) -> Doc:
    return {
        "id": customer_id,
        "name": name or f"Customer {customer_id}",
        "role": "customer",
        "@referredType": "Individual",
    }


def chars(**values: Any) -> list[Doc]:
    """``chars(MSISDN="+33...")``; underscores stand for spaces (``Download_speed=500``)."""
    return [{"name": name.replace("_", " "), "value": value} for name, value in values.items()]


def add(item_id: str, offering: str, characteristics: list[Doc] | None = None, **extra: Any) -> Doc:
    item: Doc = {"id": item_id, "action": "add", "productOffering": {"id": offering}, **extra}
    if characteristics is not None:
        item.setdefault("product", {})["productCharacteristic"] = characteristics
    return item


def mobile(item_id: str, offering: str = "po-mobile-m", number: str | None = None, **extra: Any) -> Doc:
    """A mobile line: the MSISDN is the one characteristic without a default."""
    return add(item_id, offering, [{"name": "MSISDN", "value": number or msisdn()}], **extra)


def change(item_id: str, product_id: str, action: str = "modify", **product: Any) -> Doc:
    """A modify or delete item on an existing product."""
    return {"id": item_id, "action": action, "product": {"id": product_id, **product}}


def order(*items: Doc, customer: str | None = "cust-1", **extra: Any) -> Doc:
    body: Doc = {"productOrderItem": list(items), **extra}
    if customer is not None:
        body.setdefault("relatedParty", [party(customer)])
    return body


# -- requests ------------------------------------------------------------------------------


def post_order(client: Any, body: Doc) -> Doc:
    """POST an order: 201 in state acknowledged, a valid ProductOrder; returns it."""
    r = client.post(ORDERS, json=body)
    assert r.status_code == 201, r.text
    doc = r.json()
    assert_622("ProductOrder", doc)
    assert doc["state"] == "acknowledged", doc
    assert r.headers.get("location", doc["href"]).endswith(f"/productOrder/{doc['id']}")
    return doc


def get_order(client: Any, order_id: str) -> Doc:
    r = client.get(f"{ORDERS}/{order_id}")
    assert r.status_code == 200, r.text
    doc = r.json()
    assert_622("ProductOrder", doc)
    return doc


def wait_state(client: Any, order_id: str, states: Any = ORDER_TERMINAL, timeout: float = 10.0) -> Doc:
    """Poll the order until its state is one of ``states`` (a string or a collection); returns it."""
    wanted = {states} if isinstance(states, str) else set(states)
    return wait_until(
        lambda: get_order(client, order_id),
        lambda doc: doc["state"] in wanted,
        timeout,
        lambda doc: f"order {order_id} still {doc['state']}: {notes(doc)}",
    )


def place(client: Any, body: Doc, states: Any = ORDER_TERMINAL, timeout: float = 10.0) -> Doc:
    """POST an order and wait until it reaches one of ``states`` (default: any terminal state)."""
    return wait_state(client, post_order(client, body)["id"], states, timeout)


def notes(doc: Doc) -> str:
    """Every note text of an order, one per line."""
    return "\n".join(n.get("text", "") for n in doc.get("note") or [])


def post_cancel(client: Any, order_id: str, reason: str | None = "changed my mind", **extra: Any) -> Doc:
    body: Doc = {"productOrder": {"id": order_id, "@referredType": "ProductOrder"}, **extra}
    if reason is not None:
        body["cancellationReason"] = reason
    r = client.post(CANCELS, json=body)
    assert r.status_code == 201, r.text
    doc = r.json()
    assert_622("CancelProductOrder", doc)
    return doc


def get_cancel(client: Any, cancel_id: str) -> Doc:
    r = client.get(f"{CANCELS}/{cancel_id}")
    assert r.status_code == 200, r.text
    doc = r.json()
    assert_622("CancelProductOrder", doc)
    return doc


def wait_cancel(client: Any, cancel_id: str, timeout: float = 10.0) -> Doc:
    return wait_until(
        lambda: get_cancel(client, cancel_id),
        lambda doc: doc["state"] in CANCEL_TERMINAL,
        timeout,
        lambda doc: f"cancellation {cancel_id} still {doc['state']}",
    )


def get_product(client: Any, product_id: str) -> Doc:
    r = client.get(f"{PRODUCTS}/{product_id}")
    assert r.status_code == 200, r.text
    doc = r.json()
    assert_637("Product", doc)
    return doc


def products(client: Any, **params: Any) -> list[Doc]:
    r = client.get(PRODUCTS, params={"limit": 1000, **params})
    assert r.status_code == 200, r.text
    docs = r.json()
    assert_637("Product", docs)
    return docs


def products_of_order(client: Any, order_id: str) -> list[Doc]:
    """Products whose productOrderItem back-references name ``order_id``."""
    return [
        p
        for p in products(client)
        if any(ref.get("productOrderId") == order_id for ref in p.get("productOrderItem") or [])
    ]


def added_by(client: Any, order_id: str, item_id: str) -> Doc:
    """The one product an add item of ``order_id`` created."""
    found = [
        p
        for p in products_of_order(client, order_id)
        if any(
            ref.get("productOrderId") == order_id
            and ref.get("orderItemId") == item_id
            and ref.get("orderItemAction") == "add"
            for ref in p.get("productOrderItem") or []
        )
    ]
    assert len(found) == 1, f"item {item_id} of order {order_id} created {len(found)} products"
    return found[0]


def add_hub(client: Any, root: str, callback: str, query: str | None = None) -> Doc:
    """Subscribe ``callback`` to the events of the API at ``root`` (TMF622 or TMF637); returns the hub."""
    body: Doc = {"callback": callback}
    if query is not None:
        body["query"] = query
    r = client.post(f"{root}/hub", json=body)
    assert r.status_code == 201, r.text
    assert_valid(TMF637_SPEC if root == INVENTORY else TMF622_SPEC, "EventSubscription", r.json())
    return r.json()

"""Helpers for the fulfilment chain tests.

``load_chain(client)`` loads the three demo catalogs through their importJobs (TMF634,
TMF620, TMF633, in that order) and stocks the demo pools through TMF685 and TMF639, all
over HTTP. Readers list what the chain wrote (TMF641 service orders of a product order,
TMF638 services and TMF639 resources of a customer, TMF652 resource orders, TMF640
activation requests, TMF685 reservations), each validated against the official Swagger
file in ../shared/specs (TMF641 v4.1.0, TMF638 v4.0.0, TMF639 v4.0.0 (the 2020 file),
TMF652 v4.0.0; see tests/support/assertions.py)::

    assert_640("Service", body)        # TMF640 v4.0.0
    assert_685("Reservation", body)    # TMF685 v1 (undefined references opened up)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support.assertions import assert_valid, spec_file
from tests.support.polling import wait_until
from tmfstack.apis.inventory.pools import member
from tmfstack.demo.pools import DEMO_POOLS

Doc = dict[str, Any]

DEMO_DIR = Path(__file__).resolve().parents[2] / "src/tmfstack/demo/data"

RESOURCE_CATALOG = "/tmf-api/resourceCatalog/v4"
PRODUCT_CATALOG = "/tmf-api/productCatalogManagement/v4"
SERVICE_CATALOG = "/tmf-api/serviceCatalogManagement/v4"
SERVICE_ORDERING = "/tmf-api/serviceOrdering/v4"
RESOURCE_ORDERING = "/tmf-api/resourceOrderingManagement/v4"
SERVICE_INVENTORY = "/tmf-api/serviceInventory/v4"
RESOURCE_INVENTORY = "/tmf-api/resourceInventoryManagement/v4"
ACTIVATION = "/tmf-api/ServiceActivationAndConfiguration/v4"
POOLS = "/tmf-api/resourcePoolManagement/v1"

SERVICE_ORDERS = f"{SERVICE_ORDERING}/serviceOrder"
CANCEL_SERVICE_ORDERS = f"{SERVICE_ORDERING}/cancelServiceOrder"
RESOURCE_ORDERS = f"{RESOURCE_ORDERING}/resourceOrder"
SERVICES = f"{SERVICE_INVENTORY}/service"
RESOURCES = f"{RESOURCE_INVENTORY}/resource"
ACTIVATIONS = f"{ACTIVATION}/service"
MONITORS = f"{ACTIVATION}/monitor"
RESOURCE_POOLS = f"{POOLS}/resourcePool"
RESERVATIONS = f"{POOLS}/reservation"

#: (API root, demo file), in dependency order (mappings name product and service specifications)
DEMO_FILES = (
    (RESOURCE_CATALOG, "resource_catalog.json"),
    (PRODUCT_CATALOG, "product_catalog.json"),
    (SERVICE_CATALOG, "service_catalog.json"),
)

TMF641_SPEC = spec_file("641")
TMF652_SPEC = spec_file("652")
TMF640_SPEC = spec_file("640")
TMF638_SPEC = spec_file("638")
TMF639_SPEC = spec_file("639")
TMF685_SPEC = spec_file("685")

SO_TERMINAL = frozenset({"completed", "failed", "partial", "cancelled", "rejected"})


# -- contract ------------------------------------------------------------------------------


def assert_640(entity: str, body: Any) -> None:
    assert_valid(TMF640_SPEC, entity, body)


def assert_685(entity: str, body: Any) -> None:
    assert_valid(TMF685_SPEC, entity, body)


# -- loading -------------------------------------------------------------------------------


def import_file(client: Any, root: str, file_name: str, timeout: float = 20.0) -> Doc:
    """Run one importJob of ``root`` on a demo file and wait until it Succeeded; returns the job."""
    r = client.post(
        f"{root}/importJob", json={"url": f"file://{DEMO_DIR / file_name}", "contentType": "application/json"}
    )
    assert r.status_code == 201, r.text
    job_id = r.json()["id"]

    def read() -> Doc:
        r = client.get(f"{root}/importJob/{job_id}")
        assert r.status_code == 200, r.text
        return r.json()

    job = wait_until(
        read,
        lambda job: job["status"] in ("Succeeded", "Failed"),
        timeout,
        lambda job: f"import of {file_name} still {job['status']}",
    )
    assert job["status"] == "Succeeded", job
    return job


def stock_pool(client: Any, pool_def: Any, size: int) -> Doc:
    """One demo pool through HTTP: the TMF685 resourcePool, then ``size`` free TMF639 members."""
    r = client.get(f"{RESOURCE_CATALOG}/resourceSpecification/{pool_def.spec}")
    assert r.status_code == 200, r.text
    spec = r.json()
    body = {  # as stock_pools builds it, less the id (the server assigns ids on create)
        "description": pool_def.description,
        "resourceCollection": [
            {
                "objectId": spec["id"],
                "name": spec.get("name"),
                "href": spec["href"],
                "@referredType": "ResourceSpecification",
            }
        ],
        "@type": "ResourcePool",
    }
    r = client.post(RESOURCE_POOLS, json=body)
    assert r.status_code == 201, r.text
    pool = r.json()
    assert_685("ResourcePool", pool)
    for i in range(min(size, pool_def.limit or size)):
        name, chars = pool_def.member(i)
        r = client.post(RESOURCES, json=member(pool, spec, name, pool_def.resource_type, chars))
        assert r.status_code == 201, r.text
    return pool


def load_chain(client: Any, pool_size: int = 20) -> list[Doc]:
    """The demo resource, product and service catalogs (importJobs) and the demo pools; returns the pools."""
    for root, file_name in DEMO_FILES:
        import_file(client, root, file_name)
    return [stock_pool(client, pool_def, pool_size) for pool_def in DEMO_POOLS]


# -- readers -------------------------------------------------------------------------------


def _list(client: Any, url: str, spec: Path, entity: str, **params: Any) -> list[Doc]:
    r = client.get(url, params={"limit": 1000, **params})
    assert r.status_code == 200, r.text
    docs = r.json()
    assert isinstance(docs, list), docs
    assert_valid(spec, entity, docs)
    return docs


def _get(client: Any, url: str, spec: Path, entity: str) -> Doc:
    r = client.get(url)
    assert r.status_code == 200, r.text
    doc = r.json()
    assert_valid(spec, entity, doc)
    return doc


def service_orders(client: Any, product_order_id: str) -> list[Doc]:
    """TMF641 service orders whose externalReference is the product order."""
    return _list(client, SERVICE_ORDERS, TMF641_SPEC, "ServiceOrder", **{"externalReference.id": product_order_id})


def service_order(client: Any, so_id: str) -> Doc:
    return _get(client, f"{SERVICE_ORDERS}/{so_id}", TMF641_SPEC, "ServiceOrder")


def cancel_service_orders(client: Any, so_id: str) -> list[Doc]:
    return _list(client, CANCEL_SERVICE_ORDERS, TMF641_SPEC, "CancelServiceOrder", **{"serviceOrder.id": so_id})


def resource_orders(client: Any, so_id: str | None = None) -> list[Doc]:
    """TMF652 resource orders (those of service order ``so_id`` when given)."""
    params = {"externalReference.id": so_id} if so_id else {}
    return _list(client, RESOURCE_ORDERS, TMF652_SPEC, "ResourceOrder", **params)


def services(client: Any, customer_id: str | None = None, **params: Any) -> list[Doc]:
    """TMF638 services (of the customer when given)."""
    if customer_id is not None:
        params["relatedParty.id"] = customer_id
    return _list(client, SERVICES, TMF638_SPEC, "Service", **params)


def service_doc(client: Any, service_id: str) -> Doc:
    return _get(client, f"{SERVICES}/{service_id}", TMF638_SPEC, "Service")


def resources(client: Any, customer_id: str | None = None, **params: Any) -> list[Doc]:
    """TMF639 resources (held by the customer when given)."""
    if customer_id is not None:
        params["relatedParty.id"] = customer_id
    return _list(client, RESOURCES, TMF639_SPEC, "Resource", **params)


def resource_doc(client: Any, resource_id: str) -> Doc:
    return _get(client, f"{RESOURCES}/{resource_id}", TMF639_SPEC, "Resource")


def activation(client: Any, service_id: str) -> Doc:
    """The TMF640 activation request of an RFS (same id as the TMF638 service)."""
    return _get(client, f"{ACTIVATIONS}/{service_id}", TMF640_SPEC, "Service")


def monitors(client: Any, service_href: str) -> list[Doc]:
    return _list(client, MONITORS, TMF640_SPEC, "Monitor", sourceHref=service_href)


def reservations(client: Any, customer_id: str) -> list[Doc]:
    return _list(client, RESERVATIONS, TMF685_SPEC, "Reservation", **{"relatedParty.id": customer_id})


def pool_for(client: Any, spec_id: str) -> Doc:
    """The TMF685 resource pool that holds resources of ``spec_id``."""
    found = [
        p
        for p in _list(client, RESOURCE_POOLS, TMF685_SPEC, "ResourcePool")
        if spec_id in {c.get("objectId") for c in p.get("resourceCollection") or []}
    ]
    assert len(found) == 1, f"{len(found)} pools hold {spec_id}"
    return found[0]


def monitor(client: Any, monitor_id: str) -> Doc:
    return _get(client, f"{MONITORS}/{monitor_id}", TMF640_SPEC, "Monitor")


def free_members(client: Any, spec_id: str) -> list[Doc]:
    """Free (available) TMF639 members of a resource specification."""
    return resources(client, **{"resourceSpecification.id": spec_id, "resourceStatus": "available"})


def by_spec(docs: list[Doc], spec_key: str = "serviceSpecification") -> dict[str, list[Doc]]:
    """Group services (or resources, ``spec_key="resourceSpecification"``) by specification id."""
    out: dict[str, list[Doc]] = {}
    for doc in docs:
        out.setdefault((doc.get(spec_key) or {}).get("id", ""), []).append(doc)
    return out


def char(doc: Doc, name: str, key: str = "serviceCharacteristic") -> Any:
    """The value of the characteristic ``name`` of a service (or ``key`` list of another entity)."""
    for c in doc.get(key) or []:
        if c.get("name") == name:
            return c.get("value")
    raise AssertionError(f"{doc.get('id')} has no characteristic {name!r}: {doc.get(key)}")


def wait_service_order(client: Any, so_id: str, states: Any = SO_TERMINAL, timeout: float = 10.0) -> Doc:
    wanted = {states} if isinstance(states, str) else set(states)
    return wait_until(
        lambda: service_order(client, so_id),
        lambda so: so["state"] in wanted,
        timeout,
        f"service order {so_id} in {sorted(wanted)}",
    )

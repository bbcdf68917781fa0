"""TMF633 / TMF634 / TMF638 / TMF639 through HTTP: CRUD, the service state table, PUT and events."""

from __future__ import annotations

import time

import pytest
from starlette.testclient import TestClient

from tests.support.assertions import assert_error, assert_valid
from tests.support.listener import Listener
from tests.support.sro import RC, RI, SC, SI, create
from tmfstack.apis.inventory.tmf638 import SERVICE_LIFECYCLE

#: API root by API number (TMF633, TMF634, TMF638, TMF639)
ROOT = {"633": SC, "634": RC, "638": SI, "639": RI}
SPEC_REF = {"id": "spec-1", "href": "http://example.com/spec-1", "name": "a spec"}

# (api, path, entity, minimal body, filter attribute)
CASES = [
    ("633", "serviceCatalog", "ServiceCatalog", {"name": "sc"}, "name"),
    ("633", "serviceCategory", "ServiceCategory", {"name": "scat"}, "name"),
    ("633", "serviceCandidate", "ServiceCandidate", {"name": "scand", "serviceSpecification": SPEC_REF}, "name"),
    ("633", "serviceSpecification", "ServiceSpecification", {"name": "sspec"}, "name"),
    ("634", "resourceCatalog", "ResourceCatalog", {"name": "rc"}, "name"),
    ("634", "resourceCategory", "ResourceCategory", {"name": "rcat"}, "name"),
    ("634", "resourceCandidate", "ResourceCandidate", {"name": "rcand"}, "name"),
    ("634", "resourceSpecification", "ResourceSpecification", {"name": "rspec"}, "name"),
    ("638", "service", "Service", {"state": "designed", "serviceSpecification": SPEC_REF}, "state"),
    ("639", "resource", "Resource", {"name": "res"}, "name"),
    ("639", "physicalResource", "PhysicalResource", {"name": "pres"}, "name"),
    ("639", "logicalResource", "LogicalResource", {"name": "lres"}, "name"),
]


@pytest.mark.parametrize(("api", "path", "entity", "body", "attr"), CASES, ids=[c[1] for c in CASES])
def test_crud(client: TestClient, api: str, path: str, entity: str, body: dict, attr: str) -> None:
    url = f"{ROOT[api]}/{path}"
    doc = create(client, url, body)
    assert_valid(api, entity, doc)
    other = create(client, url, {**body, attr: "reserved" if attr == "state" else "other"})

    r = client.get(f"{url}/{doc['id']}")
    assert r.status_code == 200, r.text
    assert r.json()["id"] == doc["id"]
    assert_valid(api, entity, r.json())

    r = client.get(url, params={attr: body[attr]})
    assert r.status_code == 200, r.text
    ids = {d["id"] for d in r.json()}
    assert doc["id"] in ids and other["id"] not in ids

    r = client.patch(f"{url}/{doc['id']}", json={"description": "patched"})
    assert r.status_code == 200, r.text
    assert r.json()["description"] == "patched"
    assert_valid(api, entity, r.json())

    assert client.delete(f"{url}/{doc['id']}").status_code == 204
    assert_error(client.get(f"{url}/{doc['id']}"), 404, spec=api)
    assert_error(client.delete(f"{url}/{doc['id']}"), 404, spec=api)


def test_service_state_table(client: TestClient) -> None:
    url = f"{SI}/service"
    table = SERVICE_LIFECYCLE.transitions
    states = sorted(set(table) | {s for targets in table.values() for s in targets})
    for old in states:
        for new in states:
            doc = create(client, url, {"state": old, "serviceSpecification": SPEC_REF})
            r = client.patch(f"{url}/{doc['id']}", json={"state": new})
            if new == old or new in table.get(old, ()):
                assert r.status_code == 200, f"{old} -> {new}: {r.text}"
                assert r.json()["state"] == new
            else:
                assert_error(r, 409, "INVALID_TRANSITION", spec="638")


def test_logical_resource_put_replaces(client: TestClient) -> None:
    url = f"{RI}/logicalResource"
    doc = create(client, url, {"name": "lr", "description": "old", "value": "v1"})
    r = client.put(f"{url}/{doc['id']}", json={"name": "lr2"})
    assert r.status_code == 200, r.text
    new = r.json()
    assert new["id"] == doc["id"] and new["href"] == doc["href"]
    assert new["name"] == "lr2"
    assert "description" not in new and "value" not in new
    assert_valid("639", "LogicalResource", new)
    stored = client.get(f"{url}/{doc['id']}").json()
    assert "description" not in stored and stored["name"] == "lr2"
    assert_error(client.put(f"{url}/{doc['id']}", json={"id": doc["id"], "name": "x"}), 400, spec="639")


def test_put_resource_not_allowed(client: TestClient) -> None:
    url = f"{RI}/resource"
    doc = create(client, url, {"name": "r"})
    r = client.put(f"{url}/{doc['id']}", json={"name": "r2"})
    assert_error(r, 405, spec="639")
    assert "PATCH" in r.headers["allow"].upper()


def _hub(client: TestClient, base: str, callback: str) -> None:
    r = client.post(f"{base}/hub", json={"callback": callback})
    assert r.status_code == 201, r.text


def test_service_specification_events(client: TestClient) -> None:
    base, spec = SC, "633"
    with Listener() as listener:
        _hub(client, base, listener.url)
        doc = create(client, f"{base}/serviceSpecification", {"name": "s", "lifecycleStatus": "In study"})
        r = client.patch(f"{base}/serviceSpecification/{doc['id']}", json={"lifecycleStatus": "In design"})
        assert r.status_code == 200, r.text
        listener.wait_for(2)
        time.sleep(0.5)  # a second ChangeEvent for the same PATCH would arrive here
        bodies = listener.bodies
    types = [b["eventType"] for b in bodies]
    assert types == ["ServiceSpecificationCreateEvent", "ServiceSpecificationChangeEvent"], types
    for b in bodies:
        assert_valid(spec, b["eventType"], b)
    assert bodies[1]["event"]["serviceSpecification"]["lifecycleStatus"] == "In design"


def test_service_state_change_event(client: TestClient) -> None:
    base, spec = SI, "638"
    with Listener() as listener:
        _hub(client, base, listener.url)
        doc = create(client, f"{base}/service", {"state": "designed", "serviceSpecification": SPEC_REF})
        r = client.patch(f"{base}/service/{doc['id']}", json={"state": "reserved"})
        assert r.status_code == 200, r.text
        bodies = listener.wait_until(lambda b: any(x["eventType"] == "ServiceStateChangeEvent" for x in b))
    event = next(b for b in bodies if b["eventType"] == "ServiceStateChangeEvent")
    assert_valid(spec, "ServiceStateChangeEvent", event)
    assert event["event"]["service"]["state"] == "reserved"

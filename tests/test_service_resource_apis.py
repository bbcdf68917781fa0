"""TMF633 / TMF634 / TMF638 / TMF639 through HTTP: CRUD, the service state table, PUT and events."""

from __future__ import annotations

import json
import time
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from starlette.testclient import TestClient

from listener import Listener
from tmfstack.apis.inventory.tmf638 import SERVICE_LIFECYCLE

SPECS = Path(__file__).resolve().parents[2] / "shared/specs"
SC = ("/tmf-api/serviceCatalogManagement/v4", "TMF633-ServiceCatalog-v4.0.0")
RC = ("/tmf-api/resourceCatalog/v4", "TMF634-ResourceCatalog-v4.1.0")
SI = ("/tmf-api/serviceInventory/v4", "TMF638-ServiceInventory-v4.0.0")
RI = ("/tmf-api/resourceInventoryManagement/v4", "TMF639-ResourceInventory-v4.0.0")
SPEC_REF = {"id": "spec-1", "href": "http://example.com/spec-1", "name": "a spec"}

# (api, path, entity, minimal body, filter attribute)
CASES = [
    (SC, "serviceCatalog", "ServiceCatalog", {"name": "sc"}, "name"),
    (SC, "serviceCategory", "ServiceCategory", {"name": "scat"}, "name"),
    (SC, "serviceCandidate", "ServiceCandidate", {"name": "scand", "serviceSpecification": SPEC_REF}, "name"),
    (SC, "serviceSpecification", "ServiceSpecification", {"name": "sspec"}, "name"),
    (RC, "resourceCatalog", "ResourceCatalog", {"name": "rc"}, "name"),
    (RC, "resourceCategory", "ResourceCategory", {"name": "rcat"}, "name"),
    (RC, "resourceCandidate", "ResourceCandidate", {"name": "rcand"}, "name"),
    (RC, "resourceSpecification", "ResourceSpecification", {"name": "rspec"}, "name"),
    (SI, "service", "Service", {"state": "designed", "serviceSpecification": SPEC_REF}, "state"),
    (RI, "resource", "Resource", {"name": "res"}, "name"),
    (RI, "physicalResource", "PhysicalResource", {"name": "pres"}, "name"),
    (RI, "logicalResource", "LogicalResource", {"name": "lres"}, "name"),
]


@cache
def _definitions(spec: str) -> dict[str, Any]:
    return json.loads((SPECS / f"{spec}.swagger.json").read_text())["definitions"]


@cache
def _validator(spec: str, definition: str) -> Any:
    schema = {"$ref": f"#/definitions/{definition}", "definitions": _definitions(spec)}
    return jsonschema_rs.Draft4Validator(schema)


def assert_valid(spec: str, definition: str, instance: Any) -> None:
    problems = [f"{list(e.instance_path)}: {e.message}" for e in _validator(spec, definition).iter_errors(instance)]
    assert not problems, f"{definition} invalid per {spec}: {problems[:5]}"


def assert_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    for key in ("code", "reason", "message", "status", "@type"):
        assert key in body, f"missing {key} in {body}"
    assert str(body["status"]) == str(status)
    if code is not None:
        assert body["code"] == code, body
    return body


def create(client: TestClient, url: str, body: dict[str, Any]) -> dict[str, Any]:
    r = client.post(url, json=body)
    assert r.status_code == 201, r.text
    doc = r.json()
    assert r.headers["location"] == doc["href"]
    return doc


@pytest.mark.parametrize(("api", "path", "entity", "body", "attr"), CASES, ids=[c[1] for c in CASES])
def test_crud(client: TestClient, api: tuple[str, str], path: str, entity: str, body: dict, attr: str) -> None:
    base, spec = api
    url = f"{base}/{path}"
    doc = create(client, url, body)
    assert_valid(spec, entity, doc)
    other = create(client, url, {**body, attr: "reserved" if attr == "state" else "other"})

    r = client.get(f"{url}/{doc['id']}")
    assert r.status_code == 200, r.text
    assert r.json()["id"] == doc["id"]
    assert_valid(spec, entity, r.json())

    r = client.get(url, params={attr: body[attr]})
    assert r.status_code == 200, r.text
    ids = {d["id"] for d in r.json()}
    assert doc["id"] in ids and other["id"] not in ids

    r = client.patch(f"{url}/{doc['id']}", json={"description": "patched"})
    assert r.status_code == 200, r.text
    assert r.json()["description"] == "patched"
    assert_valid(spec, entity, r.json())

    assert client.delete(f"{url}/{doc['id']}").status_code == 204
    assert_error(client.get(f"{url}/{doc['id']}"), 404)
    assert_error(client.delete(f"{url}/{doc['id']}"), 404)


def test_service_state_table(client: TestClient) -> None:
    url = f"{SI[0]}/service"
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
                assert_error(r, 409, "INVALID_TRANSITION")


def test_logical_resource_put_replaces(client: TestClient) -> None:
    url = f"{RI[0]}/logicalResource"
    doc = create(client, url, {"name": "lr", "description": "old", "value": "v1"})
    r = client.put(f"{url}/{doc['id']}", json={"name": "lr2"})
    assert r.status_code == 200, r.text
    new = r.json()
    assert new["id"] == doc["id"] and new["href"] == doc["href"]
    assert new["name"] == "lr2"
    assert "description" not in new and "value" not in new
    assert_valid(RI[1], "LogicalResource", new)
    stored = client.get(f"{url}/{doc['id']}").json()
    assert "description" not in stored and stored["name"] == "lr2"
    assert_error(client.put(f"{url}/{doc['id']}", json={"id": doc["id"], "name": "x"}), 400)


def test_put_resource_not_allowed(client: TestClient) -> None:
    url = f"{RI[0]}/resource"
    doc = create(client, url, {"name": "r"})
    r = client.put(f"{url}/{doc['id']}", json={"name": "r2"})
    assert_error(r, 405)
    assert "PATCH" in r.headers["allow"].upper()


def _hub(client: TestClient, base: str, callback: str) -> None:
    r = client.post(f"{base}/hub", json={"callback": callback})
    assert r.status_code == 201, r.text


def test_service_specification_events(client: TestClient) -> None:
    base, spec = SC
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
    base, spec = SI
    with Listener() as listener:
        _hub(client, base, listener.url)
        doc = create(client, f"{base}/service", {"state": "designed", "serviceSpecification": SPEC_REF})
        r = client.patch(f"{base}/service/{doc['id']}", json={"state": "reserved"})
        assert r.status_code == 200, r.text
        bodies = listener.wait_until(lambda b: any(x["eventType"] == "ServiceStateChangeEvent" for x in b))
    event = next(b for b in bodies if b["eventType"] == "ServiceStateChangeEvent")
    assert_valid(spec, "ServiceStateChangeEvent", event)
    assert event["event"]["service"]["state"] == "reserved"

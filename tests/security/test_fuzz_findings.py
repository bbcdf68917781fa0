"""Regression tests for the classes of bugs the Schemathesis run (tests/fuzz) found.

1. Attributes named like JSON-schema prose keywords (``description``, ``title``, ``example``)
   were dropped from the generated contract with the prose, so any value was stored and served
   (a number as a product offering's description, an object as an individual's title) and the
   answers broke the official schemas. Now every attribute of the official files is validated.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.security import Caller, Secured
from tmfstack.apis import all_apis

SPECS = Path(__file__).resolve().parents[3] / "shared" / "specs"
CATALOG = "/tmf-api/productCatalogManagement/v4"
SERVICE_CATALOG = "/tmf-api/serviceCatalogManagement/v4"
POOLS = "/tmf-api/resourcePoolManagement/v1"
PARTY = "/tmf-api/party/v4"


@pytest.fixture
def operator(secure: Secured) -> Caller:
    return secure.login("ops", ["operator"])


def _refused(r: Any, attribute: str) -> None:
    assert r.status_code == 400, (r.status_code, r.text)
    body = r.json()
    assert body["code"] == "SCHEMA_VIOLATION" and body["status"] == "400", body
    assert attribute in body["message"], body


@pytest.mark.parametrize(
    "path, body, attribute",
    [
        (f"{CATALOG}/productOffering", {"name": "x", "description": 5}, "description"),
        (f"{POOLS}/resourcePool", {"name": "p", "description": True}, "description"),
        (f"{PARTY}/individual", {"givenName": "A", "familyName": "B", "title": {"x": 1}}, "title"),
    ],
)
def test_create_refuses_a_mistyped_prose_named_attribute(
    operator: Caller, path: str, body: dict[str, Any], attribute: str
) -> None:
    _refused(operator.post(path, json=body), attribute)
    listed = operator.get(path)
    assert listed.status_code == 200 and listed.json() == [], "nothing was stored"


def test_patch_refuses_a_mistyped_nested_description(operator: Caller) -> None:
    created = operator.post(f"{SERVICE_CATALOG}/serviceSpecification", json={"name": "s"})
    assert created.status_code == 201, created.text
    url = f"{SERVICE_CATALOG}/serviceSpecification/{created.json()['id']}"
    _refused(operator.patch(url, json={"attachment": [{"description": -2.9e42}]}), "description")
    assert "attachment" not in operator.get(url).json()


def _properties(schema: Any) -> set[str]:
    return set(schema.get("properties", {})) if isinstance(schema, dict) else set()


@pytest.mark.skipif(not SPECS.is_dir(), reason="the official files are not at ../shared/specs")
# the Swagger 2 (v4) files; an OAS 3 file's contract is compared whole by tests/unit/test_gen_specs_v5.py
@pytest.mark.parametrize("api", [a for a in all_apis() if a.contract.source.endswith(".json")], ids=lambda api: api.key)
def test_the_contract_keeps_every_attribute_of_the_official_file(api: Any) -> None:
    official = json.loads((SPECS / api.contract.source).read_text(encoding="utf-8"))["definitions"]
    missing = [
        f"{name}.{attr}"
        for name, schema in official.items()
        for attr in _properties(schema) - _properties(api.contract.definitions.get(name))
    ]
    assert not missing, missing


# 2. Domain rules ran on a PATCH result before it was validated: a ``note`` sent as an object
#    reached the orders' append-only rule, which sliced it (TypeError, a 500). The engine now
#    validates the patched document before any rule sees it.

ORDERS = [
    ("/tmf-api/productOrderingManagement/v4/productOrder", {"productOrderItem": [{"id": "1", "action": "add"}]}),
    (
        "/tmf-api/serviceOrdering/v4/serviceOrder",
        {"serviceOrderItem": [{"id": "1", "action": "add", "service": {"serviceType": "x"}}]},
    ),
    ("/tmf-api/resourceOrderingManagement/v4/resourceOrder", {"orderItem": [{"id": "1", "action": "add"}]}),
]


@pytest.mark.parametrize("path, body", ORDERS, ids=[p.rsplit("/", 1)[1] for p, _ in ORDERS])
def test_patch_with_a_mistyped_note_is_a_400_not_a_crash(operator: Caller, path: str, body: dict[str, Any]) -> None:
    created = operator.post(path, json=body)
    assert created.status_code == 201, created.text
    url = f"{path}/{created.json()['id']}"
    for _ in range(20):  # the order manager may append its own note between our read and our write
        current = operator.get(url).json().get("note") or []
        noted = operator.patch(url, json={"note": [*current, {"text": "first"}]})
        if noted.status_code != 409:
            break
    assert noted.status_code == 200, noted.text  # the rule now has notes to compare with
    for bad in ({"text": "not a list"}, "text", 7):
        _refused(operator.patch(url, json={"note": bad}), "note")


def test_a_v5_only_resource_keeps_its_type_in_a_projection(operator: Caller) -> None:
    """A resource served by v5 alone (TMF669 v5 partyRoleSpecification) answered ``fields=`` with id and
    href only, though every v5 entity requires ``@type`` (the fuzzer's response_schema_conformance)."""
    root = "/tmf-api/partyRoleManagement/v5/partyRoleSpecification"
    made = operator.post(root, json={"name": "Reseller", "@type": "PartyRoleSpecification"})
    assert made.status_code == 201, made.text
    for r in (operator.get(f"{root}/{made.json()['id']}?fields=name"), operator.get(f"{root}?fields=name")):
        assert r.status_code == 200, r.text
        shown = r.json() if isinstance(r.json(), dict) else r.json()[0]
        assert shown["@type"] == "PartyRoleSpecification" and shown["name"] == "Reseller", shown
        assert "lastUpdate" not in shown, shown

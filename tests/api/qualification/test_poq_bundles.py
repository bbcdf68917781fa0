"""TMF679 items related by ``bundles`` are checked as a bundle and its components: the
offering's option limits and allowed components apply, as they would to the order."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.support.assertions import SPECS, assert_valid
from tests.support.ordering import load_demo

TMF679 = SPECS / "TMF679-ProductOfferingQualification-v4.0.0.swagger.json"
POQ = "/tmf-api/productOfferingQualification/v4/productOfferingQualification"
Doc = dict[str, Any]


def bundle_poq(client: TestClient, *components: str) -> Doc:
    items: list[Doc] = [
        {
            "id": "1",
            "productOffering": {"id": "po-home-mobile-bundle"},
            "qualificationItemRelationship": [
                {"id": str(n), "relationshipType": "bundles"} for n in range(2, len(components) + 2)
            ],
        }
    ]
    items += [{"id": str(n), "productOffering": {"id": o}} for n, o in enumerate(components, 2)]
    body = {
        "instantSyncQualification": True,
        "relatedParty": [{"id": "cust-bundle", "role": "customer", "@referredType": "Individual"}],
        "productOfferingQualificationItem": items,
    }
    r = client.post(POQ, json=body)
    assert r.status_code == 200, r.text
    assert_valid(TMF679, "ProductOfferingQualification", r.json())
    return r.json()


def reasons(doc: Doc, item_id: str) -> set[str]:
    item = next(i for i in doc["productOfferingQualificationItem"] if i["id"] == item_id)
    return {r["code"] for r in item.get("eligibilityUnavailabilityReason") or []}


@pytest.mark.parametrize(
    ("components", "bundle_codes", "component_codes"),
    [
        (("po-fibre-500", "po-mobile-unlimited"), set(), {}),
        (("po-fibre-500", "po-mobile-unlimited", "po-mobile-unlimited"), set(), {}),
        (("po-mobile-unlimited",), {"BUNDLE_TOO_FEW"}, {}),
        (("po-fibre-500", "po-fibre-500", "po-mobile-unlimited"), {"BUNDLE_TOO_MANY"}, {}),
        (("po-fibre-500", "po-mobile-unlimited", "po-mobile-m"), set(), {"4": {"BUNDLE_OFFERING_NOT_ALLOWED"}}),
    ],
)
def test_bundle_limits_apply_to_related_items(
    client: TestClient, components: tuple[str, ...], bundle_codes: set[str], component_codes: dict[str, set[str]]
) -> None:
    load_demo(client)
    doc = bundle_poq(client, *components)
    assert reasons(doc, "1") == bundle_codes
    for n in range(2, len(components) + 2):
        assert reasons(doc, str(n)) == component_codes.get(str(n), set())
    expected = "qualified" if not bundle_codes and not component_codes else "unqualified"
    assert doc["qualificationResult"] == expected


def test_a_bundle_alone_is_asked_about_without_its_components(client: TestClient) -> None:
    load_demo(client)
    body = {
        "instantSyncQualification": True,
        "productOfferingQualificationItem": [{"id": "1", "productOffering": {"id": "po-home-mobile-bundle"}}],
    }
    doc = client.post(POQ, json=body).json()
    assert doc["qualificationResult"] == "qualified", doc

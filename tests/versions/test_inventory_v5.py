"""TMF637/638/639 v5 beside v4, through HTTP: each declared difference (``apis/inventory/tmf63x_v5.py``)
seen from both sides. What v4 stores v5 reads in its own shape (valid against the official v5
file), what v5 posts v4 reads (valid against v4), filters and sorts on v5 paths and literals find
what the v4 ones find, v5-only attributes survive v4 writes, and the order manager's ownership
holds through v5 as through v4."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.support.assertions import assert_valid
from tests.support.listener import Listener
from tests.versions.support import assert_v5, assert_v5_error
from tmfstack.apis.generations import characteristic_type
from tmfstack.apis.inventory import tmf637_v5, tmf638_v5, tmf639_v5

Doc = dict[str, Any]
VERSIONS = {"637": tmf637_v5.API, "638": tmf638_v5.API, "639": tmf639_v5.API}
#: (v4 collection, v5 collection, v4 entity, v5 response schema)
ROOTS = {
    "637": ("/tmf-api/productInventory/v4/product", "/tmf-api/productInventory/v5/product", "Product", "Product"),
    "638": ("/tmf-api/serviceInventory/v4/service", "/tmf-api/serviceInventory/v5/service", "Service", "Service"),
    "639": (
        "/tmf-api/resourceInventoryManagement/v4/resource",
        "/tmf-api/resourceInventoryManagement/v5/resource",
        "Resource",
        "Resource_RES",
    ),
}
MONEY = {"unit": "EUR", "value": 30}
#: every JSON kind of characteristic value, stored v4-style (no @type)
CHARS = [{"name": f"c{i}", "value": v} for i, v in enumerate(["1G", 2, 2.5, True, {"vlan": 7}, ["a"], [{"x": 1}]])]

V4_BODIES: dict[str, Doc] = {
    "637": {
        "name": "fibre",
        "status": "created",
        "relatedParty": [{"id": "c1", "role": "customer", "@referredType": "Individual"}],
        "agreement": [{"id": "a1", "href": "http://x/a1", "name": "frame", "agreementItemId": "1"}],
        "productOrderItem": [{"productOrderId": "o1", "productOrderHref": "http://x/o1", "orderItemId": "1"}],
        "productCharacteristic": CHARS,
        "productRelationship": [{"relationshipType": "bundled", "product": {"id": "p0", "href": "http://x/p0"}}],
        "productPrice": [
            {
                "priceType": "recurring",
                "price": {"taxIncludedAmount": MONEY},
                "productPriceAlteration": [{"priceType": "discount", "price": {"taxIncludedAmount": MONEY}}],
            }
        ],
        "place": [{"id": "pl1", "href": "http://x/pl1", "role": "install"}],
    },
    "638": {
        "state": "designed",
        "serviceSpecification": {"id": "s1", "href": "http://x/s1"},
        "relatedParty": [{"id": "c1", "role": "customer", "@referredType": "Individual"}],
        "relatedEntity": [{"id": "e1", "href": "http://x/e1", "role": "realizes", "@referredType": "Product"}],
        "place": [{"id": "pl1", "href": "http://x/pl1", "role": "install"}],
        "serviceCharacteristic": CHARS,
        "feature": [{"id": "f1", "name": "qos", "featureCharacteristic": [{"name": "class", "value": "gold"}]}],
        "supportingResource": [{"id": "r1", "href": "http://x/r1"}],
        "serviceOrderItem": [{"serviceOrderId": "so1", "itemId": "1"}],
    },
    "639": {
        "name": "ont-1",
        "administrativeState": "shutdown",
        "operationalState": "disable",
        "usageState": "idle",
        "resourceStatus": "available",
        "relatedParty": [{"id": "c1", "role": "owner", "@referredType": "Organization"}],
        "place": {"id": "pl1", "href": "http://x/pl1", "role": "site"},
        "resourceRelationship": [{"id": "r0", "href": "http://x/r0", "relationshipType": "bundled"}],
        "resourceCharacteristic": CHARS,
    },
}
#: served path -> what v5 shows for the v4 body above
V5_SEES: dict[str, dict[str, Any]] = {
    "637": {
        "relatedParty.0.partyOrPartyRole.id": "c1",
        "agreementItem.0.agreementId": "a1",
        "agreementItem.0.agreementHref": "http://x/a1",
        "agreementItem.0.agreementName": "frame",
        "agreementItem.0.agreementItemId": "1",
        "productOrderItem.0.orderId": "o1",
        "productOrderItem.0.orderHref": "http://x/o1",
        "productOrderItem.0.@type": "RelatedOrderItem",
        "productRelationship.0.id": "p0",
        "productRelationship.0.relationshipType": "bundled",
        "productPrice.0.priceAlteration.0.priceType": "discount",
        "place.0.role": "install",
        "place.0.place.id": "pl1",
    },
    "638": {
        "relatedEntity.0.role": "realizes",
        "relatedEntity.0.entity.id": "e1",
        "relatedEntity.0.entity.@referredType": "Product",
        "place.0.place.id": "pl1",
        "feature.0.featureCharacteristic.0.@type": "StringCharacteristic",
        "supportingResource.0.@type": "ResourceRef",
    },
    "639": {
        "@type": "Resource",
        "administrativeState": "shuttingDown",
        "operationalState": "disabled",
        "usageState": "idle",
        "allocationStatus": "available",
        "place.0.place.id": "pl1",
        "place.0.role": "site",
        "resourceRelationship.0.resource.id": "r0",
        "resourceRelationship.0.relationshipType": "bundled",
    },
}
#: (api, v4 filter, v5 filter): the same documents
FILTERS = [
    ("637", ("relatedParty.id", "c1"), ("relatedParty.partyOrPartyRole.id", "c1")),
    ("637", ("agreement.id", "a1"), ("agreementItem.agreementId", "a1")),
    ("637", ("productOrderItem.productOrderId", "o1"), ("productOrderItem.orderId", "o1")),
    ("637", ("productRelationship.product.id", "p0"), ("productRelationship.id", "p0")),
    ("637", ("place.id", "pl1"), ("place.place.id", "pl1")),
    ("638", ("relatedEntity.id", "e1"), ("relatedEntity.entity.id", "e1")),
    ("638", ("place.id", "pl1"), ("place.place.id", "pl1")),
    ("639", ("administrativeState", "shutdown"), ("administrativeState", "shuttingDown")),
    ("639", ("operationalState", "disable"), ("operationalState", "disabled")),
    ("639", ("resourceStatus", "available"), ("allocationStatus", "available")),
    ("639", ("resourceRelationship.id", "r0"), ("resourceRelationship.resource.id", "r0")),
    ("639", ("place.id", "pl1"), ("place.place.id", "pl1")),
]
#: a bare document of each API, which none of the filters above finds
BARE = {
    "637": {"name": "other", "status": "created"},
    "638": {"state": "designed", "serviceSpecification": {"id": "s2"}},
    "639": {"name": "other"},
}


def dig(doc: Any, path: str) -> Any:
    for part in path.split("."):
        doc = doc[int(part)] if isinstance(doc, list) else doc[part]
    return doc


def post(client: TestClient, url: str, body: Doc) -> Doc:
    r = client.post(url, json=body)
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


@pytest.mark.parametrize("api", sorted(V4_BODIES))
def test_made_in_v4_reads_in_v5(client: TestClient, api: str) -> None:
    v4, v5, _, entity = ROOTS[api]
    made = post(client, v4, V4_BODIES[api])
    shown = client.get(f"{v5}/{made['id']}").json()
    assert_v5(VERSIONS[api], entity, shown)
    for path, value in V5_SEES[api].items():
        assert dig(shown, path) == value, (path, shown)
    chars = shown[next(k for k in shown if k.endswith("Characteristic"))]
    assert [c["@type"] for c in chars] == [characteristic_type(c["value"]) for c in CHARS]
    assert [{"name": c["name"], "value": c["value"]} for c in chars] == CHARS
    listed = client.get(v5, params={"id": made["id"]}).json()
    assert listed == [shown]


CHARACTERISTIC_TYPES = [
    ("x", "StringCharacteristic"),
    (1, "IntegerCharacteristic"),
    (1.5, "NumberCharacteristic"),
    (False, "BooleanCharacteristic"),
    ({"a": 1}, "ObjectCharacteristic"),
    (["a"], "StringArrayCharacteristic"),
    ([1, 2], "IntegerArrayCharacteristic"),
    ([1, 2.5], "NumberArrayCharacteristic"),
    ([True], "BooleanArrayCharacteristic"),
    ([{"a": 1}], "ObjectArrayCharacteristic"),
    ([], "StringArrayCharacteristic"),
    (None, "Characteristic"),
    (["a", 1], "Characteristic"),
]


@pytest.mark.parametrize(("value", "kind"), CHARACTERISTIC_TYPES)
def test_a_characteristic_is_typed_by_its_value(value: Any, kind: str) -> None:
    assert characteristic_type(value) == kind


V5_BODIES: dict[str, Doc] = {
    "637": {
        "@type": "Product",
        "name": "fibre 1G",
        "status": "created",
        "creationDate": "2026-01-01T00:00:00Z",
        "relatedParty": [
            {
                "@type": "RelatedPartyOrPartyRole",
                "role": "customer",
                "partyOrPartyRole": {"@type": "PartyRef", "id": "c2", "@referredType": "Individual"},
            }
        ],
        "agreementItem": [{"@type": "AgreementItemRef", "agreementId": "a2", "agreementItemId": "3"}],
        "productCharacteristic": [{"@type": "IntegerCharacteristic", "name": "lines", "value": 2}],
        "productRelationship": [{"@type": "ProductRelationship", "relationshipType": "reliesOn", "id": "p9"}],
        "productPrice": [
            {
                "@type": "ProductPrice",
                "priceType": "recurring",
                "price": {"@type": "Price", "taxIncludedAmount": MONEY},
                "priceAlteration": [
                    {
                        "@type": "PriceAlteration",
                        "priceType": "discount",
                        "price": {"@type": "Price", "dutyFreeAmount": MONEY},
                    }
                ],
            }
        ],
        "place": [
            {
                "@type": "RelatedPlaceRefOrValue",
                "role": "install",
                "place": {"@type": "PlaceRef", "id": "pl2", "href": "h"},
            }
        ],
    },
    "638": {
        "@type": "Service",
        "state": "designed",
        "operatingStatus": "configured",
        "externalIdentifier": [{"@type": "ExternalIdentifier", "id": "crm-7", "owner": "crm"}],
        "serviceSpecification": {"@type": "ServiceSpecificationRef", "id": "s1"},
        "relatedEntity": [
            {"@type": "RelatedEntityRefOrValue", "role": "realizes", "entity": {"@type": "EntityRef", "id": "e2"}}
        ],
        "serviceCharacteristic": [{"@type": "StringCharacteristic", "name": "speed", "value": "1G"}],
    },
    "639": {
        "@type": "LogicalResource",
        "name": "+33600000001",
        "administrativeState": "unlocked",
        "operationalState": "enabled",
        "allocationStatus": "available",
        "lifecycleState": "installed",
        "alarmStatus": ["minor"],
        "place": [
            {"@type": "RelatedPlaceRef", "role": "site", "place": {"@type": "PlaceRef", "id": "pl2", "href": "h"}}
        ],
        "resourceRelationship": [
            {
                "@type": "ResourceRelationship",
                "relationshipType": "bundled",
                "resource": {"@type": "ResourceRef", "id": "r9"},
            }
        ],
        "supportingResource": [{"@type": "ResourceRef", "id": "r8"}],
    },
}
#: stored path -> what v4 reads of the v5 body above
V4_SEES: dict[str, dict[str, Any]] = {
    "637": {
        "relatedParty.0.id": "c2",
        "agreement.0.id": "a2",
        "agreement.0.agreementItemId": "3",
        "productRelationship.0.product.id": "p9",
        "productPrice.0.productPriceAlteration.0.priceType": "discount",
        "place.0.id": "pl2",
        "place.0.role": "install",
    },
    "638": {"relatedEntity.0.id": "e2", "relatedEntity.0.role": "realizes"},
    "639": {
        "operationalState": "enable",
        "resourceStatus": "available",
        "place.id": "pl2",
        "resourceRelationship.0.id": "r9",
        "resourceRelationship.0.relationshipType": "bundled",
    },
}
#: v5-only attributes of the bodies above, kept as given
V5_ONLY = {
    "637": ("creationDate",),
    "638": ("operatingStatus", "externalIdentifier"),
    "639": ("lifecycleState", "alarmStatus", "supportingResource"),
}


@pytest.mark.parametrize("api", sorted(V5_BODIES))
def test_made_in_v5_reads_in_v4_and_keeps_v5_attributes(client: TestClient, api: str) -> None:
    v4, v5, v4_entity, entity = ROOTS[api]
    body = V5_BODIES[api]
    made = post(client, v5, body)
    assert_v5(VERSIONS[api], entity, made)
    old = client.get(f"{v4}/{made['id']}").json()
    assert old["id"] == made["id"]
    assert_valid(api, v4_entity, old)
    for path, value in V4_SEES[api].items():
        assert dig(old, path) == value, (path, old)
    r = client.patch(f"{v4}/{made['id']}", json={"description": "through v4"})
    assert r.status_code == 200, r.text
    again = client.get(f"{v5}/{made['id']}").json()
    assert_v5(VERSIONS[api], entity, again)
    assert again["description"] == "through v4"
    for attr in V5_ONLY[api]:
        assert again[attr] == body[attr], attr
    # what v5 reads is what it posted, but for what the server adds (id, href, @type everywhere)
    for key, value in body.items():
        if key != "@type":
            assert strip(again[key]) == strip(value), key


def strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: strip(v) for k, v in value.items() if k != "@type"}
    if isinstance(value, list):
        return [strip(v) for v in value]
    return value


@pytest.mark.parametrize(("api", "old", "new"), FILTERS, ids=[f"{a}:{n[0]}" for a, _, n in FILTERS])
def test_a_v5_filter_finds_what_the_v4_one_finds(
    client: TestClient, api: str, old: tuple[str, str], new: tuple[str, str]
) -> None:
    v4, v5, _, _ = ROOTS[api]
    made = post(client, v4, V4_BODIES[api])
    post(client, v4, BARE[api])
    by_v4 = client.get(v4, params=dict([old]))
    by_v5 = client.get(v5, params=dict([new]))
    assert by_v4.status_code == by_v5.status_code == 200, (by_v4.text, by_v5.text)
    assert [d["id"] for d in by_v5.json()] == [d["id"] for d in by_v4.json()] == [made["id"]]
    assert by_v5.headers["x-total-count"] == "1"


def test_639_sorts_and_projects_on_v5_names(client: TestClient) -> None:
    v4, v5, _, _ = ROOTS["639"]
    ids = {s: post(client, v4, {"name": s, "resourceStatus": s})["id"] for s in ("standby", "available", "unknown")}
    r = client.get(v5, params={"sort": "-allocationStatus", "fields": "allocationStatus"})
    assert r.status_code == 200, r.text
    assert [d["allocationStatus"] for d in r.json()] == ["unknown", "standby", "available"]
    assert [d["id"] for d in r.json()] == [ids["unknown"], ids["standby"], ids["available"]]
    assert all(set(d) <= {"id", "href", "@type", "allocationStatus"} for d in r.json())
    one = client.get(f"{v5}/{ids['standby']}", params={"fields": "allocationStatus"}).json()
    assert one["allocationStatus"] == "standby" and "name" not in one


def test_637_projects_renamed_attributes(client: TestClient) -> None:
    v4, v5, _, _ = ROOTS["637"]
    made = post(client, v4, V4_BODIES["637"])
    one = client.get(f"{v5}/{made['id']}", params={"fields": "agreementItem,productOrderItem"}).json()
    assert one["agreementItem"][0]["agreementId"] == "a1" and one["productOrderItem"][0]["orderId"] == "o1"
    assert "name" not in one and "agreement" not in one


def test_a_v5_patch_with_v5_literals_is_stored_in_v4_ones(client: TestClient) -> None:
    v4, v5, _, entity = ROOTS["639"]
    made = post(client, v4, V4_BODIES["639"])
    patch = {"operationalState": "enabled", "administrativeState": "locked", "allocationStatus": "standby"}
    r = client.patch(f"{v5}/{made['id']}", json=patch, headers={"content-type": "application/merge-patch+json"})
    assert r.status_code == 200, r.text
    assert_v5(VERSIONS["639"], entity, r.json())
    old = client.get(f"{v4}/{made['id']}").json()
    assert (old["operationalState"], old["administrativeState"], old["resourceStatus"]) == (
        "enable",
        "locked",
        "standby",
    )
    assert old["place"]["id"] == "pl1"  # untouched attributes stay as stored


def test_639_one_place_only(client: TestClient) -> None:
    _, v5, _, _ = ROOTS["639"]
    two = [{"@type": "RelatedPlaceRef", "role": r, "place": {"@type": "PlaceRef", "id": r}} for r in ("a", "b")]
    r = client.post(v5, json={"@type": "Resource", "name": "n", "place": two})
    assert_v5_error(VERSIONS["639"], r, 422)


def test_638_suspended_is_not_a_state_of_the_stored_lifecycle(client: TestClient) -> None:
    _, v5, _, _ = ROOTS["638"]
    r = client.post(v5, json={"@type": "Service", "state": "suspended", "serviceSpecification": {"id": "s1"}})
    assert_v5_error(VERSIONS["638"], r, 400)
    assert r.json()["code"] == "INVALID_VALUE"


def test_639_an_allocation_status_v4_cannot_store_is_refused(client: TestClient) -> None:
    _, v5, _, _ = ROOTS["639"]
    r = client.post(v5, json={"@type": "Resource", "name": "n", "allocationStatus": "allocated"})
    assert_v5_error(VERSIONS["639"], r, 400)
    assert client.get(v5).json() == []


def test_a_639_v5_hub_hears_v4_changes_in_v5_literals(client: TestClient) -> None:
    v4, _, _, _ = ROOTS["639"]
    version = VERSIONS["639"]
    with Listener() as heard:
        r = client.post(f"{version.root}/hub", json={"@type": "Hub_FVO", "callback": heard.url})
        assert r.status_code == 201, r.text
        hub = r.json()
        got = client.get(f"{version.root}/hub/{hub['id']}")
        assert got.status_code == 200 and got.json()["id"] == hub["id"]
        assert_v5(version, "Hub", got.json())
        made = post(client, v4, V4_BODIES["639"])
        bodies = heard.wait_until(lambda bs: any(b["event"]["resource"]["id"] == made["id"] for b in bs))
    event = next(b for b in bodies if b["eventType"] == "ResourceCreateEvent")
    assert event["@type"] == "ResourceCreateEvent"
    shown = event["event"]["resource"]
    assert (shown["@type"], shown["operationalState"], shown["allocationStatus"]) == (
        "Resource",
        "disabled",
        "available",
    )
    assert_v5(version, "ResourceCreateEvent", event)


def test_a_v5_product_without_status_starts_its_lifecycle(client: TestClient) -> None:
    """v5 ``Product_FVO`` requires no status, v4's create schema does: the lifecycle's start fills it."""
    r = client.post(ROOTS["637"][1], json={"@type": "Product", "name": "bare"})
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "created"
    assert_v5(VERSIONS["637"], "Product", r.json())

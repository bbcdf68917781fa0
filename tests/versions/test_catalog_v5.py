"""TMF620 and TMF634 v5 beside v4: the catalog differences (``apis/catalog/tmf620_v5.py``,
``tmf634_v5.py``), the catalog rules through v5, jobs and events."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.support.listener import Listener
from tests.support.polling import wait_until
from tests.versions.support import assert_v5
from tmfstack.apis.catalog import tmf620_v5, tmf634_v5
from tmfstack.settings import Settings

V4 = "/tmf-api/productCatalogManagement/v4"
V5 = "/tmf-api/productCatalogManagement/v5"
R4 = "/tmf-api/resourceCatalog/v4"
R5 = "/tmf-api/resourceCatalog/v5"
MERGE = {"content-type": "application/merge-patch+json"}


def post(client: TestClient, url: str, body: dict[str, Any]) -> dict[str, Any]:
    r = client.post(url, json=body)
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def ids(client: TestClient, url: str, **params: str) -> list[str]:
    r = client.get(url, params=params)
    assert r.status_code == 200, r.text
    return sorted(d["id"] for d in r.json())


def test_catalog_is_product_catalog_both_ways(client: TestClient) -> None:
    made = post(client, f"{V4}/catalog", {"name": "Retail"})
    shown = client.get(f"{V5}/productCatalog/{made['id']}").json()
    assert shown["@type"] == "ProductCatalog" and shown["href"].endswith(f"/v5/productCatalog/{made['id']}")
    assert_v5(tmf620_v5.API, "ProductCatalog", shown)
    back = post(client, f"{V5}/productCatalog", {"@type": "ProductCatalog", "name": "B2B"})
    assert client.get(f"{V4}/catalog/{back['id']}").json()["@type"] == "Catalog"


def test_category_parent_is_a_reference(client: TestClient) -> None:
    root = post(client, f"{V4}/category", {"name": "root", "isRoot": True})
    sub = post(client, f"{V4}/category", {"name": "sub", "parentId": root["id"]})
    shown = client.get(f"{V5}/category/{sub['id']}").json()
    assert shown["parent"] == {"id": root["id"], "@type": "CategoryRef"} and "parentId" not in shown
    assert_v5(tmf620_v5.API, "Category", shown)
    other = post(client, f"{V5}/category", {"name": "sub2", "parent": {"id": root["id"], "@type": "CategoryRef"}})
    assert client.get(f"{V4}/category/{other['id']}").json()["parentId"] == root["id"]
    assert ids(client, f"{V5}/category", **{"parent.id": root["id"]}) == sorted([sub["id"], other["id"]])
    assert ids(client, f"{V5}/category", **{"parent.id": root["id"]}) == ids(
        client, f"{V4}/category", parentId=root["id"]
    )


def test_characteristics_are_characteristic_specifications(client: TestClient) -> None:
    spec = post(
        client,
        f"{V4}/productSpecification",
        {
            "name": "Fibre",
            "productSpecCharacteristic": [
                {
                    "name": "speed",
                    "valueType": "integer",
                    "productSpecCharacteristicValue": [{"value": 300, "isDefault": True}, {"value": "fast"}],
                    "productSpecCharRelationship": [
                        {
                            "id": "ps-1",
                            "href": "https://example.com/ps-1",
                            "name": "n",
                            "relationshipType": "dependency",
                        }
                    ],
                }
            ],
        },
    )
    shown = client.get(f"{V5}/productSpecification/{spec['id']}").json()
    assert_v5(tmf620_v5.API, "ProductSpecification", shown)
    char = shown["productSpecCharacteristic"][0]
    types = [v["@type"] for v in char["characteristicValueSpecification"]]
    assert types == ["IntegerCharacteristicValueSpecification", "StringCharacteristicValueSpecification"]
    relation = char["charSpecRelationship"][0]
    assert relation["parentSpecificationId"] == "ps-1" and relation["parentSpecificationHref"].endswith("/ps-1")
    # posted back through v5 (lastUpdate and lifecycleStatus as read): v4 sees its own names
    body = {k: v for k, v in shown.items() if k not in ("id", "href")}
    again = post(client, f"{V5}/productSpecification", body)
    stored = client.get(f"{V4}/productSpecification/{again['id']}").json()["productSpecCharacteristic"][0]
    assert stored["productSpecCharRelationship"][0]["id"] == "ps-1"
    assert [v["value"] for v in stored["productSpecCharacteristicValue"]] == [300, "fast"]


def test_server_set_attributes_are_not_required_and_v5_only_ones_are_kept(client: TestClient) -> None:
    spec = post(client, f"{V4}/productSpecification", {"name": "Fibre"})
    body = {
        "@type": "ProductOffering",
        "name": "Fibre 300",
        "lastUpdate": "2001-01-01T00:00:00Z",  # the server's stamp: dropped
        "productSpecification": {"id": spec["id"]},  # made through v4
        "productOfferingPrice": [{"id": "pop-1"}],  # a reference without @type
        "externalIdentifier": [{"id": "ext-1", "owner": "crm", "@type": "ExternalIdentifier"}],
        "policy": [{"id": "pol-1", "@type": "PolicyRef"}],
    }
    made = post(client, f"{V5}/productOffering", body)
    assert made["lifecycleStatus"] == "In design" and made["lastUpdate"] > "2001"
    assert made["productOfferingPrice"] == [{"id": "pop-1", "@type": "ProductOfferingPriceRef"}]
    assert_v5(tmf620_v5.API, "ProductOffering", made)
    r = client.patch(f"{V4}/productOffering/{made['id']}", json={"description": "v4 edit"})
    assert r.status_code == 200, r.text
    shown = client.get(f"{V5}/productOffering/{made['id']}").json()
    assert shown["externalIdentifier"][0]["id"] == "ext-1" and shown["policy"][0]["id"] == "pol-1"
    assert shown["description"] == "v4 edit"


def test_a_refused_lifecycle_move_is_the_same_refusal(client: TestClient) -> None:
    refusals = []
    for root, resource in ((V4, "productOffering"), (V5, "productOffering")):
        made = post(client, f"{root}/{resource}", {"name": "x", "lifecycleStatus": "In design"})
        r = client.patch(f"{root}/{resource}/{made['id']}", json={"lifecycleStatus": "Retired"}, headers=MERGE)
        assert r.status_code in (400, 409, 422), r.text
        refusals.append((r.status_code, r.json()["code"], r.json()["message"]))
    assert refusals[0] == refusals[1]


def test_filters_find_the_same_offerings(client: TestClient) -> None:
    spec = post(client, f"{V4}/productSpecification", {"name": "s"})
    cat = post(client, f"{V4}/category", {"name": "c"})
    for i, status in enumerate(["In design", "In study", "In design"]):
        ref = {"category": [{"id": cat["id"]}]} if i else {}
        post(client, f"{V5 if i % 2 else V4}/productOffering", {"name": f"o{i}", "lifecycleStatus": status, **ref})
        post(client, f"{V4}/productOffering", {"name": f"p{i}", "productSpecification": {"id": spec["id"]}})
    for params in (
        {"lifecycleStatus": "In design"},
        {"category.id": cat["id"]},
        {"productSpecification.id": spec["id"]},
    ):
        found = ids(client, f"{V5}/productOffering", **params)
        assert found and found == ids(client, f"{V4}/productOffering", **params), params


def _job(client: TestClient, kind: str, body: dict[str, Any]) -> dict[str, Any]:
    job = post(client, f"{V5}/{kind}", body)
    assert job["@type"] == kind[0].upper() + kind[1:]

    def read() -> dict[str, Any]:
        return client.get(f"{V5}/{kind}/{job['id']}").json()  # type: ignore[no-any-return]

    done = wait_until(read, lambda j: j["status"] in ("Succeeded", "Failed"), 10.0, f"{kind} ended")
    assert_v5(tmf620_v5.API, job["@type"], done)
    return done


def test_export_and_import_through_v5(client: TestClient, settings: Settings) -> None:
    offer = post(client, f"{V5}/productOffering", {"name": "exported", "lifecycleStatus": "In study"})
    target = settings.export_dir / "v5.json"
    done = _job(client, "exportJob", {"url": target.as_uri(), "path": "productOffering", "status": "Running"})
    assert done["status"] == "Succeeded", done
    data = json.loads(target.read_text(encoding="utf-8"))
    assert [d["id"] for d in data["productOffering"]] == [offer["id"]]
    assert client.delete(f"{V5}/productOffering/{offer['id']}").status_code == 204
    source = settings.import_dir / "v5-import.json"
    source.write_text(json.dumps(data), encoding="utf-8")
    done = _job(client, "importJob", {"url": source.as_uri()})
    assert done["status"] == "Succeeded", done
    back = client.get(f"{V5}/productOffering/{offer['id']}").json()
    assert back["name"] == "exported" and back["lifecycleStatus"] == "In study"


def test_resource_characteristics_round_trip(client: TestClient) -> None:
    spec = {
        "name": "rs",
        "@type": "LogicalResourceSpecification",
        "resourceSpecCharacteristic": [
            {
                "name": "c",
                "valueType": "string",
                "resourceSpecCharacteristicValue": [{"value": "a"}],
                "resourceSpecCharRelationship": [
                    {"resourceSpecificationId": "x", "name": "d", "relationshipType": "dependency"}
                ],
            }
        ],
        "featureSpecification": [
            {
                "name": "f",
                "featureSpecCharacteristic": [
                    {
                        "name": "fc",
                        "valueType": "boolean",
                        "featureSpecCharacteristicValue": [{"value": True}],
                        "featureSpecCharRelationship": [
                            {
                                "characteristicId": "c1",
                                "resourceSpecificationId": "x",
                                "name": "n",
                                "relationshipType": "r",
                            }
                        ],
                    }
                ],
            }
        ],
    }
    made = post(client, f"{R4}/resourceSpecification", spec)
    shown = client.get(f"{R5}/resourceSpecification/{made['id']}").json()
    assert_v5(tmf634_v5.API, "ResourceSpecification", shown)
    feature = shown["featureSpecification"][0]["featureSpecCharacteristic"][0]
    assert feature["characteristicValueSpecification"][0]["@type"] == "BooleanCharacteristicValueSpecification"
    assert feature["charSpecRelationship"][0]["characteristicSpecificationId"] == "c1"
    assert shown["resourceSpecCharacteristic"][0]["charSpecRelationship"][0]["parentSpecificationId"] == "x"
    body = {k: v for k, v in shown.items() if k not in ("id", "href")}
    again = client.get(f"{R4}/resourceSpecification/{post(client, f'{R5}/resourceSpecification', body)['id']}").json()
    relation = again["featureSpecification"][0]["featureSpecCharacteristic"][0]["featureSpecCharRelationship"][0]
    assert relation["characteristicId"] == "c1" and relation["resourceSpecificationId"] == "x"
    assert again["resourceSpecCharacteristic"][0]["resourceSpecCharRelationship"][0]["resourceSpecificationId"] == "x"


@pytest.mark.parametrize(
    ("change", "expected"),
    [({"description": "new"}, "AttributeValueChangeEvent"), ({"lifecycleStatus": "In test"}, "StatusChangeEvent")],
)
def test_v4_change_event_is_a_v5_attribute_or_status_event(
    client: TestClient, listener: Listener, change: dict[str, str], expected: str
) -> None:
    r = client.post(f"{R5}/hub", json={"callback": listener.url})
    assert r.status_code == 201, r.text
    made = post(client, f"{R4}/resourceCatalog", {"name": "rc"})
    r = client.patch(f"{R4}/resourceCatalog/{made['id']}", json=change)
    assert r.status_code == 200, r.text
    bodies = listener.wait_until(lambda bs: any(b.get("eventType") == f"ResourceCatalog{expected}" for b in bs))
    event = next(b for b in bodies if b["eventType"] == f"ResourceCatalog{expected}")
    assert event["@type"] == f"ResourceCatalog{expected}"
    assert event["event"]["resourceCatalog"]["id"] == made["id"]
    assert_v5(tmf634_v5.API, f"ResourceCatalog{expected}", event)

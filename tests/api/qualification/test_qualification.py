"""TMF679 product offering qualification through HTTP, against the demo catalog: one case per
rule, each answer validated against the official TMF679 v4.0.0 file."""

from __future__ import annotations

import time
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.support.assertions import SPECS, assert_error, assert_valid
from tests.support.ordering import load_demo, order, place

TMF679 = SPECS / "TMF679-ProductOfferingQualification-v4.0.0.swagger.json"
POQ = "/tmf-api/productOfferingQualification/v4/productOfferingQualification"
Doc = dict[str, Any]


@pytest.fixture
def demo(client: TestClient) -> TestClient:
    load_demo(client)
    return client


def ask(client: TestClient, *offerings: str, sync: bool = True, **extra: Any) -> Doc:
    body: Doc = {
        "instantSyncQualification": sync,
        "relatedParty": [{"id": extra.pop("customer", "cust-q"), "role": "customer", "@referredType": "Individual"}],
        "productOfferingQualificationItem": [
            {"id": str(n), "productOffering": {"id": o}} for n, o in enumerate(offerings, 1)
        ],
        **extra,
    }
    r = client.post(POQ, json=body)
    assert r.status_code == (200 if sync else 201), r.text
    assert_valid(TMF679, "ProductOfferingQualification", r.json())
    return r.json()


def item(doc: Doc, item_id: str = "1") -> Doc:
    return next(i for i in doc["productOfferingQualificationItem"] if i["id"] == item_id)


def codes(found: Doc) -> set[str]:
    return {r["code"] for r in found.get("eligibilityUnavailabilityReason") or []}


def proposed(found: Doc) -> list[str]:
    return [p["alternateProductOffering"]["id"] for p in found.get("alternateProductOfferingProposal") or []]


def test_a_launched_offering_qualifies_at_once(demo: TestClient) -> None:
    doc = ask(demo, "po-fibre-500", channel={"id": "web"})
    assert doc["state"] == "done" and doc["qualificationResult"] == "qualified"
    assert item(doc)["qualificationItemResult"] == "qualified" and item(doc)["state"] == "done"
    assert "eligibilityUnavailabilityReason" not in item(doc)
    assert doc["expirationDate"] > doc["effectiveQualificationDate"]
    assert demo.get(f"{POQ}/{doc['id']}").json() == doc


def test_the_asynchronous_form_is_answered_by_a_task(demo: TestClient) -> None:
    doc = ask(demo, "po-fibre-500", sync=False)
    assert doc["state"] == "acknowledged"
    assert "qualificationItemResult" not in item(doc)
    deadline = time.monotonic() + 5
    while (current := demo.get(f"{POQ}/{doc['id']}").json())["state"] != "done":
        assert time.monotonic() < deadline, current
        time.sleep(0.02)
    assert_valid(TMF679, "ProductOfferingQualification", current)
    assert current["qualificationResult"] == "qualified"


def test_a_retired_offering_is_unqualified_with_its_successor_as_alternate(demo: TestClient) -> None:
    plain = ask(demo, "po-mobile-s")
    assert item(plain)["qualificationItemResult"] == "unqualified"
    assert {"OFFERING_NOT_ORDERABLE", "OFFERING_NOT_VALID"} <= codes(item(plain))
    assert proposed(item(plain)) == []
    with_alternative = ask(demo, "po-mobile-s", provideAlternative=True)
    found = item(with_alternative)
    assert found["qualificationItemResult"] == "alternate"
    assert proposed(found)[0] == "po-mobile-m"  # the successor the catalog names (exchangableTo)
    assert with_alternative["qualificationResult"] == "alternate"


def test_an_add_on_without_its_base_plan_proposes_the_base_plan(demo: TestClient) -> None:
    doc = ask(demo, "po-wifi-router", provideAlternative=True)
    found = item(doc)
    assert "OFFERING_REQUIREMENT_MISSING" in codes(found)
    assert found["qualificationItemResult"] == "alternate"
    assert set(proposed(found)) == {"po-fibre-300", "po-fibre-500", "po-fibre-1000"}
    together = ask(demo, "po-wifi-router", "po-fibre-300")  # the base plan in the same request
    assert [i["qualificationItemResult"] for i in together["productOfferingQualificationItem"]] == ["qualified"] * 2


def test_the_requirement_is_met_by_a_product_the_customer_has(demo: TestClient) -> None:
    placed = place(
        demo, order({"id": "1", "action": "add", "productOffering": {"id": "po-fibre-300"}}, customer="cust-q")
    )
    assert placed["state"] == "completed", placed
    assert item(ask(demo, "po-wifi-router", customer="cust-q"))["qualificationItemResult"] == "qualified"


def test_an_offering_outside_the_channel_does_not_qualify(demo: TestClient) -> None:
    doc = ask(demo, "po-galaxy-s25", "po-fibre-500", channel={"id": "telesales"})
    assert codes(item(doc, "1")) == {"CHANNEL_NOT_ALLOWED"}
    assert "telesales" in item(doc, "1")["eligibilityUnavailabilityReason"][0]["label"]
    assert item(doc, "2")["qualificationItemResult"] == "qualified"
    assert doc["qualificationResult"] == "unqualified"


def test_an_unknown_offering_is_unqualified(demo: TestClient) -> None:
    assert codes(item(ask(demo, "po-does-not-exist"))) == {"OFFERING_NOT_FOUND"}


def test_reasons_and_unavailable_items_can_be_left_out(demo: TestClient) -> None:
    quiet = ask(demo, "po-mobile-s", provideUnavailabilityReason=False)
    assert item(quiet)["qualificationItemResult"] == "unqualified"
    assert "eligibilityUnavailabilityReason" not in item(quiet)
    only = ask(demo, "po-mobile-s", "po-fibre-500", provideOnlyAvailable=True)
    assert [i["id"] for i in only["productOfferingQualificationItem"]] == ["2"]


def test_modify_of_someone_elses_product_does_not_qualify(demo: TestClient) -> None:
    placed = place(
        demo, order({"id": "1", "action": "add", "productOffering": {"id": "po-fibre-300"}}, customer="cust-a")
    )
    assert placed["state"] == "completed", placed
    [product] = demo.get("/tmf-api/productInventory/v4/product", params={"relatedParty.id": "cust-a"}).json()
    body = {
        "instantSyncQualification": True,
        "relatedParty": [{"id": "cust-b", "role": "customer", "@referredType": "Individual"}],
        "productOfferingQualificationItem": [{"id": "1", "action": "modify", "product": {"id": product["id"]}}],
    }
    r = demo.post(POQ, json=body)
    assert r.status_code == 200, r.text
    assert item(r.json())["qualificationItemResult"] == "unqualified"
    assert codes(item(r.json())) == {"PRODUCT_NOT_OWNED"}


@pytest.mark.parametrize(
    "body, code",
    [
        ({"instantSyncQualification": True}, "MISSING_ATTRIBUTE"),
        (
            {"productOfferingQualificationItem": [{"id": "1"}, {"id": "1"}]},
            "DUPLICATE_ITEM_ID",
        ),
        (
            {"productOfferingQualificationItem": [{"id": "1", "qualificationItemResult": "qualified"}]},
            "READ_ONLY_ATTRIBUTE",
        ),
        ({"state": "done", "productOfferingQualificationItem": [{"id": "1"}]}, "READ_ONLY_ATTRIBUTE"),
    ],
)
def test_bad_requests_are_refused(client: TestClient, body: Doc, code: str) -> None:
    assert_error(client.post(POQ, json=body), 400, code, spec=TMF679)
    assert client.get(POQ).json() == []  # nothing stored


def test_the_answer_cannot_be_patched_but_a_note_can(demo: TestClient) -> None:
    doc = ask(demo, "po-fibre-500")
    r = demo.patch(POQ + f"/{doc['id']}", json={"qualificationResult": "unqualified"})
    assert_error(r, 400, "READ_ONLY_ATTRIBUTE", spec=TMF679)
    r = demo.patch(POQ + f"/{doc['id']}", json={"description": "for the shop in Linz"})
    assert r.status_code == 200, r.text
    assert r.json()["description"] == "for the shop in Linz"

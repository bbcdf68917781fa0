"""TMF679 v5 beside v4: a check is the v4 qualification (same verdicts, same data), a query is v5's
own, answered by the same eligibility rules; every v5 answer valid against the official v5 file.

Data: the demo product catalog and reference data (``tests/api/qualification/test_eligibility.py``):
po-galaxy-s25 is sold on web and in retail only, po-fibre-300 to residential customers only,
po-dsl-100 only in Austria.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.support.assertions import assert_valid
from tests.support.listener import Listener
from tests.support.market import POQ, TMF679, address, load_reference, new_party, party_ref, region
from tests.support.ordering import load_demo
from tests.support.polling import wait_until
from tests.support.security import Secured
from tests.versions.support import assert_v5
from tmfstack.apis.qualification import tmf679_v5
from tmfstack.settings import Settings
from tmfstack.web.app import create_app

Doc = dict[str, Any]
V5 = tmf679_v5.API
CHECK = f"{V5.root}/checkProductOfferingQualification"
QUERY = f"{V5.root}/queryProductOfferingQualification"
WIEN = address("1010", "Stephansplatz", "1", "Wien")


@pytest.fixture
def market(client: TestClient) -> TestClient:
    load_demo(client)
    load_reference(client)
    return client


def test_the_declared_root_is_the_served_one() -> None:
    assert V5.root == tmf679_v5.ROOT


# -- v5 bodies ---------------------------------------------------------------------------------


def v5_party(v4: Doc) -> Doc:
    ref = {"id": v4["id"], "name": v4.get("name", v4["id"]), "@referredType": v4["@referredType"], "@type": "PartyRef"}
    return {"role": v4["role"], "partyOrPartyRole": ref, "@type": "RelatedPartyOrPartyRole"}


def v5_place(v4: Doc) -> Doc:
    place = {k: v for k, v in v4.items() if k not in ("role", "@referredType")}
    place["@type"] = v4.get("@type") or v4.get("@referredType") or "PlaceRef"
    if set(place) <= {"id", "@type"}:
        place = {"id": v4["id"], "@referredType": v4["@referredType"], "@type": "PlaceRef"}
    return {"role": v4["role"], "place": place, "@type": "RelatedPlaceRefOrValue"}


def check_body(offering: str, customer: Doc, channel: str | None, where: Doc | None, sync: bool) -> Doc:
    item: Doc = {
        "@type": "CheckProductOfferingQualificationItem",
        "id": "1",
        "action": "add",
        "productOffering": {"id": offering, "@type": "ProductOfferingRef"},
    }
    if where is not None:
        item["product"] = {"@type": "Product", "place": [v5_place(where)]}
    body: Doc = {
        "@type": "CheckProductOfferingQualification",
        "instantSyncQualification": sync,
        "provideResultReason": True,
        "relatedParty": [v5_party(customer)],
        "checkProductOfferingQualificationItem": [item],
    }
    if channel is not None:
        body["channel"] = {"id": channel, "@type": "ChannelRef"}
    return body


def query_body(customer: Doc, where: Doc | None, sync: bool = True, **criteria: Doc) -> Doc:
    search: Doc = {"@type": "QueryProductOfferingQualificationItem", "id": "1", **criteria}
    if where is not None:
        search["product"] = {"@type": "Product", "place": [v5_place(where)]}
    return {
        "@type": "QueryProductOfferingQualification",
        "instantSyncQualification": sync,
        "relatedParty": [v5_party(customer)],
        "searchCriteria": search,
    }


def answered(client: Any, url: str, r: Any, sync: bool, entity: str) -> Doc:
    """The finished answer of a POST: 200 done at once (sync), else 201 then done by the task."""
    assert r.status_code == (200 if sync else 201), r.text
    doc = r.json()
    assert_v5(V5, entity, doc)
    if not sync:
        assert doc["state"] == "acknowledged", doc
        doc = wait_until(lambda: client.get(f"{url}/{doc['id']}").json(), lambda d: d["state"] == "done")
        assert_v5(V5, entity, doc)
    assert doc["state"] == "done", doc
    return doc


# -- check: the same verdicts as a v4 qualification ---------------------------------------------

Customer = Callable[[TestClient], Doc]


def external(client: TestClient) -> Doc:
    return party_ref("cust-external-7", "Individual")


def person(segment: str) -> Customer:
    return lambda client: party_ref(new_party(client, "individual", segment, "validated")["id"], "Individual")


def company(segment: str) -> Customer:
    return lambda client: party_ref(new_party(client, "organization", segment, "validated")["id"], "Organization")


@dataclasses.dataclass(frozen=True)
class Case:
    id: str
    offering: str
    code: str | None
    customer: Customer = external
    channel: str | None = None
    where: Doc | None = None


CASES = [
    Case("channel-listed", "po-galaxy-s25", None, channel="web"),
    Case("channel-not-listed", "po-galaxy-s25", "CHANNEL_NOT_ALLOWED", channel="telesales"),
    Case("segment-same", "po-fibre-300", None, person("residential")),
    Case("segment-other", "po-fibre-300", "MARKET_SEGMENT_NOT_ELIGIBLE", company("business")),
    Case("place-address", "po-dsl-100", None, where=WIEN),
    Case("place-other-country", "po-dsl-100", "PLACE_NOT_ELIGIBLE", where=region("DE-BY")),
    Case("place-missing", "po-dsl-100", "PLACE_MISSING"),
]


@pytest.mark.parametrize("sync", [True, False], ids=["sync", "task"])
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_check_answers_as_a_v4_qualification(market: TestClient, case: Case, sync: bool) -> None:
    customer = case.customer(market)
    v4: Doc = {
        "instantSyncQualification": True,
        "relatedParty": [customer],
        "productOfferingQualificationItem": [{"id": "1", "action": "add", "productOffering": {"id": case.offering}}],
    }
    if case.channel:
        v4["channel"] = {"id": case.channel}
    if case.where:
        v4["place"] = [case.where]
    r = market.post(POQ, json=v4)
    assert r.status_code == 200, r.text
    old = r.json()["productOfferingQualificationItem"][0]
    body = check_body(case.offering, customer, case.channel, case.where, sync)
    doc = answered(market, CHECK, market.post(CHECK, json=body), sync, "CheckProductOfferingQualification")
    new = doc["checkProductOfferingQualificationItem"][0]
    codes = {r["code"] for r in new.get("eligibilityResultReason") or []}
    assert new["qualificationItemResult"] == old["qualificationItemResult"], new
    assert codes == {r["code"] for r in old.get("eligibilityUnavailabilityReason") or []}
    assert codes == ({case.code} if case.code else set()), new
    assert all(r["@type"] == "EligibilityResultReason" for r in new.get("eligibilityResultReason") or [])
    assert doc["qualificationResult"] == new["qualificationItemResult"]
    # the same document through v4: its item's place is the v4 one, its answer the v4 names
    r = market.get(f"{POQ}/{doc['id']}")
    assert r.status_code == 200, r.text
    assert_valid(TMF679, "ProductOfferingQualification", r.json())
    item = r.json()["productOfferingQualificationItem"][0]
    assert item["qualificationItemResult"] == old["qualificationItemResult"]
    if case.where:
        assert item["product"]["place"][0]["role"] == case.where["role"]
        assert "place" not in item["product"]["place"][0]


def test_a_v4_qualification_reads_as_a_v5_check(market: TestClient) -> None:
    customer = party_ref(new_party(market, "organization", "business", "validated")["id"], "Organization")
    body = {
        "instantSyncQualification": True,
        "provideAlternative": True,
        "requestedPOQCompletionDate": "2999-01-01T00:00:00Z",
        "relatedParty": [customer],
        "place": [region("DE-BY")],
        "productOfferingQualificationItem": [
            {"id": "1", "action": "add", "productOffering": {"id": "po-dsl-100"}, "product": {"place": [WIEN]}},
            {"id": "2", "action": "add", "productOffering": {"id": "po-fibre-300"}},
            {
                "id": "3",
                "action": "add",
                "productOffering": {"id": "po-galaxy-s25"},
                "qualificationItemRelationship": [{"id": "1", "relationshipType": "reliesOn"}],
            },
        ],
    }
    r = market.post(POQ, json=body)
    assert r.status_code == 200, r.text
    v4 = r.json()
    shown = market.get(f"{CHECK}/{v4['id']}").json()
    assert_v5(V5, "CheckProductOfferingQualification", shown)
    assert shown["@type"] == "CheckProductOfferingQualification"
    assert shown["href"].endswith(f"{CHECK}/{v4['id']}")
    assert shown["creationDate"] == v4["productOfferingQualificationDate"]
    assert shown["requestedQualificationCompletionDate"] == v4["requestedPOQCompletionDate"]
    assert shown["relatedParty"][0]["partyOrPartyRole"]["id"] == customer["id"]
    items = {i["id"]: i for i in shown["checkProductOfferingQualificationItem"]}
    assert {i["@type"] for i in items.values()} == {"CheckProductOfferingQualificationItem"}
    assert items["1"]["product"]["place"][0]["place"]["postcode"] == "1010"
    assert items["1"]["qualificationItemResult"] == "qualified"
    assert {r["code"] for r in items["2"]["eligibilityResultReason"]} == {"MARKET_SEGMENT_NOT_ELIGIBLE"}
    assert items["3"]["qualificationItemRelationship"][0]["@type"] == "ProductOfferingQualificationItemRelationship"
    # v5 filters on v5 names find what the v4 filter finds
    for params in (
        {"relatedParty.partyOrPartyRole.id": customer["id"]},
        {"checkProductOfferingQualificationItem.productOffering.id": "po-fibre-300", "state": "done"},
    ):
        found = market.get(CHECK, params={**params, "fields": "qualificationResult"}).json()
        assert v4["id"] in [d["id"] for d in found], params
        assert all(set(d) == {"id", "href", "@type", "qualificationResult"} for d in found)


# -- query: what may this customer buy here ------------------------------------------------------


def listed(doc: Doc) -> set[str]:
    items = doc.get("qualifiedProductOfferingItem") or []
    assert all(i["@type"] == "QueryProductOfferingQualificationItem" for i in items)
    return {i["productOffering"]["id"] for i in items}


@pytest.mark.parametrize("sync", [True, False], ids=["sync", "task"])
def test_a_query_lists_the_offerings_this_customer_may_buy_here(market: TestClient, sync: bool) -> None:
    resident = party_ref(new_party(market, "individual", "residential", "validated")["id"], "Individual")
    business = party_ref(new_party(market, "organization", "business", "validated")["id"], "Organization")

    def ask(customer: Doc, where: Doc | None, **criteria: Doc) -> set[str]:
        r = market.post(QUERY, json=query_body(customer, where, sync, **criteria))
        return listed(answered(market, QUERY, r, sync, "QueryProductOfferingQualification"))

    in_wien = ask(resident, WIEN)
    assert {"po-fibre-300", "po-dsl-100"} <= in_wien
    assert "po-dsl-100" not in ask(resident, region("DE-BY"))  # Austria only
    assert "po-fibre-300" not in ask(business, WIEN)  # residential only
    one = {"productOffering": {"id": "po-fibre-300", "@type": "ProductOfferingRef"}}
    assert ask(resident, WIEN, **one) == {"po-fibre-300"}
    assert ask(business, WIEN, **one) == set()


def test_a_query_is_v5_only_and_kept_as_asked(market: TestClient) -> None:
    customer = party_ref("cust-external-7", "Individual")
    r = market.post(QUERY, json=query_body(customer, WIEN))
    doc = answered(market, QUERY, r, True, "QueryProductOfferingQualification")
    assert doc["searchCriteria"]["product"]["place"][0]["place"]["postcode"] == "1010"
    assert doc["creationDate"] and doc["expirationDate"] > doc["effectiveQualificationDate"]
    found = market.get(QUERY, params={"relatedParty.partyOrPartyRole.id": "cust-external-7"}).json()
    assert [d["id"] for d in found] == [doc["id"]]
    assert market.get(f"{POQ}/{doc['id']}").status_code == 404
    r = market.patch(
        f"{QUERY}/{doc['id']}",
        json={"qualifiedProductOfferingItem": []},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert r.status_code == 400, r.text  # the answer is the server's
    r = market.patch(
        f"{QUERY}/{doc['id']}", json={"description": "kept"}, headers={"Content-Type": "application/merge-patch+json"}
    )
    assert r.status_code == 200 and r.json()["description"] == "kept", r.text
    assert listed(r.json()) == listed(doc)


# -- events ---------------------------------------------------------------------------------


def test_check_and_query_events_reach_a_v5_hub(market: TestClient) -> None:
    customer = party_ref("cust-external-7", "Individual")
    with Listener() as hub:
        r = market.post(f"{V5.root}/hub", json={"@type": "Hub_FVO", "callback": hub.url})
        assert r.status_code == 201, r.text
        check = market.post(CHECK, json=check_body("po-dsl-100", customer, None, WIEN, False)).json()
        query = market.post(QUERY, json=query_body(customer, WIEN, sync=False)).json()

        def done(bodies: list[Any], key: str, id: str) -> bool:
            return any(
                b["eventType"].endswith("StateChangeEvent") and b["event"][key].get("state") == "done"
                for b in bodies
                if (b.get("event") or {}).get(key, {}).get("id") == id
            )

        bodies = hub.wait_until(
            lambda bs: (
                done(bs, "checkProductOfferingQualification", check["id"])
                and done(bs, "queryProductOfferingQualification", query["id"])
            )
        )
    kinds = {(b["eventType"], next(iter(b["event"]))) for b in bodies}
    for entity, key in (("Check", "checkProductOfferingQualification"), ("Query", "queryProductOfferingQualification")):
        assert (f"{entity}ProductOfferingQualificationCreateEvent", key) in kinds, sorted(kinds)
        assert (f"{entity}ProductOfferingQualificationStateChangeEvent", key) in kinds, kinds
    for b in bodies:
        payload = next(iter(b["event"].values()))
        assert_v5(V5, payload["@type"], payload)
        if "checkProductOfferingQualification" in b["event"]:  # the v5 envelope of a mapped resource
            assert b["@type"] == b["eventType"] and "timeOccurred" in b


# -- partners ---------------------------------------------------------------------------------


@pytest.fixture
def partners(secure_settings: Settings) -> Iterator[Secured]:
    with TestClient(create_app(secure_settings)) as client:
        secured = Secured(client)
        load_demo(secured.login("ops", ["operator"]))
        yield secured


def test_a_partner_sees_its_own_queries_only(partners: Secured) -> None:
    a = partners.login("partner-a", ["partner"], party="org-a")
    b = partners.login("partner-b", ["partner"], party="org-b")
    customer = party_ref("cust-of-a", "Individual")
    for sync in (True, False):
        r = a.post(QUERY, json=query_body(customer, WIEN, sync))
        assert r.status_code == (200 if sync else 201), r.text
        doc = r.json()
        assert_v5(V5, "QueryProductOfferingQualification", doc)
        sellers = [p for p in doc["relatedParty"] if p["role"] == "Seller"]
        assert [p["partyOrPartyRole"]["id"] for p in sellers] == ["org-a"]
        url = f"{QUERY}/{doc['id']}"
        done = wait_until(lambda url=url: a.get(url).json(), lambda d: d["state"] == "done")
        assert listed(done)
        assert b.get(f"{QUERY}/{doc['id']}").status_code == 404
        assert doc["id"] not in [d["id"] for d in b.get(QUERY).json()]
        assert doc["id"] in [d["id"] for d in a.get(QUERY).json()]

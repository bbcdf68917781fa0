"""Commercial eligibility through HTTP, the same rules through TMF679 and TMF622.

Each rule (channel, market segment with its hierarchy, place with the region hierarchy and
the address areas, the parties the server knows) has a case that passes and one that fails
with its code, asked both as a synchronous product offering qualification and as a product
order (completed, or rejected with the code in its notes). Also the TMF679 query form (a
category or catalog instead of items), the requested completion date, and TMF637 refusing a
product for a party that has ended. Every answer is validated against the official v4.0.0
Swagger files.

Data: the demo product catalog (po-galaxy-s25 is sold on web and in retail only, po-fibre-300
to residential customers only, po-dsl-100 only in Austria) and the demo reference data
(regions AT > AT-9 Wien, AT-4 > AT-4-LINZ…, DE > DE-BY; segments residential > youth,
business > enterprise; coverage of Wien, Linz, Graz and Salzburg addresses).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.support.assertions import assert_error, assert_valid
from tests.support.market import (
    POQ,
    TMF679,
    address,
    assert_637_error,
    item,
    load_reference,
    new_party,
    order_body,
    outcome,
    party_ref,
    place_order,
    poq_body,
    poq_item,
    post_poq,
    reasons,
    region,
    rejection_codes,
)
from tests.support.ordering import CATALOG, DEMO_FILE, PRODUCTS, assert_637, create_offering, iso, load_demo

Doc = dict[str, Any]
DEMO = json.loads(DEMO_FILE.read_text(encoding="utf-8"))
APIS = ("679", "622")


@pytest.fixture
def market(client: TestClient) -> TestClient:
    """The demo product catalog and the demo reference data (no service catalog: commercial rules only)."""
    load_demo(client)
    load_reference(client)
    return client


# -- customers -----------------------------------------------------------------------------

Customer = Callable[[TestClient], Doc]


def external(client: TestClient) -> Doc:
    """A customer the server does not know: recorded as given, never judged."""
    return party_ref("cust-external-7", "Individual")


def person(segment: Any = None, status: str = "validated") -> Customer:
    def make(client: TestClient) -> Doc:
        return party_ref(new_party(client, "individual", segment, status)["id"], "Individual")

    return make


def company(segment: Any = None, status: str = "validated", claimed: str = "Organization") -> Customer:
    def make(client: TestClient) -> Doc:
        return party_ref(new_party(client, "organization", segment, status)["id"], claimed)

    return make


def role(segment: str, status: str = "validated") -> Customer:
    """The customer is a TMF669 partyRole carrying the segment."""

    def make(client: TestClient) -> Doc:
        return party_ref(new_party(client, "partyRole", segment, status)["id"], "PartyRole")

    return make


def company_with_role(segment: str) -> Customer:
    """The order names the organization; the segment is on a role it plays (engagedParty)."""

    def make(client: TestClient) -> Doc:
        org = new_party(client, "organization", None, "validated")
        engaged = {"id": org["id"], "name": org["tradingName"], "@referredType": "Organization"}
        new_party(client, "partyRole", segment, "validated", engagedParty=engaged)
        return party_ref(org["id"], "Organization")

    return make


def role_of_company(segment: str) -> Customer:
    """The order names a role without a segment; the organization it engages has one."""

    def make(client: TestClient) -> Doc:
        org = new_party(client, "organization", segment, "validated")
        engaged = {"id": org["id"], "name": org["tradingName"], "@referredType": "Organization"}
        return party_ref(new_party(client, "partyRole", None, "validated", engagedParty=engaged)["id"], "PartyRole")

    return make


# -- the rules, table-driven -----------------------------------------------------------------

WIEN = address("1010", "Stephansplatz", "1", "Wien")
GRAZ = address("8010", "Herrengasse", "5", "Graz")


@dataclass(frozen=True)
class Case:
    id: str
    offering: str
    code: str | None  #: None: qualifies / the order completes
    customer: Customer = external
    channel: str | None = None
    where: Doc | None = None


CASES = [
    # channel
    Case("channel-listed", "po-galaxy-s25", None, channel="web"),
    Case("channel-other-listed", "po-galaxy-s25", None, channel="retail"),
    Case("channel-not-listed", "po-galaxy-s25", "CHANNEL_NOT_ALLOWED", channel="telesales"),
    Case("channel-unknown", "po-fibre-500", "CHANNEL_NOT_ALLOWED", channel="carrier-pigeon"),
    Case("no-channel-not-judged", "po-galaxy-s25", None),
    # market segment (po-fibre-300: residential only)
    Case("segment-same", "po-fibre-300", None, person("residential")),
    Case("segment-below", "po-fibre-300", None, person("youth")),
    Case("segment-one-of-several", "po-fibre-300", None, company(["business", "youth"])),
    Case("segment-other", "po-fibre-300", "MARKET_SEGMENT_NOT_ELIGIBLE", company("business")),
    Case("segment-below-other", "po-fibre-300", "MARKET_SEGMENT_NOT_ELIGIBLE", company("enterprise")),
    Case("segment-on-role", "po-fibre-300", "MARKET_SEGMENT_NOT_ELIGIBLE", role("enterprise")),
    Case("segment-on-role-qualifies", "po-fibre-300", None, role("youth")),
    Case("segment-on-a-role-played", "po-fibre-300", "MARKET_SEGMENT_NOT_ELIGIBLE", company_with_role("business")),
    Case("segment-of-engaged-party", "po-fibre-300", "MARKET_SEGMENT_NOT_ELIGIBLE", role_of_company("enterprise")),
    Case("segment-unrecorded", "po-fibre-300", None, person(None)),
    Case("segment-external-customer", "po-fibre-300", None, external),
    Case("segment-both-listed", "po-fibre-500", None, company("enterprise")),
    # place (po-dsl-100: Austria only)
    Case("place-address", "po-dsl-100", None, where=WIEN),
    Case("place-address-other-city", "po-dsl-100", None, where=GRAZ),
    Case("place-postcode-area", "po-dsl-100", None, where=address("5020", "Unlisted Gasse", "99")),
    Case("place-spelling", "po-dsl-100", None, where=address("1060", "Mariahilfer Str.", "3")),
    Case("place-region-below", "po-dsl-100", None, where=region("AT-4-LINZ")),
    Case("place-region-itself", "po-dsl-100", None, where=region("AT")),
    Case("place-other-country", "po-dsl-100", "PLACE_NOT_ELIGIBLE", where=region("DE-BY")),
    Case("place-other-country-top", "po-dsl-100", "PLACE_NOT_ELIGIBLE", where=region("DE")),
    Case("place-missing", "po-dsl-100", "PLACE_MISSING"),
    Case("place-unknown-postcode", "po-dsl-100", "PLACE_UNKNOWN", where=address("9999", "Nowhere", "1")),
    Case("place-unknown-id", "po-dsl-100", "PLACE_UNKNOWN", where=region("XX-1")),
    Case("place-not-restricted", "po-fibre-500", None, where=region("DE-BY")),
    # parties the server knows
    Case("party-initialized", "po-fibre-500", None, person(None, "initialized")),
    Case("party-validated-organization", "po-fibre-500", None, company(None, "validated")),
    Case("party-deceased", "po-fibre-500", "PARTY_NOT_ACTIVE", person(None, "deceaded")),
    Case("party-closed", "po-fibre-500", "PARTY_NOT_ACTIVE", company(None, "closed")),
    Case("party-role-closed", "po-fibre-500", "PARTY_NOT_ACTIVE", role("residential", "closed")),
    Case("party-wrong-type", "po-fibre-500", "PARTY_TYPE_MISMATCH", company(None, "validated", "Individual")),
    Case("party-type-by-resource", "po-fibre-500", None, company(None, "validated", "organization")),
]


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_rule(market: TestClient, case: Case, api: str) -> None:
    customer = case.customer(market)
    ok, codes = outcome(market, api, case.offering, customer=customer, channel=case.channel, where=case.where)
    if case.code is None:
        assert ok and not codes, codes
    else:
        assert not ok and codes == {case.code}, codes


@pytest.mark.parametrize("api", APIS)
def test_a_hierarchy_narrows_downwards_only(market: TestClient, api: str) -> None:
    """An offering for youth in Wien: a residential customer (the parent segment) or a place in
    Austria at large (the parent region) is not inside it; a youth customer in Wien is."""
    narrow = create_offering(
        market,
        name="Youth fibre Wien",
        lifecycleStatus="Launched",
        marketSegment=[{"id": "youth", "name": "Youth"}],
        place=[{"id": "AT-9", "name": "Wien"}],
        channel=[{"id": "web", "name": "Web shop"}],
    )["id"]
    young = person("youth")(market)
    assert outcome(market, api, narrow, customer=young, channel="web", where=WIEN) == (True, set())
    assert outcome(market, api, narrow, customer=person("residential")(market), where=WIEN) == (
        False,
        {"MARKET_SEGMENT_NOT_ELIGIBLE"},
    )
    assert outcome(market, api, narrow, customer=young, where=region("AT")) == (False, {"PLACE_NOT_ELIGIBLE"})
    linz = address("4020", "Landstraße", "2", "Linz")
    assert outcome(market, api, narrow, customer=young, where=linz) == (False, {"PLACE_NOT_ELIGIBLE"})


def test_the_demo_catalog_restricts_what_the_cases_assume() -> None:
    """The table above leans on these demo catalog facts; fail here, not obscurely there."""
    offerings = {o["id"]: o for o in DEMO["productOffering"]}

    def ids(offering: str, key: str) -> set[str]:
        return {ref["id"] for ref in offerings[offering].get(key) or []}

    assert ids("po-galaxy-s25", "channel") == {"web", "retail"}
    assert ids("po-fibre-300", "marketSegment") == {"residential"}
    assert ids("po-fibre-500", "marketSegment") == {"residential", "business"}
    assert ids("po-dsl-100", "place") == {"AT"}
    assert not ids("po-fibre-500", "place")


def test_the_reasons_name_what_is_at_fault(market: TestClient) -> None:
    customer = company("enterprise")(market)
    doc = post_poq(
        market,
        poq_body(
            "po-galaxy-s25", "po-fibre-300", "po-dsl-100", customer=customer, channel="telesales", where=region("DE-BY")
        ),
    )
    labels = {
        r["code"]: r["label"]
        for i in doc["productOfferingQualificationItem"]
        for r in i.get("eligibilityUnavailabilityReason") or []
    }
    assert "telesales" in labels["CHANNEL_NOT_ALLOWED"]
    assert "residential" in labels["MARKET_SEGMENT_NOT_ELIGIBLE"]
    assert "enterprise" in labels["MARKET_SEGMENT_NOT_ELIGIBLE"]
    assert "Austria" in labels["PLACE_NOT_ELIGIBLE"] and "Bayern" in labels["PLACE_NOT_ELIGIBLE"]
    assert reasons(poq_item(doc, "1")) == {"CHANNEL_NOT_ALLOWED"}
    assert reasons(poq_item(doc, "2")) == {"MARKET_SEGMENT_NOT_ELIGIBLE"}
    assert reasons(poq_item(doc, "3")) == {"PLACE_NOT_ELIGIBLE"}


def test_every_failing_rule_is_reported_at_once(market: TestClient) -> None:
    """An order breaking several rules is rejected with all of them, never only the first."""
    customer = company("business", "closed")(market)
    body = order_body(
        item("1", "po-galaxy-s25"),
        item("2", "po-fibre-300"),
        item("3", "po-dsl-100", region("DE")),
        customer=customer,
        channel="telesales",
    )
    doc = place_order(market, body)
    assert doc["state"] == "rejected"
    assert rejection_codes(doc) == {
        "CHANNEL_NOT_ALLOWED",
        "MARKET_SEGMENT_NOT_ELIGIBLE",
        "PLACE_NOT_ELIGIBLE",
        "PARTY_NOT_ACTIVE",
    }


def test_a_party_named_on_an_item_is_checked_too(market: TestClient) -> None:
    user = new_party(market, "individual", None, "deceaded")
    line = item("1", "po-fibre-500", product={"relatedParty": [party_ref(user["id"], "Individual", "user")]})
    doc = place_order(market, order_body(line, customer=external(market)))
    assert doc["state"] == "rejected" and rejection_codes(doc) == {"PARTY_NOT_ACTIVE"}
    fine = new_party(market, "individual", None, "validated")
    line = item("1", "po-fibre-500", product={"relatedParty": [party_ref(fine["id"], "Individual", "user")]})
    assert place_order(market, order_body(line, customer=external(market)))["state"] == "completed"


def test_a_party_problem_makes_every_qualification_item_unqualified(market: TestClient) -> None:
    customer = person("residential", "deceaded")(market)
    doc = post_poq(market, poq_body("po-fibre-300", "po-mobile-m", customer=customer))
    assert doc["qualificationResult"] == "unqualified"
    for found in doc["productOfferingQualificationItem"]:
        assert found["qualificationItemResult"] == "unqualified"
        assert reasons(found) == {"PARTY_NOT_ACTIVE"}


def test_the_item_place_overrides_the_qualification_place(market: TestClient) -> None:
    body = poq_body("po-dsl-100", "po-dsl-100", where=region("DE-BY"))
    body["productOfferingQualificationItem"][0]["product"] = {"place": [WIEN]}
    doc = post_poq(market, body)
    assert poq_item(doc, "1")["qualificationItemResult"] == "qualified"
    assert reasons(poq_item(doc, "2")) == {"PLACE_NOT_ELIGIBLE"}


def test_a_region_hierarchy_loaded_later_extends_the_offering(market: TestClient) -> None:
    """A region merged below AT later is inside po-dsl-100's place; one below DE is not."""
    load_reference(
        market,
        {
            "regions": [
                {"id": "AT-7", "name": "Tirol", "parent": "AT"},
                {"id": "AT-7-IBK", "name": "Innsbruck", "parent": "AT-7"},
                {"id": "DE-BY-M", "name": "München", "parent": "DE-BY"},
            ],
            "areas": [
                {"postcode": "6020", "region": "AT-7-IBK", "technologies": []},
                {"id": "site-munich-hq", "region": "DE-BY-M"},
            ],
        },
    )
    for api in APIS:
        assert outcome(market, api, "po-dsl-100", where=address("6020", "Maria-Theresien-Straße", "1")) == (
            True,
            set(),
        )
        assert outcome(market, api, "po-dsl-100", where=region("site-munich-hq")) == (False, {"PLACE_NOT_ELIGIBLE"})


def test_without_reference_data_a_restricted_place_is_unknown(client: TestClient) -> None:
    """No hierarchy loaded: a place-restricted offering cannot be placed; the others still can."""
    load_demo(client)
    for api in APIS:
        assert outcome(client, api, "po-dsl-100", where=WIEN) == (False, {"PLACE_UNKNOWN"})
        assert outcome(client, api, "po-fibre-500", where=WIEN) == (True, set())


def test_without_segment_hierarchy_only_exact_segments_qualify(client: TestClient) -> None:
    """Before the reference data is loaded, youth is not known to be residential."""
    load_demo(client)
    assert outcome(client, "679", "po-fibre-300", customer=person("residential")(client)) == (True, set())
    assert outcome(client, "679", "po-fibre-300", customer=person("youth")(client)) == (
        False,
        {"MARKET_SEGMENT_NOT_ELIGIBLE"},
    )


# -- TMF679 query form -----------------------------------------------------------------------


def _category_tree(root: str) -> set[str]:
    """``root`` and its sub-categories, read from the demo file (not from the server)."""
    children: dict[str, set[str]] = {}
    for cat in DEMO["category"]:
        if cat.get("parentId"):
            children.setdefault(cat["parentId"], set()).add(cat["id"])
        for sub in cat.get("subCategory") or []:
            children.setdefault(cat["id"], set()).add(sub["id"])
    found, todo = set(), [root]
    while todo:
        current = todo.pop()
        if current not in found:
            found.add(current)
            todo += sorted(children.get(current, ()))
    return found


def _offerings_in(categories: set[str]) -> set[str]:
    return {o["id"] for o in DEMO["productOffering"] if {c["id"] for c in o.get("category") or []} & categories}


def _query(client: TestClient, category: str, sync: bool = True, **extra: Any) -> Doc:
    body: Doc = {"instantSyncQualification": sync, "category": {"id": category}, **extra}
    return post_poq(client, body, 200 if sync else 201)


def _results(doc: Doc) -> dict[str, str]:
    found = {}
    for entry in doc["productOfferingQualificationItem"]:
        offering = entry["productOffering"]["id"]
        assert offering not in found, f"{offering} listed twice"
        found[offering] = entry["qualificationItemResult"]
    return found


_CATALOG = DEMO["catalog"][0]


@pytest.mark.parametrize(
    "category, expected",
    [
        ("cat-fibre-broadband", _offerings_in({"cat-fibre-broadband"})),
        ("cat-mobile", _offerings_in(_category_tree("cat-mobile"))),
        ("cat-fixed", _offerings_in(_category_tree("cat-fixed"))),
        (_CATALOG["id"], _offerings_in(set().union(*(_category_tree(c["id"]) for c in _CATALOG["category"])))),
    ],
    ids=["leaf", "with-sub-categories", "fixed", "catalog"],
)
def test_a_category_query_gets_one_item_per_offering(market: TestClient, category: str, expected: set[str]) -> None:
    assert len(expected) >= 4  # the demo data is not trivially small
    doc = _query(market, category)
    assert doc["state"] == "done"
    assert set(_results(doc)) == expected
    ids = [i["id"] for i in doc["productOfferingQualificationItem"]]
    assert len(set(ids)) == len(ids)
    for entry in doc["productOfferingQualificationItem"]:
        assert entry["state"] == "done"
        assert entry["productOffering"]["href"].endswith(f"/productOffering/{entry['productOffering']['id']}")
    assert market.get(f"{POQ}/{doc['id']}").json() == doc


def test_a_category_query_judges_each_offering_for_the_customer(market: TestClient) -> None:
    customer = company("enterprise")(market)
    doc = _query(
        market,
        "cat-fixed",
        relatedParty=[customer],
        channel={"id": "telesales"},
        place=[region("AT-6-GRAZ")],
    )
    results = _results(doc)
    assert results["po-fibre-300"] == "unqualified"  # residential only
    assert results["po-home-mobile-bundle"] == "unqualified"  # residential only
    for offering in ("po-fibre-500", "po-fibre-1000", "po-dsl-100"):
        assert results[offering] == "qualified", doc
    by_offering = {i["productOffering"]["id"]: i for i in doc["productOfferingQualificationItem"]}
    assert reasons(by_offering["po-fibre-300"]) == {"MARKET_SEGMENT_NOT_ELIGIBLE"}
    assert doc["qualificationResult"] == "unqualified"

    abroad = _results(_query(market, "cat-fixed", place=[region("DE-BY")]))
    assert abroad["po-dsl-100"] == "unqualified" and abroad["po-fibre-500"] == "qualified"


def test_a_category_query_can_list_only_what_qualifies(market: TestClient) -> None:
    doc = _query(market, "cat-mobile", channel={"id": "telesales"}, provideOnlyAvailable=True)
    results = _results(doc)
    assert set(results.values()) == {"qualified"}
    assert "po-galaxy-s25" not in results and "po-mobile-s" not in results  # web/retail only; retired
    assert {"po-mobile-m", "po-mobile-unlimited"} <= set(results)


def test_a_category_query_is_answered_by_the_task_too(market: TestClient) -> None:
    doc = _query(market, "cat-fibre-broadband", sync=False)
    assert doc["state"] == "acknowledged"
    deadline = time.monotonic() + 5
    while (current := market.get(f"{POQ}/{doc['id']}").json())["state"] != "done":
        assert time.monotonic() < deadline, current
        time.sleep(0.02)
    assert_valid(TMF679, "ProductOfferingQualification", current)
    assert set(_results(current)) == _offerings_in({"cat-fibre-broadband"})


def test_listed_items_win_over_the_category(market: TestClient) -> None:
    doc = post_poq(market, poq_body("po-galaxy-s25", category={"id": "cat-fibre-broadband"}))
    assert _results(doc) == {"po-galaxy-s25": "qualified"}


def test_a_category_query_judges_each_offering_on_its_own(market: TestClient) -> None:
    """Two offerings of one category that exclude each other can each be bought (on its own):
    the query asks what the customer could buy there, not for all of it in one order."""
    cat = market.post(f"{CATALOG}/category", json={"name": "Exclusive TV"})
    assert cat.status_code == 201, cat.text
    category = {"id": cat.json()["id"], "name": "Exclusive TV"}
    first = create_offering(market, name="TV Basic", lifecycleStatus="Launched", category=[category])
    second = create_offering(
        market,
        name="TV Premium",
        lifecycleStatus="Launched",
        category=[category],
        productOfferingRelationship=[{"id": first["id"], "name": "TV Basic", "relationshipType": "excludes"}],
    )
    together = post_poq(market, poq_body(first["id"], second["id"]))  # both at once: excluded
    assert reasons(poq_item(together, "2")) == {"OFFERING_EXCLUDED"}
    doc = _query(market, category["id"])
    assert {i["productOffering"]["id"]: reasons(i) for i in doc["productOfferingQualificationItem"]} == {
        first["id"]: set(),
        second["id"]: set(),
    }


@pytest.mark.parametrize(
    "when, status",
    [(iso(-3600), 400), (iso(-1), 400), (iso(3600), 200)],
    ids=["an-hour-ago", "a-second-ago", "in-an-hour"],
)
def test_the_requested_completion_date_cannot_have_passed(market: TestClient, when: str, status: int) -> None:
    body = poq_body("po-fibre-500", requestedPOQCompletionDate=when)
    if status == 400:
        assert_error(market.post(POQ, json=body), 400, "INVALID_DATE", spec=TMF679)
        assert market.get(POQ).json() == []
    else:
        assert post_poq(market, body)["qualificationResult"] == "qualified"
    query = {"instantSyncQualification": True, "category": {"id": "cat-mobile"}, "requestedPOQCompletionDate": when}
    if status == 400:
        assert_error(market.post(POQ, json=query), 400, "INVALID_DATE", spec=TMF679)
    else:
        assert post_poq(market, query)["state"] == "done"


def test_a_requested_completion_date_must_be_a_date(market: TestClient) -> None:
    body = poq_body("po-fibre-500", requestedPOQCompletionDate="next tuesday")
    assert_error(market.post(POQ, json=body), 400, spec=TMF679)
    assert market.get(POQ).json() == []


# -- TMF637: products for parties that ended -----------------------------------------------


def _product(client: TestClient, customer: Doc) -> Any:
    return client.post(PRODUCTS, json={"name": "Fibre 500", "status": "created", "relatedParty": [customer]})


@pytest.mark.parametrize(
    "customer, code",
    [
        (external, None),
        (person(None, "initialized"), None),
        (company(None, "validated"), None),
        (person(None, "deceaded"), "PARTY_NOT_ACTIVE"),
        (company(None, "closed"), "PARTY_NOT_ACTIVE"),
        (role("residential", "closed"), "PARTY_NOT_ACTIVE"),
        (company(None, "validated", "Individual"), "PARTY_TYPE_MISMATCH"),
    ],
    ids=["external", "individual", "organization", "deceased", "closed", "closed-role", "wrong-type"],
)
def test_a_product_names_only_active_known_parties(client: TestClient, customer: Customer, code: str | None) -> None:
    ref = customer(client)
    r = _product(client, ref)
    if code is None:
        assert r.status_code == 201, r.text
        assert_637("Product", r.json())
        assert r.json()["relatedParty"][0]["id"] == ref["id"]
    else:
        body = assert_637_error(r, 422, code)
        assert ref["id"] in body["message"]
        assert client.get(PRODUCTS, params={"relatedParty.id": ref["id"]}).json() == []


def test_a_party_closed_after_its_product_keeps_the_product(client: TestClient) -> None:
    org = new_party(client, "organization", None, "validated")
    r = _product(client, party_ref(org["id"], "Organization"))
    assert r.status_code == 201, r.text
    assert client.patch(f"/tmf-api/party/v4/organization/{org['id']}", json={"status": "closed"}).status_code == 200
    assert client.get(f"{PRODUCTS}/{r.json()['id']}").status_code == 200
    assert_637_error(_product(client, party_ref(org["id"], "Organization")), 422, "PARTY_NOT_ACTIVE")


def test_a_query_for_a_closed_customer_names_the_reason_once_per_offering(market: TestClient) -> None:
    """The query form judges each offering on its own; the customer's problem is still one
    reason on each item, not one per offering of the category."""
    closed = new_party(market, "individual", status="deceaded")
    body = poq_body(customer=party_ref(closed["id"]), category={"id": "cat-fibre-broadband"})
    doc = post_poq(market, body)
    items = doc["productOfferingQualificationItem"]
    assert len(items) >= 2
    for found in items:
        codes = [r["code"] for r in found["eligibilityUnavailabilityReason"]]
        assert codes.count("PARTY_NOT_ACTIVE") == 1, codes

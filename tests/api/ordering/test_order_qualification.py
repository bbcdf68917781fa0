"""Product orders that refer to TMF679 qualifications, and serviceability at the item's place.

An order may name qualifications at order level (``productOfferingQualification``), per item
(``productOrderItem.qualification``) or per qualification item
(``productOrderItem.productOfferingQualificationItem``). A qualification that does not exist,
is not done, has expired, is another customer's, answers for another offering or did not
qualify rejects the order with its code; a valid one vouches for the items it covers until
it expires, so they are not judged again on lifecycle or eligibility (an offering retired
since still orders with it, not without it). Uncovered items get every check.

Orders also check that the items' services can be delivered at their place when reference
data is loaded (SERVICE_NOT_AVAILABLE); TMF679 is commercial only and does not. Every answer
is validated against the official TMF622/TMF679 v4.0.0 files.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.support.assertions import assert_error
from tests.support.chain import load_chain
from tests.support.market import (
    address,
    item,
    load_reference,
    new_party,
    order_body,
    party_ref,
    place_order,
    poq_body,
    poq_item,
    post_poq,
    reasons,
    region,
    rejection_codes,
)
from tests.support.ordering import OFFERINGS, ORDERS, create_offering, load_demo, msisdn, notes, wait_state
from tmfstack.settings import Settings
from tmfstack.web.app import create_app

Doc = dict[str, Any]
ANNA = party_ref("cust-anna", "Individual")
BEN = party_ref("cust-ben", "Individual")


@pytest.fixture
def shop(client: TestClient) -> TestClient:
    load_demo(client)
    load_reference(client)
    return client


def qualified(client: TestClient, *offerings: str, customer: Doc = ANNA, **extra: Any) -> Doc:
    """A synchronous qualification every item of which qualifies; returns it."""
    doc = post_poq(client, poq_body(*offerings, customer=customer, **extra))
    assert doc["state"] == "done" and doc["qualificationResult"] == "qualified", doc
    return doc


def mobile_s(item_id: str) -> Doc:
    """An add item of the retired Mobile S, complete (its MSISDN given)."""
    return item(item_id, "po-mobile-s", product={"productCharacteristic": [{"name": "MSISDN", "value": msisdn()}]})


def poq_ref(doc: Doc) -> Doc:
    return {"id": doc["id"], "href": doc["href"], "@referredType": "ProductOfferingQualification"}


def retire(client: TestClient, offering: str) -> None:
    r = client.patch(f"{OFFERINGS}/{offering}", json={"lifecycleStatus": "Retired"})
    assert r.status_code == 200, r.text
    assert r.json()["lifecycleStatus"] == "Retired"


# the three ways an order names a qualification, for its item "1"
def at_order(doc: Doc, line: Doc, poq_item_id: str = "1") -> tuple[Doc, Doc]:
    return line, {"productOfferingQualification": [poq_ref(doc)]}


def on_item(doc: Doc, line: Doc, poq_item_id: str = "1") -> tuple[Doc, Doc]:
    return {**line, "qualification": [poq_ref(doc)]}, {}


def on_poq_item(doc: Doc, line: Doc, poq_item_id: str = "1") -> tuple[Doc, Doc]:
    ref = {
        "id": poq_item_id,
        "productOfferingQualificationId": doc["id"],
        "@referredType": "ProductOfferingQualificationItem",
    }
    return {**line, "productOfferingQualificationItem": ref}, {}


FORMS = {"order": at_order, "item": on_item, "poq-item": on_poq_item}


def ordered(
    client: TestClient, form: str | None, doc: Doc | None, *lines: Doc, customer: Doc = ANNA, **extra: Any
) -> Doc:
    """Place an order of ``lines``, the first naming ``doc`` in ``form``; returns it when ended."""
    first, rest = lines[0], list(lines[1:])
    top: Doc = {}
    if form is not None and doc is not None:
        first, top = FORMS[form](doc, first)
    return place_order(client, order_body(first, *rest, customer=customer, **top, **extra))


def rejected_with(doc: Doc, *codes: str) -> None:
    assert doc["state"] == "rejected", notes(doc)
    assert rejection_codes(doc) == set(codes), notes(doc)


# -- a valid qualification -------------------------------------------------------------------


@pytest.mark.parametrize("form", sorted(FORMS))
def test_a_valid_qualification_is_accepted(shop: TestClient, form: str) -> None:
    doc = qualified(shop, "po-fibre-500")
    done = ordered(shop, form, doc, item("1", "po-fibre-500"))
    assert done["state"] == "completed", notes(done)


@pytest.mark.parametrize("form", sorted(FORMS))
def test_a_qualified_offering_retired_since_still_orders_with_its_qualification(shop: TestClient, form: str) -> None:
    doc = qualified(shop, "po-fibre-500", "po-galaxy-s25")
    retire(shop, "po-fibre-500")
    without = ordered(shop, None, None, item("1", "po-fibre-500"))
    rejected_with(without, "OFFERING_NOT_ORDERABLE")
    with_it = ordered(shop, form, doc, item("1", "po-fibre-500"))
    assert with_it["state"] == "completed", notes(with_it)
    # and a fresh qualification no longer vouches for it
    again = post_poq(shop, poq_body("po-fibre-500", customer=ANNA))
    assert poq_item(again)["qualificationItemResult"] == "unqualified"
    done = ordered(shop, form, again, item("1", "po-fibre-500"))  # and the item is then judged itself
    rejected_with(done, "QUALIFICATION_NOT_QUALIFIED", "OFFERING_NOT_ORDERABLE")


def test_a_qualified_item_is_not_judged_again_on_eligibility(shop: TestClient) -> None:
    """The channel list of the offering narrowed after the qualification: the qualified
    order still goes through, a new one through that channel does not."""
    doc = qualified(shop, "po-galaxy-s25", channel="web")
    r = shop.patch(f"{OFFERINGS}/po-galaxy-s25", json={"channel": [{"id": "retail", "name": "Retail stores"}]})
    assert r.status_code == 200, r.text
    rejected_with(ordered(shop, None, None, item("1", "po-galaxy-s25"), channel="web"), "CHANNEL_NOT_ALLOWED")
    done = ordered(shop, "order", doc, item("1", "po-galaxy-s25"), channel="web")
    assert done["state"] == "completed", notes(done)


def test_items_outside_the_qualification_get_every_check(shop: TestClient) -> None:
    doc = qualified(shop, "po-fibre-500")
    retire(shop, "po-fibre-500")
    done = ordered(shop, "order", doc, item("1", "po-fibre-500"), item("2", "po-fibre-1000"))
    assert done["state"] == "completed", notes(done)  # item 2 is orderable on its own
    bad = ordered(shop, "order", doc, item("1", "po-fibre-500"), mobile_s("2"))
    rejected_with(bad, "OFFERING_NOT_ORDERABLE", "OFFERING_NOT_VALID")
    assert all("item 2:" in n["text"] for n in bad["note"] if n["text"].startswith("rejected:")), notes(bad)


def test_one_qualification_covers_several_items(shop: TestClient) -> None:
    doc = qualified(shop, "po-fibre-500", "po-galaxy-s25")
    retire(shop, "po-fibre-500")
    retire(shop, "po-galaxy-s25")
    lines = (item("1", "po-fibre-500"), item("2", "po-galaxy-s25"))
    rejected_with(ordered(shop, None, None, *lines), "OFFERING_NOT_ORDERABLE")
    done = ordered(shop, None, None, *lines, productOfferingQualification=[poq_ref(doc)])
    assert done["state"] == "completed", notes(done)


# -- qualifications that do not vouch ----------------------------------------------------------


@pytest.mark.parametrize("form", sorted(FORMS))
def test_an_unknown_qualification_rejects_the_order(shop: TestClient, form: str) -> None:
    ghost = {"id": "poq-does-not-exist", "href": "http://testserver/nowhere"}
    rejected_with(ordered(shop, form, ghost, item("1", "po-fibre-500")), "QUALIFICATION_NOT_FOUND")


@pytest.mark.parametrize("form", sorted(FORMS))
def test_another_customers_qualification_rejects_the_order(shop: TestClient, form: str) -> None:
    doc = qualified(shop, "po-fibre-500", customer=BEN)
    rejected_with(ordered(shop, form, doc, item("1", "po-fibre-500")), "QUALIFICATION_OTHER_CUSTOMER")
    assert ordered(shop, form, doc, item("1", "po-fibre-500"), customer=BEN)["state"] == "completed"


def test_a_qualification_without_customer_is_not_anyones(shop: TestClient) -> None:
    doc = post_poq(shop, poq_body("po-fibre-500"))
    assert doc["qualificationResult"] == "qualified"
    rejected_with(ordered(shop, "order", doc, item("1", "po-fibre-500")), "QUALIFICATION_OTHER_CUSTOMER")


@pytest.mark.parametrize("form", sorted(FORMS))
def test_an_unqualified_answer_rejects_the_order(shop: TestClient, form: str) -> None:
    doc = post_poq(shop, poq_body("po-mobile-s", customer=ANNA, provideAlternative=True))
    assert poq_item(doc)["qualificationItemResult"] == "alternate"  # Mobile M proposed
    done = ordered(shop, form, doc, mobile_s("1"))
    rejected_with(done, "QUALIFICATION_NOT_QUALIFIED", "OFFERING_NOT_ORDERABLE", "OFFERING_NOT_VALID")
    assert "OFFERING_NOT_ORDERABLE" in notes(done)


def test_an_unqualified_answer_lists_its_reasons(shop: TestClient) -> None:
    doc = post_poq(shop, poq_body("po-galaxy-s25", customer=ANNA, channel="telesales"))
    assert reasons(poq_item(doc)) == {"CHANNEL_NOT_ALLOWED"}
    done = ordered(shop, "poq-item", doc, item("1", "po-galaxy-s25"), channel="web")
    rejected_with(done, "QUALIFICATION_NOT_QUALIFIED")
    assert "telesales" in notes(done)


def test_a_qualification_item_for_another_offering_is_a_mismatch(shop: TestClient) -> None:
    doc = qualified(shop, "po-fibre-500", "po-fibre-1000")
    rejected_with(ordered(shop, "poq-item", doc, item("1", "po-fibre-300")), "QUALIFICATION_MISMATCH")
    line = {
        **item("1", "po-fibre-1000"),
        "productOfferingQualificationItem": {"id": "1", "productOfferingQualificationId": doc["id"]},
    }
    rejected_with(place_order(shop, order_body(line, customer=ANNA)), "QUALIFICATION_MISMATCH")
    line["productOfferingQualificationItem"]["id"] = "2"  # the item that is for Fibre 1000
    assert place_order(shop, order_body(line, customer=ANNA))["state"] == "completed"


def test_a_qualification_item_that_does_not_exist_is_a_mismatch(shop: TestClient) -> None:
    doc = qualified(shop, "po-fibre-500")
    line = {
        **item("1", "po-fibre-500"),
        "productOfferingQualificationItem": {"id": "9", "productOfferingQualificationId": doc["id"]},
    }
    rejected_with(place_order(shop, order_body(line, customer=ANNA)), "QUALIFICATION_MISMATCH")


def test_an_item_qualification_without_the_offering_is_a_mismatch(shop: TestClient) -> None:
    doc = qualified(shop, "po-fibre-500")
    rejected_with(ordered(shop, "item", doc, item("1", "po-fibre-1000")), "QUALIFICATION_MISMATCH")


def test_an_order_qualification_without_the_offering_leaves_the_item_to_the_order(shop: TestClient) -> None:
    doc = qualified(shop, "po-fibre-500")
    assert ordered(shop, "order", doc, item("1", "po-fibre-1000"))["state"] == "completed"
    rejected_with(ordered(shop, "order", doc, mobile_s("1")), "OFFERING_NOT_ORDERABLE", "OFFERING_NOT_VALID")


def test_a_qualification_named_twice_is_reported_once(shop: TestClient) -> None:
    ghost = {"id": "poq-missing"}
    line = {**item("1", "po-fibre-500"), "qualification": [ghost]}
    done = place_order(shop, order_body(line, customer=ANNA, productOfferingQualification=[ghost]))
    rejected_with(done, "QUALIFICATION_NOT_FOUND")
    assert notes(done).count("[QUALIFICATION_NOT_FOUND]") == 1, notes(done)


# -- expiry ----------------------------------------------------------------------------------


@pytest.fixture
def short_lived(settings: Settings) -> Iterator[TestClient]:
    """Qualifications hold one second."""
    with TestClient(create_app(dataclasses.replace(settings, qualification_validity=1.0))) as c:
        load_demo(c)
        yield c


def _parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


@pytest.mark.parametrize("form", sorted(FORMS))
def test_an_expired_qualification_rejects_the_order(short_lived: TestClient, form: str) -> None:
    doc = qualified(short_lived, "po-fibre-500")
    held = _parse(doc["expirationDate"]) - _parse(doc["effectiveQualificationDate"])
    assert 0.9 <= held.total_seconds() <= 1.1, doc
    assert ordered(short_lived, form, doc, item("1", "po-fibre-500"))["state"] == "completed"
    while datetime.now(UTC) <= _parse(doc["expirationDate"]):
        time.sleep(0.05)
    time.sleep(0.05)
    rejected_with(ordered(short_lived, form, doc, item("1", "po-fibre-500")), "QUALIFICATION_EXPIRED")


def test_an_expired_qualification_no_longer_covers_a_retired_offering(short_lived: TestClient) -> None:
    doc = qualified(short_lived, "po-fibre-500")
    retire(short_lived, "po-fibre-500")
    assert ordered(short_lived, "order", doc, item("1", "po-fibre-500"))["state"] == "completed"
    while datetime.now(UTC) <= _parse(doc["expirationDate"]):
        time.sleep(0.05)
    time.sleep(0.05)
    done = ordered(short_lived, "order", doc, item("1", "po-fibre-500"))
    assert done["state"] == "rejected"
    assert {"QUALIFICATION_EXPIRED", "OFFERING_NOT_ORDERABLE"} <= rejection_codes(done), notes(done)


# -- a qualification not answered yet ------------------------------------------------------------


@pytest.fixture
def idle(settings: Settings) -> Iterator[TestClient]:
    """No task runner (a qualification asked asynchronously stays acknowledged) and strict
    orders (refused at once with 422 instead of rejected later)."""
    with TestClient(create_app(dataclasses.replace(settings, workers=False, strict_orders=True))) as c:
        yield c


@pytest.mark.parametrize("form", sorted(FORMS))
def test_a_qualification_not_done_refuses_the_order(idle: TestClient, form: str) -> None:
    offering = create_offering(idle, name="Plain line", lifecycleStatus="Launched")
    doc = post_poq(idle, poq_body(offering["id"], customer=ANNA, sync=False), 201)
    assert doc["state"] == "acknowledged"
    line, top = FORMS[form](doc, item("1", offering["id"]))
    r = idle.post(ORDERS, json=order_body(line, customer=ANNA, **top))
    body = assert_error(r, 422, "ORDER_INVALID")
    assert "[QUALIFICATION_NOT_DONE]" in body["message"], body
    assert idle.get(ORDERS).json() == []
    r = idle.post(ORDERS, json=order_body(item("1", offering["id"]), customer=ANNA))
    assert r.status_code == 201, r.text  # the same order without it is fine


# -- serviceability at the item's place ------------------------------------------------------------

STEPHANSPLATZ = address("1010", "Stephansplatz", "1", "Wien")  # fibre and VDSL2 250
GRAZ = address("8010", "Herrengasse", "1", "Graz")  # VDSL2 100 only
GRAZ_SLOW = address("8010", "Herrengasse", "3", "Graz")  # VDSL2 50 only
DONAUSTADT = address("1220", "Wagramer Straße", "1", "Wien")  # fibre from 2027-03-01, VDSL2 100


@pytest.fixture
def network(settings: Settings) -> Iterator[TestClient]:
    """The demo resource, product and service catalogs, stocked pools and the demo reference data."""
    with TestClient(create_app(settings)) as c:
        load_chain(c, pool_size=6)
        load_reference(c)
        yield c


def chars(**values: Any) -> list[Doc]:
    return [{"name": k.replace("_", " "), "value": v} for k, v in values.items()]


@pytest.mark.parametrize(
    "offering, where, characteristics, ok",
    [
        ("po-fibre-500", STEPHANSPLATZ, None, True),
        ("po-fibre-500", GRAZ, None, False),  # no fibre there
        ("po-fibre-500", DONAUSTADT, None, False),  # fibre not built yet
        ("po-fibre-500", address("9999", "Nowhere", "1"), None, False),  # not covered
        ("po-dsl-100", GRAZ, chars(Download_speed=100), True),
        ("po-dsl-100", GRAZ_SLOW, chars(Download_speed=100), False),  # 50 Mbit/s there
        ("po-mobile-m", region("AT-9"), chars(MSISDN="+436641234001"), True),  # not place-bound
    ],
    ids=["fibre-covered", "fibre-vdsl-only", "fibre-not-yet", "uncovered", "dsl-fast-enough", "dsl-too-slow", "mobile"],
)
def test_an_order_checks_serviceability_at_the_place(
    network: TestClient, offering: str, where: Doc, characteristics: list[Doc] | None, ok: bool
) -> None:
    line = item("1", offering, where)
    if characteristics is not None:
        line["product"]["productCharacteristic"] = characteristics
    done = place_order(network, order_body(line, customer=ANNA), timeout=20)
    if ok:
        assert done["state"] != "rejected", notes(done)
    else:
        rejected_with(done, "SERVICE_NOT_AVAILABLE")


def test_serviceability_uses_the_default_speed_when_none_is_given(network: TestClient) -> None:
    """DSL 100 is 100 Mbit/s unless the order says otherwise: a 50 Mbit/s line cannot carry it."""
    done = place_order(network, order_body(item("1", "po-dsl-100", GRAZ_SLOW), customer=ANNA), timeout=20)
    rejected_with(done, "SERVICE_NOT_AVAILABLE")


def test_the_reason_says_what_is_missing(network: TestClient) -> None:
    done = place_order(network, order_body(item("1", "po-fibre-500", DONAUSTADT), customer=ANNA), timeout=20)
    rejected_with(done, "SERVICE_NOT_AVAILABLE")
    assert "2027-03-01" in notes(done)
    done = place_order(network, order_body(item("1", "po-fibre-500", GRAZ), customer=ANNA), timeout=20)
    assert "Internet access" in notes(done) and "FTTH" in notes(done)


def test_qualification_is_commercial_only_and_does_not_cover_the_network(network: TestClient) -> None:
    """TMF679 qualifies Fibre 500 in Graz (no fibre there: TMF645's question); the order
    naming that qualification is still rejected as not serviceable."""
    doc = qualified(network, "po-fibre-500", where=GRAZ)
    for form in sorted(FORMS):
        rejected_with(ordered(network, form, doc, item("1", "po-fibre-500", GRAZ)), "SERVICE_NOT_AVAILABLE")


def test_an_item_without_place_is_not_judged_on_serviceability(network: TestClient) -> None:
    done = place_order(network, order_body(item("1", "po-fibre-500"), customer=ANNA), timeout=20)
    assert done["state"] != "rejected", notes(done)


def test_without_reference_data_serviceability_is_not_judged(settings: Settings) -> None:
    with TestClient(create_app(settings)) as c:
        load_chain(c, pool_size=6)
        done = place_order(c, order_body(item("1", "po-fibre-500", GRAZ), customer=ANNA), timeout=20)
        assert done["state"] != "rejected", notes(done)


def test_commercial_and_technical_problems_are_reported_together(network: TestClient) -> None:
    customer = new_party(network, "organization", "business", "validated")
    line = item("1", "po-fibre-300", GRAZ)
    done = place_order(network, order_body(line, customer=party_ref(customer["id"], "Organization")), timeout=20)
    rejected_with(done, "MARKET_SEGMENT_NOT_ELIGIBLE", "SERVICE_NOT_AVAILABLE")


def test_a_requested_start_after_the_fibre_arrives_can_be_ordered(network: TestClient) -> None:
    """Fibre in Wagramer Straße is available from 2027-03-01: an order asking for the service
    from 2027-06-01 can be delivered."""
    line = item("1", "po-fibre-500", DONAUSTADT)
    r = network.post(ORDERS, json=order_body(line, customer=ANNA, requestedStartDate="2027-06-01T00:00:00Z"))
    assert r.status_code == 201, r.text
    done = wait_state(network, r.json()["id"], {"rejected", "inProgress", "completed", "failed", "partial"}, timeout=20)
    assert done["state"] != "rejected", notes(done)

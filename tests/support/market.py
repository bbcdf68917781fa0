"""Helpers for the eligibility and order-qualification tests.

Reference data (regions, market segments, technologies, areas) goes in through
``POST /admin/reference``; parties through TMF632/TMF669 with their ``status`` moved along
the documented lifecycle; qualifications through TMF679 and orders through TMF622, every
answer validated against the official v4.0.0 Swagger files in ../shared/specs.

A rule is checked the same way through both APIs (``outcome``): TMF679 answers
``qualified`` or ``unqualified`` with reason codes, TMF622 completes the order or rejects
it with the codes in its notes.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.testclient import TestClient

from tests.support.assertions import TMF637_SPEC, assert_error, assert_valid, spec_file
from tests.support.ordering import notes, place
from tmfstack.demo.reference import reference_data

TMF679 = spec_file("679")
TMF632 = spec_file("632")
TMF669 = spec_file("669")
POQ = "/tmf-api/productOfferingQualification/v4/productOfferingQualification"
PARTY = "/tmf-api/party/v4"
ROLES = "/tmf-api/partyRoleManagement/v4"
REFERENCE = "/admin/reference"

Doc = dict[str, Any]

#: where each party resource lives, its official definition and what ends it
_PARTY_KINDS = {
    "individual": (f"{PARTY}/individual", TMF632, "Individual", {"givenName": "Anna", "familyName": "Berger"}),
    "organization": (f"{PARTY}/organization", TMF632, "Organization", {"tradingName": "ACME Logistics"}),
    "partyRole": (f"{ROLES}/partyRole", TMF669, "PartyRole", {"name": "customer"}),
}
ENDED = {"individual": "deceaded", "organization": "closed", "partyRole": "closed"}


# -- reference data ------------------------------------------------------------------------


def load_reference(client: TestClient, data: Doc | None = None) -> Doc:
    """Merge a data set (the demo's by default) through ``POST /admin/reference``; returns the summary."""
    r = client.post(REFERENCE, json=data if data is not None else reference_data())
    assert r.status_code == 200, r.text
    return r.json()


def address(postcode: str, street: str | None = None, number: str | None = None, city: str = "") -> Doc:
    """A GeographicAddress as the item's place (RelatedPlaceRefOrValue: ``role`` is required)."""
    doc: Doc = {"role": "installationAddress", "@type": "GeographicAddress", "postcode": postcode}
    if street is not None:
        doc["streetName"] = street
    if number is not None:
        doc["streetNr"] = number
    if city:
        doc["city"] = city
    return doc


def region(region_id: str) -> Doc:
    """A place given by the id of a region (or of an area) of the reference data."""
    return {"id": region_id, "role": "installationAddress", "@referredType": "GeographicLocation"}


# -- parties -------------------------------------------------------------------------------


def new_party(
    client: TestClient,
    resource: str,
    segment: str | list[str] | None = None,
    status: str = "initialized",
    **extra: Any,
) -> Doc:
    """A TMF632 individual or organization, or a TMF669 partyRole, with its ``marketSegment``
    characteristic (when given), moved to ``status`` through the lifecycle; returns it."""
    url, spec, entity, body = _PARTY_KINDS[resource]
    body = {**body, **extra}
    if segment is not None:
        key = "characteristic" if resource == "partyRole" else "partyCharacteristic"
        body[key] = [{"name": "marketSegment", "value": segment, "valueType": "string"}]
    r = client.post(url, json=body)
    assert r.status_code == 201, r.text
    doc = r.json()
    assert_valid(spec, entity, doc)
    steps = {"initialized": [], "validated": ["validated"], ENDED[resource]: ["validated", ENDED[resource]]}[status]
    for step in steps:
        r = client.patch(f"{url}/{doc['id']}", json={"status": step})
        assert r.status_code == 200, r.text
        doc = r.json()
        assert_valid(spec, entity, doc)
    assert doc["status"] == status, doc
    return doc


def party_ref(party_id: str, referred: str = "Individual", role: str = "customer") -> Doc:
    return {"id": party_id, "name": f"Party {party_id}", "role": role, "@referredType": referred}


# -- TMF679 ----------------------------------------------------------------------------------


def post_poq(client: TestClient, body: Doc, status: int = 200) -> Doc:
    """POST a qualification; the answer has ``status`` and is a valid TMF679 ProductOfferingQualification."""
    r = client.post(POQ, json=body)
    assert r.status_code == status, r.text
    doc = r.json()
    assert_valid(TMF679, "ProductOfferingQualification", doc)
    return doc


def poq_body(
    *offerings: str,
    customer: Doc | None = None,
    channel: str | None = None,
    where: Doc | None = None,
    sync: bool = True,
    **extra: Any,
) -> Doc:
    body: Doc = {
        "instantSyncQualification": sync,
        "productOfferingQualificationItem": [
            {"id": str(n), "action": "add", "productOffering": {"id": o}} for n, o in enumerate(offerings, 1)
        ],
        **extra,
    }
    if customer is not None:
        body["relatedParty"] = [customer]
    if channel is not None:
        body["channel"] = {"id": channel}
    if where is not None:
        body["place"] = [where]
    return body


def poq_item(doc: Doc, item_id: str = "1") -> Doc:
    return next(i for i in doc["productOfferingQualificationItem"] if i["id"] == item_id)


def reasons(found: Doc) -> set[str]:
    return {r["code"] for r in found.get("eligibilityUnavailabilityReason") or []}


# -- TMF622 ----------------------------------------------------------------------------------


def order_body(
    *items: Doc,
    customer: Doc | None = None,
    channel: str | None = None,
    **extra: Any,
) -> Doc:
    body: Doc = {"productOrderItem": list(items), **extra}
    if customer is not None:
        body["relatedParty"] = [customer]
    if channel is not None:
        body["channel"] = [{"id": channel, "role": "sales channel"}]
    return body


def item(item_id: str, offering: str, where: Doc | None = None, **extra: Any) -> Doc:
    doc: Doc = {"id": item_id, "action": "add", "productOffering": {"id": offering}, **extra}
    if where is not None:
        doc.setdefault("product", {})["place"] = [where]
    return doc


def rejection_codes(doc: Doc) -> set[str]:
    """The codes of an order's rejection notes (``rejected: ... [CODE]``)."""
    return {
        m.group(1)
        for n in doc.get("note") or []
        if n.get("text", "").startswith("rejected:")
        for m in [re.search(r"\[([A-Z_]+)\]$", n["text"])]
        if m
    }


def place_order(client: TestClient, body: Doc, timeout: float = 10.0) -> Doc:
    """POST an order and wait for its end (every answer validated against TMF622)."""
    return place(client, body, timeout=timeout)


# -- one rule, both APIs -------------------------------------------------------------------


def outcome(
    client: TestClient,
    api: str,
    offering: str,
    *,
    customer: Doc | None = None,
    channel: str | None = None,
    where: Doc | None = None,
) -> tuple[bool, set[str]]:
    """(accepted, reason codes) of one add item of ``offering``, asked through ``api``
    (``"679"``: a synchronous qualification, ``"622"``: an order, waited for)."""
    if api == "679":
        doc = post_poq(client, poq_body(offering, customer=customer, channel=channel, where=where))
        assert doc["state"] == "done", doc
        found = poq_item(doc)
        assert found["state"] == "done", found
        ok = found["qualificationItemResult"] == "qualified"
        assert doc["qualificationResult"] == found["qualificationItemResult"], doc
        assert ok == (not reasons(found)), found
        return ok, reasons(found)
    doc = place_order(client, order_body(item("1", offering, where), customer=customer, channel=channel))
    if doc["state"] == "rejected":
        codes = rejection_codes(doc)
        assert codes, notes(doc)
        assert {i["state"] for i in doc["productOrderItem"]} == {"rejected"}, doc
        return False, codes
    assert doc["state"] == "completed", notes(doc)
    return True, set()


def assert_637_error(response: Any, status: int, code: str) -> Doc:
    return assert_error(response, status, code, spec=TMF637_SPEC)

"""TMF645 service qualification through HTTP: checkServiceQualification and
queryServiceQualification over the places-and-markets reference data (``POST /admin/reference``).

Most tests use the demo data set (``tmfstack.demo.reference``) and the demo service catalog
(TMF633 importJob of demo/data/service_catalog.json); a rule that needs a shape the demo lacks (a pool,
house-number ranges, a place by id) loads a small data set of its own, merged into the demo or
alone. Every answer is validated against the official TMF645 v4.0.1 file.

Demo addresses used below, as demo/reference.py builds them:

- 1010 Graben 3 (inner Wien): FTTH 1000/500 and VDSL 250/40;
- 8010 Sporgasse 3 (Graz, copper): VDSL 50/10 only (house numbers divisible by 3), Sporgasse 4: VDSL 100/40;
- 1220 Wagramer Straße 3 (fibre being built): FTTH from 2027-03-01, VDSL 100/40 now;
- any other street of 1010: the postcode's fallback, VDSL 50/10; postcode 9999: nothing.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.support.assertions import SPECS, assert_error, assert_event, assert_valid
from tests.support.chain import SERVICE_CATALOG, import_file
from tests.support.listener import Listener
from tests.support.polling import wait_until
from tests.support.sro import app, member, pool, resource_spec
from tmfstack.demo.reference import FIBRE, FIBRE_2027, reference_data

TMF645 = SPECS / "TMF645-ServiceQualification-v4.0.1.swagger.json"
ROOT = "/tmf-api/serviceQualificationManagement/v4"
CHECKS = f"{ROOT}/checkServiceQualification"
QUERIES = f"{ROOT}/queryServiceQualification"
REFERENCE = "/admin/reference"
SERVICE_SPECS = "/tmf-api/serviceCatalogManagement/v4/serviceSpecification"
SERVICES = "/tmf-api/serviceInventory/v4/service"

FTTH_INTERNET = "ss-cfs-internet-access"
VDSL_INTERNET = "ss-cfs-internet-vdsl"
FTTH_SPECS = {"ss-cfs-internet-access", "ss-cfs-home-network", "ss-cfs-iptv"}
MOBILE_SPECS = ("ss-cfs-mobile-voice", "ss-cfs-mobile-data", "ss-cfs-roaming")
FIBRE_FROM = FIBRE_2027["availableFrom"]  # 2027-03-01T00:00:00Z

Doc = dict[str, Any]


# -- helpers -------------------------------------------------------------------------------


def address(postcode: str, street: str | None = None, number: str | None = None, **extra: Any) -> Doc:
    """A GeographicAddress value as a RelatedPlaceRefOrValue (which requires ``role``)."""
    place: Doc = {"role": "installationAddress", "postcode": postcode, "@type": "GeographicAddress", **extra}
    if street is not None:
        place["streetName"] = street
    if number is not None:
        place["streetNr"] = number
    return place


GRABEN_3 = address("1010", "Graben", "3", city="Wien")
SPORGASSE_3 = address("8010", "Sporgasse", "3", city="Graz")
SPORGASSE_4 = address("8010", "Sporgasse", "4", city="Graz")
WAGRAMER_3 = address("1220", "Wagramer Straße", "3", city="Wien")
NOWHERE = address("9999", "Nirgendweg", "1", city="Nirgendwo")


def chars(**values: Any) -> list[Doc]:
    """``chars(Download_speed=500)``: underscores stand for spaces."""
    return [{"name": name.replace("_", " "), "value": value} for name, value in values.items()]


def item(
    item_id: str, spec: str | None, place: Doc | None = None, characteristics: list[Doc] | None = None, **extra: Any
) -> Doc:
    service: Doc = {"@type": "Service"}
    if spec is not None:
        service["serviceSpecification"] = {"id": spec, "@referredType": "ServiceSpecification"}
    if place is not None:
        service["place"] = [place]
    if characteristics is not None:
        service["serviceCharacteristic"] = characteristics
    service.update(extra.pop("service", {}))
    return {"id": item_id, "service": service, "@type": "CheckServiceQualificationItem", **extra}


def check(client: TestClient, *items: Doc, sync: bool = True, **extra: Any) -> Doc:
    """POST a checkServiceQualification: 200 when synchronous, else 201; a valid answer; returns it."""
    r = client.post(CHECKS, json={"instantSyncQualification": sync, "serviceQualificationItem": list(items), **extra})
    assert r.status_code == (200 if sync else 201), r.text
    doc = r.json()
    assert_valid(TMF645, "CheckServiceQualification", doc)
    return doc


def one(client: TestClient, spec: str | None, place: Doc | None = None, **extra: Any) -> Doc:
    """The single item of a synchronous check of ``spec`` at ``place``."""
    characteristics = extra.pop("characteristics", None)
    wanted = extra.pop("wanted", None)
    it = item("1", spec, place, characteristics)
    if wanted is not None:
        it["expectedServiceAvailabilityDate"] = wanted
    doc = check(client, it, **extra)
    assert doc["state"] == "done", doc
    [found] = doc["serviceQualificationItem"]
    assert found["state"] == "done"
    assert doc["qualificationResult"] == found["qualificationResult"]
    return found


def query(client: TestClient, place: Doc, spec: str | None = None, sync: bool = True, **criteria: Any) -> Doc:
    service: Doc = {"place": [place], "@type": "Service"}
    if spec is not None:
        service["serviceSpecification"] = {"id": spec}
    body = {"instantSyncQualification": sync, "searchCriteria": {"service": service, **criteria}}
    r = client.post(QUERIES, json=body)
    assert r.status_code == (200 if sync else 201), r.text
    doc = r.json()
    assert_valid(TMF645, "QueryServiceQualification", doc)
    return doc


def codes(found: Doc) -> list[str]:
    return [r["code"] for r in found.get("eligibilityUnavailabilityReason") or []]


def characteristic(service: Doc, name: str) -> Any:
    values = [c["value"] for c in service.get("serviceCharacteristic") or [] if c["name"] == name]
    assert len(values) == 1, (name, service)
    return values[0]


def proposals(found: Doc) -> list[tuple[str, str, Any]]:
    """(specification id, access technology, download speed) of each alternate proposal."""
    out = []
    for p in found.get("alternateServiceProposal") or []:
        service = p["alternateService"]
        out.append(
            (
                service["serviceSpecification"]["id"],
                characteristic(service, "Access technology"),
                characteristic(service, "Download speed"),
            )
        )
    return out


def offered(doc: Doc) -> dict[str, Doc]:
    """A query's answer by specification id."""
    return {i["service"]["serviceSpecification"]["id"]: i for i in doc["serviceQualificationItem"]}


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def load_reference(client: TestClient, data: Any) -> Doc:
    r = client.post(REFERENCE, json=data)
    assert r.status_code == 200, r.text
    return r.json()


def wait_done(client: TestClient, url: str, entity: str, timeout: float = 10.0) -> Doc:
    def read() -> Doc:
        r = client.get(url)
        assert r.status_code == 200, r.text
        doc = r.json()
        assert_valid(TMF645, entity, doc)
        assert doc["state"] in ("accepted", "inProgress", "done", "terminatedWithError"), doc
        return doc

    return wait_until(read, lambda doc: doc["state"] in ("done", "terminatedWithError"), timeout, f"{url} done")


def load_catalog(client: TestClient) -> None:
    import_file(client, SERVICE_CATALOG, "service_catalog.json")


@pytest.fixture
def demo(client: TestClient) -> TestClient:
    """The demo service catalog and the demo reference data."""
    load_catalog(client)
    summary = load_reference(client, reference_data())
    assert summary["technologies"] == 2 and summary["regions"] == 10
    return client


# -- qualified and unqualified, one rule at a time -----------------------------------------


def test_a_covered_address_qualifies_and_is_answered_at_once(demo: TestClient) -> None:
    r = demo.post(
        CHECKS,
        json={"instantSyncQualification": True, "serviceQualificationItem": [item("1", FTTH_INTERNET, GRABEN_3)]},
    )
    assert r.status_code == 200, r.text
    doc = r.json()
    assert_valid(TMF645, "CheckServiceQualification", doc)
    assert doc["state"] == "done" and doc["qualificationResult"] == "qualified"
    [found] = doc["serviceQualificationItem"]
    assert found["qualificationResult"] == "qualified" and found["state"] == "done"
    assert "eligibilityUnavailabilityReason" not in found and "alternateServiceProposal" not in found
    # available now: the answer's own moment
    assert found["expectedServiceAvailabilityDate"] == doc["effectiveQualificationDate"]
    assert found["expirationDate"] == doc["expirationDate"]
    assert when(doc["expirationDate"]) - when(doc["effectiveQualificationDate"]) == timedelta(hours=24)
    stored = demo.get(f"{CHECKS}/{doc['id']}")
    assert stored.status_code == 200 and stored.json() == doc


def test_a_service_that_depends_on_the_place_needs_one(demo: TestClient) -> None:
    doc = check(demo, item("1", FTTH_INTERNET), item("2", "ss-cfs-mobile-voice"), provideAlternative=True)
    first, second = doc["serviceQualificationItem"]
    assert first["qualificationResult"] == "unqualified"
    assert codes(first) == ["PLACE_MISSING"]
    assert "alternateServiceProposal" not in first
    assert second["qualificationResult"] == "qualified"  # mobile voice does not depend on the place
    assert doc["qualificationResult"] == "unqualified"


@pytest.mark.parametrize("spec", MOBILE_SPECS)
@pytest.mark.parametrize(
    "where", [NOWHERE, SPORGASSE_3, {"id": "AT-9", "role": "home"}], ids=["9999", "graz", "region"]
)
def test_a_place_independent_service_qualifies_anywhere(demo: TestClient, spec: str, where: Doc) -> None:
    found = one(demo, spec, where)
    assert found["qualificationResult"] == "qualified", found
    assert codes(found) == []


def test_an_address_without_coverage_information_is_not_covered(demo: TestClient) -> None:
    found = one(demo, VDSL_INTERNET, NOWHERE, provideAlternative=True)
    assert found["qualificationResult"] == "unqualified"  # nothing to propose where nothing is known
    assert codes(found) == ["ADDRESS_NOT_COVERED"]
    assert "Nirgendweg" in found["eligibilityUnavailabilityReason"][0]["label"]
    assert "alternateServiceProposal" not in found
    # a region is no address, even when the data set knows it
    assert codes(one(demo, VDSL_INTERNET, {"id": "AT-9", "role": "installationAddress"})) == ["ADDRESS_NOT_COVERED"]


def test_an_unknown_street_falls_back_to_its_postcode(demo: TestClient) -> None:
    somewhere = address("1010", "Schwertgasse", "2")
    assert one(demo, VDSL_INTERNET, somewhere)["qualificationResult"] == "qualified"
    # the postcode's fallback is 50 Mbit/s VDSL: no fibre, and not 100 Mbit/s
    assert codes(one(demo, FTTH_INTERNET, somewhere)) == ["TECHNOLOGY_NOT_AVAILABLE"]
    too_fast = one(demo, VDSL_INTERNET, somewhere, characteristics=chars(Download_speed=100))
    assert codes(too_fast) == ["SPEED_NOT_AVAILABLE"]
    # a house number outside the street's covered numbers falls back the same way
    assert codes(one(demo, FTTH_INTERNET, address("1010", "Graben", "13"))) == ["TECHNOLOGY_NOT_AVAILABLE"]
    assert one(demo, FTTH_INTERNET, address("1010", "Graben", "12"))["qualificationResult"] == "qualified"


def test_vdsl_is_proposed_where_there_is_no_fibre(demo: TestClient) -> None:
    plain = one(demo, FTTH_INTERNET, SPORGASSE_3)
    assert plain["qualificationResult"] == "unqualified"
    assert codes(plain) == ["TECHNOLOGY_NOT_AVAILABLE"]
    assert "FTTH" in plain["eligibilityUnavailabilityReason"][0]["label"]
    assert proposals(plain) == []

    found = one(demo, FTTH_INTERNET, SPORGASSE_3, provideAlternative=True)
    assert found["qualificationResult"] == "alternate"
    assert codes(found) == ["TECHNOLOGY_NOT_AVAILABLE"]
    assert proposals(found) == [(VDSL_INTERNET, "VDSL", 50)]  # Sporgasse 3 gets 50 Mbit/s (3 % 3 == 0)
    [proposal] = found["alternateServiceProposal"]
    service = proposal["alternateService"]
    assert service["serviceSpecification"]["name"] == "Internet access (VDSL2)"  # resolved from the catalog
    assert characteristic(service, "Upload speed") == 10
    assert proposal["alternateServiceAvailabilityDate"] == found["expectedServiceAvailabilityDate"]

    assert one(demo, VDSL_INTERNET, SPORGASSE_3)["qualificationResult"] == "qualified"
    assert proposals(one(demo, FTTH_INTERNET, SPORGASSE_4, provideAlternative=True)) == [(VDSL_INTERNET, "VDSL", 100)]


def test_a_speed_too_high_proposes_the_same_service_at_the_speed_the_place_gets(demo: TestClient) -> None:
    assert one(demo, FTTH_INTERNET, GRABEN_3, characteristics=chars(Download_speed=1000))["qualificationResult"] == (
        "qualified"
    )
    as_text = one(demo, FTTH_INTERNET, GRABEN_3, characteristics=chars(Download_speed="500 Mbit/s"))
    assert as_text["qualificationResult"] == "qualified"

    found = one(demo, FTTH_INTERNET, GRABEN_3, characteristics=chars(Download_speed=2000), provideAlternative=True)
    assert found["qualificationResult"] == "alternate"
    assert codes(found) == ["SPEED_NOT_AVAILABLE"]
    assert "1000" in found["eligibilityUnavailabilityReason"][0]["label"]
    # first the same service at 1000 Mbit/s, then VDSL (same family) at the place's 250
    assert proposals(found) == [(FTTH_INTERNET, "FTTH", 1000), (VDSL_INTERNET, "VDSL", 250)]

    upload = one(demo, FTTH_INTERNET, GRABEN_3, characteristics=chars(Upload_speed=600))
    assert upload["qualificationResult"] == "unqualified"
    assert codes(upload) == ["SPEED_NOT_AVAILABLE"]
    assert "upload" in upload["eligibilityUnavailabilityReason"][0]["label"]

    # VDSL asked above what Sporgasse 4 gets: the same VDSL at 100, nothing else (no fibre there)
    vdsl = one(demo, VDSL_INTERNET, SPORGASSE_4, characteristics=chars(Download_speed=250), provideAlternative=True)
    assert codes(vdsl) == ["SPEED_NOT_AVAILABLE"]
    assert proposals(vdsl) == [(VDSL_INTERNET, "VDSL", 100)]


def test_fibre_being_built_gives_the_date_it_is_available(demo: TestClient) -> None:
    found = one(demo, FTTH_INTERNET, WAGRAMER_3)
    assert found["qualificationResult"] == "unqualified"
    assert codes(found) == ["NOT_YET_AVAILABLE"]
    assert when(found["expectedServiceAvailabilityDate"]) == when(FIBRE_FROM)
    assert FIBRE_FROM[:10] in found["eligibilityUnavailabilityReason"][0]["label"]

    with_alternative = one(demo, FTTH_INTERNET, WAGRAMER_3, provideAlternative=True)
    assert with_alternative["qualificationResult"] == "alternate"
    assert proposals(with_alternative) == [(VDSL_INTERNET, "VDSL", 100)]
    [proposal] = with_alternative["alternateServiceProposal"]
    assert when(proposal["alternateServiceAvailabilityDate"]) < when(FIBRE_FROM)  # VDSL now

    # asked for after the date: qualified, available from the date
    later = one(demo, FTTH_INTERNET, WAGRAMER_3, wanted="2027-04-01T00:00:00Z")
    assert later["qualificationResult"] == "qualified", later
    assert when(later["expectedServiceAvailabilityDate"]) == when(FIBRE_FROM)
    # "Str." spells the same street
    abbreviated = one(demo, FTTH_INTERNET, address("1220", "Wagramer Str.", "3"))
    assert codes(abbreviated) == ["NOT_YET_AVAILABLE"]


def test_vdsl_asked_where_fibre_comes_later_proposes_fibre_with_its_date(client: TestClient) -> None:
    load_catalog(client)
    data = reference_data()
    data["areas"] = [
        {"postcode": "1220", "street": "Neuweg", "from": 1, "to": 9, "technologies": [FIBRE_2027]},
    ]
    load_reference(client, data)
    found = one(client, VDSL_INTERNET, address("1220", "Neuweg", "4"), provideAlternative=True)
    assert codes(found) == ["TECHNOLOGY_NOT_AVAILABLE"]
    assert found["qualificationResult"] == "alternate"
    assert {p[0] for p in proposals(found)} == FTTH_SPECS
    for proposal in found["alternateServiceProposal"]:
        assert when(proposal["alternateServiceAvailabilityDate"]) == when(FIBRE_FROM)


def test_an_area_without_free_ports_has_no_capacity_until_its_date(demo: TestClient) -> None:
    spec = resource_spec(demo, "exchange port 1010-5")
    exchange, members = pool(demo, spec, 0)
    assert members == []
    next_date = "2027-01-15T00:00:00Z"
    area = {
        "postcode": "1010",
        "street": "Graben",
        "streetNr": "5",
        "region": "AT-9",
        "technologies": [FIBRE],
        "resourcePool": exchange["id"],
        "nextCapacityDate": next_date,
    }
    load_reference(demo, {"areas": [area]})  # replaces the demo's Graben 5

    found = one(demo, FTTH_INTERNET, address("1010", "Graben", "5"), provideAlternative=True)
    assert found["qualificationResult"] == "unqualified"  # only fibre there, and no port
    assert codes(found) == ["NO_CAPACITY"]
    assert exchange["id"] in found["eligibilityUnavailabilityReason"][0]["label"]
    assert when(found["expectedServiceAvailabilityDate"]) == when(next_date)
    assert offered(query(demo, address("1010", "Graben", "5"))) == {}

    # a free port makes it qualify; a port of another specification would not
    other_spec = resource_spec(demo, "unrelated")
    member(demo, other_spec, "unrelated-1")
    assert codes(one(demo, FTTH_INTERNET, address("1010", "Graben", "5"))) == ["NO_CAPACITY"]
    member(demo, spec, "port-1")
    assert one(demo, FTTH_INTERNET, address("1010", "Graben", "5"))["qualificationResult"] == "qualified"
    assert set(offered(query(demo, address("1010", "Graben", "5")))) == FTTH_SPECS
    # the neighbour (the demo's Graben 4) does not use that pool
    assert one(demo, FTTH_INTERNET, address("1010", "Graben", "4"))["qualificationResult"] == "qualified"


def test_without_capacity_and_without_a_date_no_date_is_promised(demo: TestClient) -> None:
    spec = resource_spec(demo, "exchange port 1010-6")
    exchange, _ = pool(demo, spec, 0)
    area = {
        "postcode": "1010",
        "street": "Graben",
        "streetNr": "6",
        "technologies": [FIBRE],
        "resourcePool": exchange["id"],
    }
    load_reference(demo, {"areas": [area]})
    found = check(demo, item("1", FTTH_INTERNET, address("1010", "Graben", "6")))
    [answer] = found["serviceQualificationItem"]
    assert codes(answer) == ["NO_CAPACITY"]
    assert "expected" not in answer["eligibilityUnavailabilityReason"][0]["label"]
    assert answer["expectedServiceAvailabilityDate"] == found["effectiveQualificationDate"]


def test_capacity_expected_before_the_technology_is_built_does_not_advance_the_date(demo: TestClient) -> None:
    spec = resource_spec(demo, "exchange port 1220-3")
    exchange, _ = pool(demo, spec, 0)
    area = {
        "postcode": "1220",
        "street": "Wagramer Straße",
        "streetNr": "3",
        "region": "AT-9",
        "technologies": [FIBRE_2027],  # fibre from 2027-03-01
        "resourcePool": exchange["id"],
        "nextCapacityDate": "2027-01-15T00:00:00Z",  # ports earlier than the fibre
    }
    load_reference(demo, {"areas": [area]})
    found = one(demo, FTTH_INTERNET, WAGRAMER_3)
    assert set(codes(found)) == {"NOT_YET_AVAILABLE", "NO_CAPACITY"}
    assert when(found["expectedServiceAvailabilityDate"]) >= when(FIBRE_FROM), found


def test_an_available_from_that_is_no_date_time_is_refused_or_answered_as_one(client: TestClient) -> None:
    load_catalog(client)
    data = {
        "technologies": [{"id": "FTTH", "serviceSpecification": [FTTH_INTERNET]}],
        "areas": [{"postcode": "3500", "technologies": [{"id": "FTTH", "availableFrom": "2027-05-01"}]}],
    }
    r = client.post(REFERENCE, json=data)
    if r.status_code == 400:  # refusing it is one right answer
        assert_error(r, 400, "INVALID_REFERENCE_DATA", spec=TMF645)
        return
    assert r.status_code == 200, r.text
    body = {
        "instantSyncQualification": True,
        "serviceQualificationItem": [item("1", FTTH_INTERNET, address("3500"))],
    }
    r = client.post(CHECKS, json=body)
    assert r.status_code == 200, r.text
    assert_valid(TMF645, "CheckServiceQualification", r.json())  # answering a date-time is the other


def test_an_unknown_or_retired_specification_does_not_qualify(demo: TestClient) -> None:
    assert codes(one(demo, "ss-no-such-thing", GRABEN_3)) == ["SERVICE_SPECIFICATION_NOT_FOUND"]
    r = demo.post(
        SERVICE_SPECS,
        json={"name": "ISDN", "lifecycleStatus": "retired", "@type": "CustomerFacingServiceSpecification"},
    )
    assert r.status_code == 201, r.text
    retired = r.json()
    found = one(demo, retired["id"], GRABEN_3, provideAlternative=True)
    assert found["qualificationResult"] == "unqualified"
    assert codes(found) == ["SPECIFICATION_RETIRED"]
    assert "ISDN" in found["eligibilityUnavailabilityReason"][0]["label"]
    r = demo.post(SERVICE_SPECS, json={"name": "Voicemail", "@type": "CustomerFacingServiceSpecification"})
    assert r.status_code == 201, r.text
    assert one(demo, r.json()["id"], GRABEN_3)["qualificationResult"] == "qualified"  # no technology: anywhere


def test_an_existing_service_is_checked_at_its_own_place(demo: TestClient) -> None:
    def service_at(place: Doc) -> str:
        body = {"name": "line", "state": "active", "serviceSpecification": {"id": FTTH_INTERNET}, "place": [place]}
        r = demo.post(SERVICES, json=body)
        assert r.status_code == 201, r.text
        return r.json()["id"]

    in_wien, in_graz = service_at(GRABEN_3), service_at(SPORGASSE_3)
    doc = check(
        demo,
        item("1", None, service={"id": in_wien}),
        item("2", None, service={"id": in_graz}),
        item("3", None, service={"id": "svc-no-such-thing"}),
        item("4", None, SPORGASSE_3, service={"id": in_wien}),  # the item's place wins
    )
    results = [(i["qualificationResult"], codes(i)) for i in doc["serviceQualificationItem"]]
    assert results == [
        ("qualified", []),
        ("unqualified", ["TECHNOLOGY_NOT_AVAILABLE"]),
        ("unqualified", ["SERVICE_NOT_FOUND"]),
        ("unqualified", ["TECHNOLOGY_NOT_AVAILABLE"]),
    ]


def test_reasons_are_left_out_when_not_wanted(demo: TestClient) -> None:
    found = one(demo, FTTH_INTERNET, SPORGASSE_3, provideUnavailabilityReason=False)
    assert found["qualificationResult"] == "unqualified"
    assert "eligibilityUnavailabilityReason" not in found
    with_alternative = one(demo, FTTH_INTERNET, SPORGASSE_3, provideUnavailabilityReason=False, provideAlternative=True)
    assert with_alternative["qualificationResult"] == "alternate"
    assert "eligibilityUnavailabilityReason" not in with_alternative
    assert proposals(with_alternative) == [(VDSL_INTERNET, "VDSL", 50)]
    # by default (the attribute absent) reasons are given
    assert codes(one(demo, FTTH_INTERNET, SPORGASSE_3)) == ["TECHNOLOGY_NOT_AVAILABLE"]


def test_without_alternatives_asked_an_item_is_unqualified(demo: TestClient) -> None:
    for spec, place, extra in (
        (FTTH_INTERNET, SPORGASSE_3, {}),
        (FTTH_INTERNET, WAGRAMER_3, {}),
        (FTTH_INTERNET, GRABEN_3, {"characteristics": chars(Download_speed=2000)}),
    ):
        found = one(demo, spec, place, provideAlternative=False, **extra)
        assert found["qualificationResult"] == "unqualified", found
        assert "alternateServiceProposal" not in found


def test_the_overall_result_follows_the_items(demo: TestClient) -> None:
    qualified = item("1", FTTH_INTERNET, GRABEN_3)
    alternate = item("2", FTTH_INTERNET, SPORGASSE_3)
    unqualified = item("3", FTTH_INTERNET, NOWHERE)
    assert check(demo, qualified, provideAlternative=True)["qualificationResult"] == "qualified"
    assert check(demo, qualified, alternate, provideAlternative=True)["qualificationResult"] == "alternate"
    mixed = check(demo, qualified, alternate, unqualified, provideAlternative=True)
    assert [i["qualificationResult"] for i in mixed["serviceQualificationItem"]] == [
        "qualified",
        "alternate",
        "unqualified",
    ]
    assert mixed["qualificationResult"] == "unqualified"


# -- places: streets, house numbers, ids ---------------------------------------------------


def test_street_spellings_house_number_ranges_and_places_by_id(client: TestClient) -> None:
    load_catalog(client)
    load_reference(
        client,
        {
            "regions": [{"id": "AT"}, {"id": "AT-4", "parent": "AT"}],
            "technologies": [
                {"id": "FTTH", "family": "fixed", "serviceSpecification": [FTTH_INTERNET]},
                {"id": "VDSL", "family": "fixed", "serviceSpecification": [VDSL_INTERNET]},
            ],
            "areas": [
                {"postcode": "4020", "street": "Hauptstraße", "from": 1, "to": 99, "region": "AT-4",
                 "technologies": [{"id": "FTTH", "maxDownloadSpeed": 1000}]},
                {"postcode": "4020", "street": "Hauptstraße", "from": 40, "to": 49, "region": "AT-4",
                 "technologies": [{"id": "VDSL", "maxDownloadSpeed": 100}]},
                {"id": "site-7", "region": "AT-4", "technologies": [{"id": "VDSL", "maxDownloadSpeed": 250}]},
                {"postcode": "4020", "street": "Wiener Str.", "region": "AT-4",
                 "technologies": [{"id": "VDSL", "maxDownloadSpeed": 100}]},
            ],
        },
    )  # fmt: skip
    for spelling in ("Hauptstraße", "Hauptstrasse", "Hauptstr.", "HAUPTSTRASSE", "hauptstr"):
        assert one(client, FTTH_INTERNET, address("4020", spelling, "7"))["qualificationResult"] == "qualified", (
            spelling
        )
    # v5 spelling of the attributes, a house number with a letter, and streetName + streetType
    v5 = {"role": "installationAddress", "postCode": "4020", "street": "Hauptstraße", "streetNr": "12a"}
    assert one(client, FTTH_INTERNET, v5)["qualificationResult"] == "qualified"
    typed = address("4020", "Wiener", "7", streetType="Straße")  # loaded as "Wiener Str."
    assert one(client, VDSL_INTERNET, typed)["qualificationResult"] == "qualified"
    assert codes(one(client, FTTH_INTERNET, typed)) == ["TECHNOLOGY_NOT_AVAILABLE"]
    # the narrowest range holds: 40-49 has VDSL only
    assert codes(one(client, FTTH_INTERNET, address("4020", "Hauptstraße", "45"))) == ["TECHNOLOGY_NOT_AVAILABLE"]
    assert one(client, VDSL_INTERNET, address("4020", "Hauptstraße", "45"))["qualificationResult"] == "qualified"
    assert one(client, FTTH_INTERNET, address("4020", "Hauptstraße", "50"))["qualificationResult"] == "qualified"
    # outside every range, and no postcode-wide area: not covered
    assert codes(one(client, FTTH_INTERNET, address("4020", "Hauptstraße", "100"))) == ["ADDRESS_NOT_COVERED"]
    assert codes(one(client, FTTH_INTERNET, address("4020", "Nebenstraße", "7"))) == ["ADDRESS_NOT_COVERED"]
    # a place by the id of an area
    site = {"id": "site-7", "role": "installationAddress", "@referredType": "GeographicSite"}
    assert one(client, VDSL_INTERNET, site)["qualificationResult"] == "qualified"
    assert codes(one(client, FTTH_INTERNET, site)) == ["TECHNOLOGY_NOT_AVAILABLE"]
    assert codes(one(client, VDSL_INTERNET, {"id": "site-8", "role": "x"})) == ["ADDRESS_NOT_COVERED"]


# -- synchronous and asynchronous ----------------------------------------------------------


def test_the_asynchronous_check_is_answered_by_a_task(demo: TestClient) -> None:
    body = {
        "serviceQualificationItem": [item("1", FTTH_INTERNET, GRABEN_3), item("2", FTTH_INTERNET, SPORGASSE_3)],
        "provideAlternative": True,
        "description": "two lines",
    }
    r = demo.post(CHECKS, json=body)
    assert r.status_code == 201, r.text
    doc = r.json()
    assert_valid(TMF645, "CheckServiceQualification", doc)
    assert r.headers["location"] == doc["href"]
    assert doc["state"] == "accepted"
    assert "qualificationResult" not in doc
    assert [i["state"] for i in doc["serviceQualificationItem"]] == ["accepted", "accepted"]
    assert all("qualificationResult" not in i for i in doc["serviceQualificationItem"])

    done = wait_done(demo, f"{CHECKS}/{doc['id']}", "CheckServiceQualification")
    assert done["state"] == "done"
    assert [(i["state"], i["qualificationResult"]) for i in done["serviceQualificationItem"]] == [
        ("done", "qualified"),
        ("done", "alternate"),
    ]
    assert proposals(done["serviceQualificationItem"][1]) == [(VDSL_INTERNET, "VDSL", 50)]
    assert done["qualificationResult"] == "alternate"
    assert done["description"] == "two lines"
    assert done["checkServiceQualificationDate"] == doc["checkServiceQualificationDate"]
    assert when(done["effectiveQualificationDate"]) >= when(doc["checkServiceQualificationDate"])


def test_the_asynchronous_query_is_answered_by_a_task(demo: TestClient) -> None:
    doc = query(demo, SPORGASSE_4, sync=False)
    assert doc["state"] == "accepted"
    assert not doc.get("serviceQualificationItem")
    done = wait_done(demo, f"{QUERIES}/{doc['id']}", "QueryServiceQualification")
    assert done["state"] == "done"
    assert set(offered(done)) == {VDSL_INTERNET}


def test_without_reference_data_a_qualification_ends_in_error(client: TestClient) -> None:
    load_catalog(client)
    r = client.get(REFERENCE)
    assert r.status_code == 200 and r.json()["loaded"] is False
    sync = check(client, item("1", FTTH_INTERNET, GRABEN_3))
    assert sync["state"] == "terminatedWithError"
    assert "qualificationResult" not in sync
    [found] = sync["serviceQualificationItem"]
    assert found["state"] == "terminatedWithError" and "qualificationResult" not in found
    assert "/admin/reference" in found["terminationError"][0]["value"]

    later = check(client, item("1", "ss-cfs-mobile-voice"), sync=False)  # even what does not need a place
    assert later["state"] == "accepted"
    done = wait_done(client, f"{CHECKS}/{later['id']}", "CheckServiceQualification")
    assert done["state"] == "terminatedWithError"
    assert done["serviceQualificationItem"][0]["state"] == "terminatedWithError"

    asked = query(client, GRABEN_3)
    assert asked["state"] == "terminatedWithError"
    assert not asked.get("serviceQualificationItem")

    # once data is loaded, the same question is answered
    load_reference(client, reference_data())
    assert check(client, item("1", FTTH_INTERNET, GRABEN_3))["qualificationResult"] == "qualified"


# -- query ---------------------------------------------------------------------------------


def test_query_answers_what_an_address_gets(demo: TestClient) -> None:
    doc = query(demo, GRABEN_3)
    assert doc["state"] == "done"
    found = offered(doc)
    assert set(found) == FTTH_SPECS | {VDSL_INTERNET}
    for spec in FTTH_SPECS:
        service = found[spec]["service"]
        assert characteristic(service, "Access technology") == "FTTH"
        assert characteristic(service, "Download speed") == 1000
        assert characteristic(service, "Upload speed") == 500
    vdsl = found[VDSL_INTERNET]["service"]
    assert (characteristic(vdsl, "Access technology"), characteristic(vdsl, "Download speed")) == ("VDSL", 250)
    assert vdsl["serviceSpecification"]["name"] == "Internet access (VDSL2)"
    assert vdsl["place"] == [GRABEN_3]
    assert sorted(i["id"] for i in doc["serviceQualificationItem"]) == ["1", "2", "3", "4"]
    for entry in doc["serviceQualificationItem"]:
        assert entry["expectedServiceAvailabilityDate"] == doc["effectiveQualificationDate"]  # all available now
        assert entry["expirationDate"] == doc["expirationDate"]

    copper = offered(query(demo, SPORGASSE_3))
    assert set(copper) == {VDSL_INTERNET}
    assert characteristic(copper[VDSL_INTERNET]["service"], "Download speed") == 50


def test_query_filters_by_specification(demo: TestClient) -> None:
    only = query(demo, GRABEN_3, spec=VDSL_INTERNET)
    assert [i["service"]["serviceSpecification"]["id"] for i in only["serviceQualificationItem"]] == [VDSL_INTERNET]
    assert offered(query(demo, SPORGASSE_3, spec=FTTH_INTERNET)) == {}
    assert set(offered(query(demo, GRABEN_3, spec=FTTH_INTERNET))) == {FTTH_INTERNET}


def test_query_at_an_unknown_address_is_empty(demo: TestClient) -> None:
    doc = query(demo, NOWHERE)
    assert doc["state"] == "done"
    assert doc["serviceQualificationItem"] == []


def test_query_gives_fibre_being_built_with_its_date(demo: TestClient) -> None:
    found = offered(query(demo, WAGRAMER_3))
    assert set(found) == FTTH_SPECS | {VDSL_INTERNET}
    for spec in FTTH_SPECS:
        assert when(found[spec]["expectedServiceAvailabilityDate"]) == when(FIBRE_FROM)
    assert when(found[VDSL_INTERNET]["expectedServiceAvailabilityDate"]) < when(FIBRE_FROM)


def test_query_for_a_later_date_still_gives_the_date_fibre_is_built(demo: TestClient) -> None:
    found = offered(query(demo, WAGRAMER_3, expectedServiceAvailabilityDate="2027-06-01T00:00:00Z"))
    assert set(found) == FTTH_SPECS | {VDSL_INTERNET}
    for spec in FTTH_SPECS:
        # the check says "qualified, available from 2027-03-01" for the same question
        assert when(found[spec]["expectedServiceAvailabilityDate"]) >= when(FIBRE_FROM), found[spec]


def test_query_leaves_out_retired_specifications(client: TestClient) -> None:
    load_catalog(client)
    r = client.post(
        SERVICE_SPECS,
        json={"name": "ADSL", "lifecycleStatus": "retired", "@type": "CustomerFacingServiceSpecification"},
    )
    assert r.status_code == 201, r.text
    adsl = r.json()["id"]
    data = reference_data()
    data["technologies"] = [
        {**t, "serviceSpecification": [*t["serviceSpecification"], adsl]} if t["id"] == "VDSL" else t
        for t in data["technologies"]
    ]
    load_reference(client, data)
    assert set(offered(query(client, SPORGASSE_3))) == {VDSL_INTERNET}
    assert codes(one(client, adsl, SPORGASSE_3)) == ["SPECIFICATION_RETIRED"]


# -- the reference data --------------------------------------------------------------------


def test_the_reference_header_can_be_read(demo: TestClient) -> None:
    r = demo.get(REFERENCE)
    assert r.status_code == 200, r.text
    header = r.json()
    assert header["loaded"] is True
    assert {t["id"] for t in header["technologies"]} == {"FTTH", "VDSL"}
    regions = {r["id"]: r for r in header["regions"]}
    assert regions["AT-4-LINZ"]["parent"] == "AT-4"
    assert {s["id"] for s in header["marketSegments"]} == {"residential", "youth", "business", "enterprise"}
    assert header["speedCharacteristics"] == {"download": "Download speed", "upload": "Upload speed"}
    assert "areas" not in header


def test_the_summary_counts_what_was_loaded(client: TestClient) -> None:
    data = reference_data()
    summary = load_reference(client, data)
    streets = {(a["postcode"], a["street"]) for a in data["areas"] if a.get("street")}
    assert summary == {
        "regions": 10,
        "marketSegments": 4,
        "technologies": 2,
        "areasLoaded": len(data["areas"]),
        "streets": len(streets),
        "postcodes": len({a["postcode"] for a in data["areas"] if not a.get("street")}),
    }
    assert summary["streets"] == 27 and summary["postcodes"] == 7


_TECH = [{"id": "FTTH", "serviceSpecification": [FTTH_INTERNET]}]


def _offers(*offers: Doc) -> Doc:
    """A data set with one technology and one postcode area offering ``offers``."""
    return {"technologies": _TECH, "areas": [{"postcode": "1010", "technologies": list(offers)}]}


@pytest.mark.parametrize(
    "data, words",
    [
        ([], "JSON object"),
        ({"zones": []}, "unknown sections"),
        ({"regions": {"id": "AT"}}, "regions must be a list"),
        ({"regions": [{"name": "no id"}]}, "needs an id"),
        ({"regions": [{"id": "AT-9", "parent": "AT"}]}, "unknown parent"),
        ({"marketSegments": [{"id": "youth", "parent": "residential"}]}, "unknown parent"),
        ({"technologies": [{"id": "FTTH", "serviceSpecification": FTTH_INTERNET}]}, "list of ids"),
        (_offers({"id": "G.fast"}), "unknown technology"),
        ({"areas": [{"id": "a1", "street": "Graben", "streetNr": "1"}]}, "street needs its postcode"),
        ({"areas": [{"street": "Graben"}]}, "needs a postcode"),
        ({"areas": [{"postcode": "1010", "region": "AT-9"}]}, "unknown region"),
        ({"areas": {"postcode": "1010"}}, "areas must be a list"),
        (_offers({"id": "FTTH", "maxDownloadSpeed": "fast"}), "must be a number"),
        (_offers({"id": "FTTH", "maxUploadSpeed": True}), "must be a number"),
        ({"areas": [{"postcode": "1010", "technologies": {"id": "FTTH"}}]}, "technologies must be a list"),
        ({"areas": [{"postcode": "1010", "street": "Graben", "streetNr": "A"}]}, "has no number"),
        ({"areas": [{"postcode": "1010", "street": "Graben", "from": "1", "to": 9}]}, "house number"),
        ({"areas": [{"postcode": "1010", "street": "Graben", "to": 9}]}, "'to' needs 'from'"),
    ],
)  # fmt: skip
def test_invalid_reference_data_is_refused_and_nothing_is_stored(client: TestClient, data: Any, words: str) -> None:
    body = assert_error(client.post(REFERENCE, json=data), 400, "INVALID_REFERENCE_DATA", spec=TMF645)
    assert words in body["message"], body
    header = client.get(REFERENCE).json()
    assert header["loaded"] is False and header["technologies"] == [] and header["regions"] == []


def test_a_body_that_is_not_json_is_refused(client: TestClient) -> None:
    r = client.post(REFERENCE, content=b"{not json", headers={"content-type": "application/json"})
    assert_error(r, 400, "INVALID_BODY", spec=TMF645)


def test_a_data_set_is_loaded_all_or_nothing(demo: TestClient) -> None:
    bad = {
        "regions": [{"id": "AT-3", "name": "Niederösterreich", "parent": "AT"}],
        "areas": [
            {"postcode": "1010", "street": "Graben", "streetNr": "3", "technologies": [{"id": "VDSL"}]},
            {"postcode": "1010", "street": "Graben", "streetNr": "4", "technologies": [{"id": "G.fast"}]},
        ],
    }
    assert_error(demo.post(REFERENCE, json=bad), 400, "INVALID_REFERENCE_DATA", spec=TMF645)
    assert "AT-3" not in {r["id"] for r in demo.get(REFERENCE).json()["regions"]}
    assert one(demo, FTTH_INTERNET, GRABEN_3)["qualificationResult"] == "qualified"  # Graben 3 kept its fibre


def test_a_data_set_merges_into_the_stored_one(demo: TestClient) -> None:
    # new entries whose parents are only in the stored data
    summary = load_reference(
        demo,
        {
            "regions": [{"id": "AT-3", "name": "Niederösterreich", "parent": "AT"}],
            "marketSegments": [{"id": "student", "parent": "youth"}],
            "areas": [{"postcode": "3100", "street": "Kremser Gasse", "from": 1, "to": 30, "region": "AT-3",
                       "technologies": [{"id": "VDSL", "maxDownloadSpeed": 100}]}],
        },
    )  # fmt: skip
    assert summary["regions"] == 11 and summary["marketSegments"] == 5 and summary["technologies"] == 2
    header = demo.get(REFERENCE).json()
    assert {"AT-3", "AT-9", "DE-BY"} <= {r["id"] for r in header["regions"]}
    assert one(demo, VDSL_INTERNET, address("3100", "Kremser Gasse", "17"))["qualificationResult"] == "qualified"
    assert one(demo, FTTH_INTERNET, GRABEN_3)["qualificationResult"] == "qualified"  # the demo is still there


def test_loading_an_area_again_replaces_it(demo: TestClient) -> None:
    assert one(demo, FTTH_INTERNET, GRABEN_3)["qualificationResult"] == "qualified"
    again = {"postcode": "1010", "street": "Graben", "streetNr": "3", "region": "AT-9",
             "technologies": [{"id": "VDSL", "maxDownloadSpeed": 100, "maxUploadSpeed": 40}]}  # fmt: skip
    load_reference(demo, {"areas": [again]})
    assert codes(one(demo, FTTH_INTERNET, GRABEN_3)) == ["TECHNOLOGY_NOT_AVAILABLE"]
    assert set(offered(query(demo, GRABEN_3))) == {VDSL_INTERNET}
    assert characteristic(offered(query(demo, GRABEN_3))[VDSL_INTERNET]["service"], "Download speed") == 100
    # the neighbours are untouched
    assert one(demo, FTTH_INTERNET, address("1010", "Graben", "2"))["qualificationResult"] == "qualified"
    # a postcode-wide area is replaced too: 1010's fallback becomes fibre
    load_reference(demo, {"areas": [{"postcode": "1010", "region": "AT-9", "technologies": [FIBRE]}]})
    assert one(demo, FTTH_INTERNET, address("1010", "Schwertgasse", "2"))["qualificationResult"] == "qualified"
    # a technology loaded again replaces its definition (its specifications)
    load_reference(
        demo, {"technologies": [{"id": "VDSL", "family": "fixed broadband", "serviceSpecification": ["ss-cfs-iptv"]}]}
    )
    assert codes(one(demo, VDSL_INTERNET, SPORGASSE_3)) == []  # no technology delivers it now: anywhere
    assert one(demo, "ss-cfs-iptv", SPORGASSE_3)["qualificationResult"] == "qualified"


def test_an_area_loaded_again_by_id_replaces_it_in_its_street(demo: TestClient) -> None:
    shop = {"id": "shop-1", "postcode": "1010", "street": "Graben", "from": 20, "to": 30, "region": "AT-9",
            "technologies": [FIBRE]}  # fmt: skip
    load_reference(demo, {"areas": [shop]})
    assert one(demo, FTTH_INTERNET, address("1010", "Graben", "25"))["qualificationResult"] == "qualified"
    load_reference(demo, {"areas": [{**shop, "from": 20, "to": 22}]})  # the same area, narrower
    assert one(demo, FTTH_INTERNET, address("1010", "Graben", "21"))["qualificationResult"] == "qualified"
    assert codes(one(demo, FTTH_INTERNET, address("1010", "Graben", "25"))) == ["TECHNOLOGY_NOT_AVAILABLE"]


def test_an_area_moved_to_another_street_leaves_the_old_one(demo: TestClient) -> None:
    shop = {"id": "shop-2", "postcode": "1010", "street": "Graben", "from": 20, "to": 30, "region": "AT-9",
            "technologies": [FIBRE]}  # fmt: skip
    load_reference(demo, {"areas": [shop]})
    load_reference(demo, {"areas": [{**shop, "street": "Tuchlauben"}]})
    assert one(demo, FTTH_INTERNET, address("1010", "Tuchlauben", "25"))["qualificationResult"] == "qualified"
    # Graben 25 is no longer shop-2's: the postcode's VDSL fallback
    assert codes(one(demo, FTTH_INTERNET, address("1010", "Graben", "25"))) == ["TECHNOLOGY_NOT_AVAILABLE"]


# -- dates, validity, updates, bad requests ------------------------------------------------


def test_the_expiration_date_is_the_answer_plus_the_configured_validity(tmp_path: Path) -> None:
    with app(tmp_path, qualification_validity=5400) as client:
        load_catalog(client)
        load_reference(client, reference_data())
        doc = check(client, item("1", FTTH_INTERNET, GRABEN_3), item("2", FTTH_INTERNET, SPORGASSE_3))
        effective, expires = when(doc["effectiveQualificationDate"]), when(doc["expirationDate"])
        assert expires - effective == timedelta(seconds=5400)
        assert abs(effective - datetime.now(UTC)) < timedelta(minutes=1)
        assert {i["expirationDate"] for i in doc["serviceQualificationItem"]} == {doc["expirationDate"]}
        later = check(client, item("1", FTTH_INTERNET, GRABEN_3), sync=False)
        done = wait_done(client, f"{CHECKS}/{later['id']}", "CheckServiceQualification")
        assert when(done["expirationDate"]) - when(done["effectiveQualificationDate"]) == timedelta(seconds=5400)
        asked = query(client, GRABEN_3)
        assert when(asked["expirationDate"]) - when(asked["effectiveQualificationDate"]) == timedelta(seconds=5400)


def test_a_qualification_date_that_has_passed_is_refused(demo: TestClient) -> None:
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    body = {"instantSyncQualification": True, "expectedQualificationDate": past,
            "serviceQualificationItem": [item("1", FTTH_INTERNET, GRABEN_3)]}  # fmt: skip
    assert_error(demo.post(CHECKS, json=body), 400, "INVALID_DATE", spec=TMF645)
    assert_error(
        demo.post(CHECKS, json={**body, "expectedQualificationDate": "next Tuesday"}),
        400,
        "SCHEMA_VIOLATION",
        spec=TMF645,
    )
    criteria = {"service": {"place": [GRABEN_3]}}
    r = demo.post(QUERIES, json={"expectedQualificationDate": past, "searchCriteria": criteria})
    assert_error(r, 400, "INVALID_DATE", spec=TMF645)
    assert demo.get(CHECKS).json() == [] and demo.get(QUERIES).json() == []
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    r = demo.post(CHECKS, json={**body, "expectedQualificationDate": future})
    assert r.status_code == 200, r.text
    assert r.json()["qualificationResult"] == "qualified"


@pytest.mark.parametrize(
    "body, code",
    [
        ({"instantSyncQualification": True}, "SCHEMA_VIOLATION"),  # the v4 schema requires one item or more
        ({"instantSyncQualification": True, "serviceQualificationItem": []}, "SCHEMA_VIOLATION"),
        ({"serviceQualificationItem": [{"id": "1", "service": {"place": [GRABEN_3]}}]}, "MISSING_ATTRIBUTE"),
        ({"serviceQualificationItem": [item("1", FTTH_INTERNET), item("1", VDSL_INTERNET)]}, "DUPLICATE_ITEM_ID"),
        ({"serviceQualificationItem": [item("1", FTTH_INTERNET, qualificationResult="no")]}, "READ_ONLY_ATTRIBUTE"),
        ({"serviceQualificationItem": [item("1", FTTH_INTERNET, alternateServiceProposal=[])]}, "READ_ONLY_ATTRIBUTE"),
        ({"qualificationResult": "qualified", "serviceQualificationItem": [item("1", FTTH_INTERNET)]}, None),
        ({"state": "done", "serviceQualificationItem": [item("1", FTTH_INTERNET)]}, None),
    ],
)  # fmt: skip
def test_bad_checks_are_refused(demo: TestClient, body: Doc, code: str | None) -> None:
    assert_error(demo.post(CHECKS, json=body), 400, code, spec=TMF645)
    assert demo.get(CHECKS).json() == []


def test_a_query_needs_a_place(demo: TestClient) -> None:
    for criteria in ({}, {"service": {"serviceSpecification": {"id": FTTH_INTERNET}}}, {"service": {"place": []}}):
        assert_error(demo.post(QUERIES, json={"searchCriteria": criteria}), 400, "MISSING_ATTRIBUTE", spec=TMF645)
    assert demo.get(QUERIES).json() == []


def test_only_description_and_note_can_be_changed(demo: TestClient) -> None:
    doc = check(demo, item("1", FTTH_INTERNET, SPORGASSE_3), provideAlternative=True)
    url = f"{CHECKS}/{doc['id']}"
    for change in (
        {"qualificationResult": "qualified"},
        {"state": "inProgress"},
        {"provideAlternative": False},
        {"expirationDate": "2030-01-01T00:00:00Z"},
        {"serviceQualificationItem": [{**doc["serviceQualificationItem"][0], "qualificationResult": "qualified"}]},
        {"description": "fine", "qualificationResult": "qualified"},  # one refused attribute refuses all
    ):
        assert_error(demo.patch(url, json=change), 400, "READ_ONLY_ATTRIBUTE", spec=TMF645)
    assert demo.get(url).json() == doc

    note = [{"text": "customer asked for fibre", "author": "shop 12", "@type": "Note"}]
    r = demo.patch(url, json={"description": "Graz, Sporgasse", "note": note})
    assert r.status_code == 200, r.text
    patched = r.json()
    assert_valid(TMF645, "CheckServiceQualification", patched)
    assert patched["description"] == "Graz, Sporgasse"
    assert [n["text"] for n in patched["note"]] == ["customer asked for fibre"]
    assert patched["serviceQualificationItem"] == doc["serviceQualificationItem"]
    assert patched["qualificationResult"] == "alternate"

    asked = query(demo, GRABEN_3)
    qurl = f"{QUERIES}/{asked['id']}"
    assert_error(demo.patch(qurl, json={"serviceQualificationItem": []}), 400, "READ_ONLY_ATTRIBUTE", spec=TMF645)
    r = demo.patch(qurl, json={"description": "what Graben 3 gets"})
    assert r.status_code == 200 and r.json()["description"] == "what Graben 3 gets"


def test_lists_are_valid_and_filter(demo: TestClient) -> None:
    check(demo, item("1", FTTH_INTERNET, GRABEN_3))
    check(demo, item("1", FTTH_INTERNET, SPORGASSE_3))
    query(demo, GRABEN_3)
    r = demo.get(CHECKS)
    assert r.status_code == 200
    assert_valid(TMF645, "CheckServiceQualification", r.json())
    assert sorted(d["qualificationResult"] for d in r.json()) == ["qualified", "unqualified"]
    r = demo.get(CHECKS, params={"qualificationResult": "unqualified"})
    assert r.status_code == 200, r.text
    assert [d["serviceQualificationItem"][0]["service"]["place"][0]["streetName"] for d in r.json()] == ["Sporgasse"]
    r = demo.get(QUERIES)
    assert_valid(TMF645, "QueryServiceQualification", r.json())
    assert len(r.json()) == 1


# -- events --------------------------------------------------------------------------------


def _done_event(kind: str) -> Any:
    event, key = f"{kind}StateChangeEvent", kind[0].lower() + kind[1:]
    return lambda got: any(b["eventType"] == event and b["event"][key]["state"] == "done" for b in got)


def test_a_hub_hears_asynchronous_qualifications_being_answered(demo: TestClient) -> None:
    with Listener() as listener:
        r = demo.post(f"{ROOT}/hub", json={"callback": listener.url})
        assert r.status_code == 201, r.text
        assert_valid(TMF645, "EventSubscription", r.json())
        doc = check(demo, item("1", FTTH_INTERNET, WAGRAMER_3), sync=False, provideAlternative=True)
        done = wait_done(demo, f"{CHECKS}/{doc['id']}", "CheckServiceQualification")
        assert done["qualificationResult"] == "alternate"
        listener.wait_until(_done_event("CheckServiceQualification"))
        asked = query(demo, SPORGASSE_4, sync=False)
        listener.wait_until(_done_event("QueryServiceQualification"))
        time.sleep(0.3)  # a stray or duplicate event would arrive here
        bodies = listener.bodies
    for body in bodies:
        assert_event(TMF645, body)
    assert len({b["eventId"] for b in bodies}) == len(bodies)
    checks = [b for b in bodies if b["eventType"].startswith("CheckServiceQualification")]
    queries = [b for b in bodies if b["eventType"].startswith("QueryServiceQualification")]
    assert len(checks) + len(queries) == len(bodies)

    assert {b["event"]["checkServiceQualification"]["id"] for b in checks} == {doc["id"]}
    assert checks[0]["eventType"] == "CheckServiceQualificationCreateEvent"
    assert checks[0]["event"]["checkServiceQualification"]["state"] == "accepted"
    changes = [b["event"]["checkServiceQualification"] for b in checks if b["eventType"].endswith("StateChangeEvent")]
    assert [c["state"] for c in changes] == ["inProgress", "done"]
    assert changes[-1]["qualificationResult"] == "alternate"
    assert changes[-1]["serviceQualificationItem"][0]["qualificationResult"] == "alternate"
    assert {b["eventType"] for b in checks} <= {
        "CheckServiceQualificationCreateEvent",
        "CheckServiceQualificationStateChangeEvent",
        "CheckServiceQualificationAttributeValueChangeEvent",
    }

    assert {b["event"]["queryServiceQualification"]["id"] for b in queries} == {asked["id"]}
    assert queries[0]["eventType"] == "QueryServiceQualificationCreateEvent"
    states = [
        b["event"]["queryServiceQualification"]["state"] for b in queries if b["eventType"].endswith("StateChangeEvent")
    ]
    assert states == ["inProgress", "done"]
    [answered] = [
        b["event"]["queryServiceQualification"]
        for b in queries
        if b["eventType"].endswith("StateChangeEvent") and b["event"]["queryServiceQualification"]["state"] == "done"
    ]
    assert set(offered(answered)) == {VDSL_INTERNET}


def test_a_synchronous_check_is_heard_once(demo: TestClient) -> None:
    with Listener() as listener:
        r = demo.post(f"{ROOT}/hub", json={"callback": listener.url})
        assert r.status_code == 201, r.text
        doc = check(demo, item("1", FTTH_INTERNET, GRABEN_3))
        [body] = listener.wait_for(1)
        time.sleep(0.3)
        assert len(listener.bodies) == 1
    assert_event(TMF645, body)
    assert body["eventType"] == "CheckServiceQualificationCreateEvent"
    assert body["event"]["checkServiceQualification"]["id"] == doc["id"]
    assert body["event"]["checkServiceQualification"]["state"] == "done"

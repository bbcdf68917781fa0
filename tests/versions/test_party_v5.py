"""TMF632 and TMF669 v5 beside v4, through HTTP: each difference of ``apis/party/tmf632_v5.py`` and
``tmf669_v5.py`` both ways (v4 -> v5 read, v5 -> v4 read), filters and projections on v5 names, v5-only
attributes kept across a v4 PATCH, and the v5-only ``partyRoleSpecification`` resource."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.api.test_every_api import assert_official
from tests.support.listener import Listener
from tests.versions.support import assert_v5, assert_v5_error
from tmfstack.apis.party import tmf632, tmf632_v5, tmf669, tmf669_v5

P4, P5 = tmf632.API.root, tmf632_v5.API.root
R4, R5 = tmf669.API.root, tmf669_v5.API.root
MERGE = {"Content-Type": "application/merge-patch+json"}

#: (v4 contact medium, its v5 form)
MEDIA = [
    (
        {
            "mediumType": "email",
            "preferred": True,
            "characteristic": {"emailAddress": "a@x.org", "contactType": "home"},
        },
        {"@type": "EmailContactMedium", "preferred": True, "emailAddress": "a@x.org", "contactType": "home"},
    ),
    (
        {"mediumType": "phone", "characteristic": {"phoneNumber": "+33 1"}},
        {"@type": "PhoneContactMedium", "phoneNumber": "+33 1"},
    ),
    (
        {"mediumType": "fax", "characteristic": {"faxNumber": "+33 2"}},
        {"@type": "FaxContactMedium", "faxNumber": "+33 2"},
    ),
    (
        {"mediumType": "postalAddress", "characteristic": {"street1": "1 rue X", "city": "Paris", "country": "FR"}},
        {"@type": "GeographicAddressContactMedium", "street1": "1 rue X", "city": "Paris", "country": "FR"},
    ),
    (
        {"mediumType": "socialNetwork", "characteristic": {"socialNetworkId": "@ada"}},
        {"@type": "SocialContactMedium", "socialNetworkId": "@ada"},
    ),
    # a v4 spelling outside the five is kept beside the @type its content tells
    (
        {"mediumType": "mobile", "characteristic": {"phoneNumber": "+33 6"}},
        {"@type": "PhoneContactMedium", "phoneNumber": "+33 6", "mediumType": "mobile"},
    ),
]


def _ok(r: Any, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json()


def _v4_individual(client: TestClient, **extra: Any) -> dict[str, Any]:
    body = {
        "givenName": "Ada",
        "familyName": "Lovelace",
        "fullName": "Ada Lovelace",
        "contactMedium": [v4 for v4, _ in MEDIA],
        "externalReference": [{"name": "fb-1", "externalReferenceType": "facebookId"}],
        "relatedParty": [{"id": "org-1", "role": "employer", "@referredType": "Organization"}],
        "skill": [{"skillCode": "math"}],
        "creditRating": [{"creditAgencyName": "Agency", "ratingScore": 3}],
        **extra,
    }
    return _ok(client.post(f"{P4}/individual", json=body), 201)


def test_a_v4_individual_reads_in_v5(client: TestClient) -> None:
    made = _v4_individual(client)
    shown = _ok(client.get(f"{P5}/individual/{made['id']}"))
    assert_v5(tmf632_v5.API, "Individual", shown)
    assert shown["name"] == "Ada Lovelace" and "fullName" not in shown
    assert shown["contactMedium"] == [v5 for _, v5 in MEDIA]
    assert shown["externalReference"] == [
        {"id": "fb-1", "externalIdentifierType": "facebookId", "@type": "ExternalIdentifier"}
    ]
    assert shown["relatedParty"][0]["partyOrPartyRole"] == {
        "id": "org-1",
        "@referredType": "Organization",
        "@type": "PartyRef",
    }


def test_a_v5_individual_reads_in_v4_and_keeps_v5_only_attributes(client: TestClient) -> None:
    body = {
        "@type": "Individual",
        "givenName": "Grace",
        "familyName": "Hopper",
        "name": "Grace Hopper",
        "contactMedium": [{**v5, "id": f"cm{i}"} for i, (_, v5) in enumerate(MEDIA[:5])],
        "externalReference": [
            {"@type": "ExternalIdentifier", "id": "crm-9", "owner": "CRM", "externalIdentifierType": "Contact"}
        ],
        "taxExemptionCertificate": [
            {"@type": "TaxExemptionCertificate", "certificateNumber": "T1", "reason": "veteran"}
        ],
        "relatedParty": [
            {
                "@type": "RelatedPartyOrPartyRole",
                "role": "employer",
                "partyOrPartyRole": {"@type": "PartyRef", "id": "org-1", "@referredType": "Organization"},
            }
        ],
    }
    made = _ok(client.post(f"{P5}/individual", json=body), 201)
    assert_v5(tmf632_v5.API, "Individual", made)
    old = _ok(client.get(f"{P4}/individual/{made['id']}"))
    assert_official(tmf632.API, "Individual", old)
    assert old["fullName"] == "Grace Hopper"
    assert [m["mediumType"] for m in old["contactMedium"]] == [
        "email",
        "phone",
        "fax",
        "postalAddress",
        "socialNetwork",
    ]
    assert old["contactMedium"][0]["characteristic"] == {"emailAddress": "a@x.org", "contactType": "home"}
    assert (
        old["externalReference"][0]["name"] == "crm-9"
        and old["externalReference"][0]["externalReferenceType"] == "Contact"
    )
    assert old["relatedParty"] == [{"id": "org-1", "@referredType": "Organization", "role": "employer"}]
    _ok(client.patch(f"{P4}/individual/{made['id']}", json={"title": "Admiral"}))
    again = _ok(client.get(f"{P5}/individual/{made['id']}"))
    assert again["title"] == "Admiral"
    for attr in ("contactMedium", "externalReference", "taxExemptionCertificate", "relatedParty", "name"):
        assert again[attr] == made[attr], attr  # v5-only ids, owner, certificate number survive a v4 PATCH


@pytest.mark.parametrize(
    ("v5_filter", "v4_filter"),
    [
        ({"name": "Ada Lovelace"}, {"fullName": "Ada Lovelace"}),
        ({"contactMedium.emailAddress": "a@x.org"}, {"contactMedium.characteristic.emailAddress": "a@x.org"}),
        ({"externalReference.id": "fb-1"}, {"externalReference.name": "fb-1"}),
        ({"relatedParty.partyOrPartyRole.id": "org-1"}, {"relatedParty.id": "org-1"}),
        ({"status": "deceased"}, {"status": "deceaded"}),
    ],
)
def test_v5_filters_find_what_v4_filters_find(
    client: TestClient, v5_filter: dict[str, str], v4_filter: dict[str, str]
) -> None:
    made = _v4_individual(client, familyName="Filtered")
    _ok(client.patch(f"{P4}/individual/{made['id']}", json={"status": "deceaded"}))
    v4 = {d["id"] for d in _ok(client.get(f"{P4}/individual", params={**v4_filter, "familyName": "Filtered"}))}
    v5 = {d["id"] for d in _ok(client.get(f"{P5}/individual", params={**v5_filter, "familyName": "Filtered"}))}
    assert v5 == v4 == {made["id"]}


def test_v5_state_literal_fields_and_sort(client: TestClient) -> None:
    a = _v4_individual(client, fullName="A Sorted", familyName="Sorted")
    b = _v4_individual(client, fullName="B Sorted", familyName="Sorted")
    r = _ok(client.patch(f"{P5}/individual/{a['id']}", json={"status": "deceased"}, headers=MERGE))
    assert r["status"] == "deceased"
    assert _ok(client.get(f"{P4}/individual/{a['id']}"))["status"] == "deceaded"
    listed = _ok(client.get(f"{P5}/individual", params={"familyName": "Sorted", "sort": "-name", "fields": "name"}))
    assert [d["id"] for d in listed] == [b["id"], a["id"]]
    assert listed[0] == {
        "id": b["id"],
        "href": f"http://testserver{P5}/individual/{b['id']}",
        "@type": "Individual",
        "name": "B Sorted",
    }


def test_organizations_name_and_trading_name(client: TestClient) -> None:
    made = _ok(client.post(f"{P5}/organization", json={"@type": "Organization", "name": "ACME"}), 201)
    assert _ok(client.get(f"{P4}/organization/{made['id']}"))["tradingName"] == "ACME"
    old = _ok(client.post(f"{P4}/organization", json={"tradingName": "Widgets"}), 201)
    shown = _ok(client.get(f"{P5}/organization/{old['id']}"))
    assert shown["name"] == "Widgets"
    assert_v5(tmf632_v5.API, "Organization", shown)


def test_party_roles_both_ways(client: TestClient) -> None:
    party = _v4_individual(client)
    old = _ok(
        client.post(
            f"{R4}/partyRole",
            json={
                "name": "partner",
                "engagedParty": {"id": party["id"], "@referredType": "Individual", "@type": "RelatedParty"},
            },
        ),
        201,
    )
    shown = _ok(client.get(f"{R5}/partyRole/{old['id']}"))
    assert_v5(tmf669_v5.API, "PartyRole", shown)
    assert shown["engagedParty"] == {"id": party["id"], "@referredType": "Individual", "@type": "PartyRef"}
    spec = _ok(client.post(f"{R5}/partyRoleSpecification", json={"name": "customer"}), 201)
    body = {
        "@type": "PartyRole",
        "name": "customer",
        "role": "buyer",
        "engagedParty": {"@type": "PartyRef", "id": party["id"], "@referredType": "Individual"},
        "partyRoleSpecification": {"@type": "PartyRoleSpecificationRef", "id": spec["id"], "name": "customer"},
        "contactMedium": [{"@type": "PhoneContactMedium", "phoneNumber": "+1 555"}],
    }
    made = _ok(client.post(f"{R5}/partyRole", json=body), 201)
    assert_v5(tmf669_v5.API, "PartyRole", made)
    stored = _ok(client.get(f"{R4}/partyRole/{made['id']}"))
    assert_official(tmf669.API, "PartyRole", stored)
    assert stored["engagedParty"] == {"id": party["id"], "@referredType": "Individual"}
    assert stored["contactMedium"] == [{"mediumType": "phone", "characteristic": {"phoneNumber": "+1 555"}}]
    _ok(client.patch(f"{R4}/partyRole/{made['id']}", json={"status": "validated"}))
    again = _ok(client.get(f"{R5}/partyRole/{made['id']}"))
    assert again["partyRoleSpecification"] == made["partyRoleSpecification"] and again["role"] == "buyer"
    found = _ok(
        client.get(f"{R5}/partyRole", params={"engagedParty.id": party["id"], "contactMedium.phoneNumber": "+1 555"})
    )
    assert [d["id"] for d in found] == [made["id"]]


def test_party_role_specification_is_a_v5_resource(client: TestClient) -> None:
    with Listener() as hub:
        _ok(client.post(f"{R5}/hub", json={"@type": "Hub_FVO", "callback": hub.url}), 201)
        made = _ok(
            client.post(
                f"{R5}/partyRoleSpecification",
                json={
                    "name": "reseller",
                    "relatedParty": [
                        {"role": "owner", "partyOrPartyRole": {"id": "o1", "@referredType": "Organization"}}
                    ],
                },
            ),
            201,
        )
        assert_v5(tmf669_v5.API, "PartyRoleSpecification", made)
        assert made["relatedParty"][0]["partyOrPartyRole"]["@type"]  # filled from the schema
        event = hub.wait_until(
            lambda bodies: any(b.get("eventType") == "PartyRoleSpecificationCreateEvent" for b in bodies)
        )[-1]
    assert event["@type"] == "PartyRoleSpecificationCreateEvent" and "timeOccurred" in event
    assert event["event"]["partyRoleSpecification"]["id"] == made["id"]
    r = client.get(f"{R5}/partyRoleSpecification/{made['id']}")
    etag = r.headers["etag"]
    patched = _ok(
        client.patch(
            f"{R5}/partyRoleSpecification/{made['id']}", json={"status": "active"}, headers={**MERGE, "If-Match": etag}
        )
    )
    assert patched["status"] == "active"
    assert_v5(tmf669_v5.API, "PartyRoleSpecification", patched)
    stale = client.patch(
        f"{R5}/partyRoleSpecification/{made['id']}", json={"status": "x"}, headers={**MERGE, "If-Match": etag}
    )
    assert stale.status_code == 412
    assert [d["id"] for d in _ok(client.get(f"{R5}/partyRoleSpecification", params={"name": "reseller"}))] == [
        made["id"]
    ]
    assert client.get(f"{R4}/partyRoleSpecification").status_code == 404  # v4 has no such resource
    assert client.delete(f"{R5}/partyRoleSpecification/{made['id']}").status_code == 204
    assert_v5_error(tmf669_v5.API, client.get(f"{R5}/partyRoleSpecification/{made['id']}"), 404)

"""TMF632 Party (individual, organization) and TMF669 Party Role through HTTP.

CRUD with every answer checked against the official v4.0.0 Swagger files (never
tmfstack's generated copies), the required and server-owned attributes, the ``status``
tables edge by edge, TMF630 filters on the declared indexes, ``fields`` and paging, the
events at a real listener, and the demo parties loaded by ``tmfstack demo``.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.support.assertions import SPECS, assert_error, assert_event, assert_valid
from tests.support.listener import Listener
from tests.support.servers import TMFSTACK
from tmfstack.settings import Settings
from tmfstack.web.app import create_app

PARTY = "/tmf-api/party/v4"
ROLES = "/tmf-api/partyRoleManagement/v4"
TMF632 = SPECS / "TMF632-Party-v4.0.0.swagger.json"
TMF669 = SPECS / "TMF669-PartyRole-v4.0.0.swagger.json"

Doc = dict[str, Any]

# resource -> (API root, spec, entity, minimal valid body, the required attributes)
RESOURCES: dict[str, tuple[str, Path, str, Doc, tuple[str, ...]]] = {
    "individual": (
        PARTY,
        TMF632,
        "Individual",
        {"givenName": "Anna", "familyName": "Berger"},
        ("givenName", "familyName"),
    ),
    "organization": (PARTY, TMF632, "Organization", {"tradingName": "ACME Logistics"}, ("tradingName",)),
    "partyRole": (ROLES, TMF669, "PartyRole", {"name": "customer"}, ("name",)),
}

# the documented lifecycles, written out here (not read from the declarations under test)
STATUS_TABLES: dict[str, dict[str, set[str]]] = {
    "individual": {
        "initialized": {"validated", "deceaded"},
        "validated": {"initialized", "deceaded"},
        "deceaded": set(),
    },
    "organization": {
        "initialized": {"validated", "closed"},
        "validated": {"initialized", "closed"},
        "closed": set(),
    },
    "partyRole": {
        "initialized": {"validated", "closed"},
        "validated": {"initialized", "closed"},
        "closed": set(),
    },
}

EDGES = [(res, old, new) for res, table in STATUS_TABLES.items() for old in table for new in table]


# -- helpers -------------------------------------------------------------------------------


def url(resource: str, id: str | None = None) -> str:
    root = RESOURCES[resource][0]
    return f"{root}/{resource}" if id is None else f"{root}/{resource}/{id}"


def check(resource: str, body: Any) -> None:
    """``body`` (or each item of a list) is a valid instance of the resource's official definition."""
    _, spec, entity, _, _ = RESOURCES[resource]
    assert_valid(spec, entity, body)


def error(response: Any, status: int, resource: str, code: str | None = None) -> Doc:
    return assert_error(response, status, code, spec=RESOURCES[resource][1])


def create(client: TestClient, resource: str, **extra: Any) -> Doc:
    body = {**RESOURCES[resource][3], **extra}
    r = client.post(url(resource), json=body)
    assert r.status_code == 201, r.text
    doc = r.json()
    check(resource, doc)
    assert r.headers["location"] == doc["href"] == f"http://testserver{url(resource, doc['id'])}"
    assert r.headers["etag"] == '"1"'
    return doc


def patch(client: TestClient, resource: str, id: str, body: Any) -> Doc:
    r = client.patch(url(resource, id), json=body)
    assert r.status_code == 200, r.text
    check(resource, r.json())
    return r.json()


def listing(client: TestClient, resource: str, **params: Any) -> tuple[list[Doc], Any]:
    r = client.get(url(resource), params=params)
    assert r.status_code in (200, 206), r.text
    check(resource, r.json())
    return r.json(), r


def ids(docs: list[Doc]) -> set[str]:
    return {d["id"] for d in docs}


def add_hub(client: TestClient, root: str, callback: str, query: str | None = None) -> Doc:
    body: Doc = {"callback": callback}
    if query is not None:
        body["query"] = query
    r = client.post(f"{root}/hub", json=body)
    assert r.status_code == 201, r.text
    hub = r.json()
    assert_valid(TMF632 if root == PARTY else TMF669, "EventSubscription", hub)
    assert client.get(f"{root}/hub/{hub['id']}").json() == hub
    return hub


@pytest.fixture(params=sorted(RESOURCES))
def resource(request: pytest.FixtureRequest) -> str:
    return request.param


# -- CRUD ----------------------------------------------------------------------------------


def test_crud(client: TestClient, resource: str) -> None:
    doc = create(client, resource)
    assert doc["status"] == "initialized"
    assert doc["@type"] == RESOURCES[resource][2]
    for key, value in RESOURCES[resource][3].items():
        assert doc[key] == value

    r = client.get(url(resource, doc["id"]))
    assert r.status_code == 200, r.text
    assert r.json() == doc
    assert r.headers["etag"] == '"1"'
    check(resource, r.json())

    docs, r = listing(client, resource)
    assert docs == [doc] and r.headers["x-total-count"] == "1"

    change = {"statusReason": "checked"} if resource == "partyRole" else {"externalReference": [{"name": "crm-1"}]}
    after = patch(client, resource, doc["id"], change)
    assert {k: after[k] for k in change} == change
    assert {k: v for k, v in after.items() if k not in change} == doc
    assert client.get(url(resource, doc["id"])).json() == after

    bad = {"name": 5} if resource == "partyRole" else {"contactMedium": "not a list"}
    error(client.patch(url(resource, doc["id"]), json=bad), 400, resource)
    assert client.get(url(resource, doc["id"])).json() == after

    # PUT is not an operation of these v4 APIs
    r = client.put(url(resource, doc["id"]), json=RESOURCES[resource][3])
    error(r, 405, resource)
    assert "PATCH" in r.headers["allow"]

    assert client.delete(url(resource, doc["id"])).status_code == 204
    error(client.get(url(resource, doc["id"])), 404, resource)
    error(client.delete(url(resource, doc["id"])), 404, resource)
    error(client.patch(url(resource, doc["id"]), json={"status": "validated"}), 404, resource)
    assert listing(client, resource)[0] == []


def test_create_full_individual(client: TestClient) -> None:
    doc = create(
        client,
        "individual",
        fullName="Anna Berger",
        gender="female",
        birthDate="1990-04-01T00:00:00Z",
        status="validated",
        contactMedium=[
            {"mediumType": "email", "preferred": True, "characteristic": {"emailAddress": "anna@example.at"}},
            {"mediumType": "postalAddress", "characteristic": {"city": "Wien", "country": "AT"}},
        ],
        individualIdentification=[{"identificationId": "P123", "identificationType": "passport"}],
        partyCharacteristic=[{"name": "segment", "value": "gold"}],
        relatedParty=[{"id": "org-1", "role": "employer", "@referredType": "Organization"}],
    )
    assert doc["status"] == "validated"
    assert client.get(url("individual", doc["id"])).json() == doc


def test_create_full_party_role(client: TestClient) -> None:
    doc = create(
        client,
        "partyRole",
        engagedParty={"id": "cust-1", "name": "Anna Berger", "@referredType": "Individual"},
        account=[{"id": "ba-1", "name": "monthly invoice", "@referredType": "BillingAccount"}],
        contactMedium=[{"mediumType": "email", "characteristic": {"emailAddress": "a@example.at"}}],
        characteristic=[{"name": "tier", "value": "gold"}],
        validFor={"startDateTime": "2024-01-01T00:00:00Z"},
    )
    assert doc["engagedParty"]["id"] == "cust-1"


@pytest.mark.parametrize(
    ("resource", "drop"),
    [("individual", "givenName"), ("individual", "familyName"), ("organization", "tradingName"), ("partyRole", "name")],
)
def test_required_attribute_missing_is_400(client: TestClient, resource: str, drop: str) -> None:
    body = {k: v for k, v in RESOURCES[resource][3].items() if k != drop}
    body["status"] = "initialized"
    found = error(client.post(url(resource), json=body), 400, resource)
    assert drop in found["message"]
    assert listing(client, resource)[0] == []


def test_invalid_create_bodies_are_400(client: TestClient) -> None:
    error(client.post(url("individual"), json={}), 400, "individual")
    error(client.post(url("organization"), json={"name": "ACME"}), 400, "organization")  # name is not tradingName
    error(client.post(url("individual"), json={"givenName": 1, "familyName": "B"}), 400, "individual")
    error(client.post(url("individual"), json=[RESOURCES["individual"][3]]), 400, "individual")


@pytest.mark.parametrize("owned", ["id", "href"])
def test_server_owned_attributes_refused(client: TestClient, resource: str, owned: str) -> None:
    body = {**RESOURCES[resource][3], owned: "client-chosen"}
    found = error(client.post(url(resource), json=body), 400, resource)
    assert owned in found["message"]
    assert listing(client, resource)[0] == []

    doc = create(client, resource)
    found = error(client.patch(url(resource, doc["id"]), json={owned: "client-chosen"}), 400, resource)
    assert owned in found["message"]
    assert client.get(url(resource, doc["id"])).json() == doc


def test_unknown_status_is_400(client: TestClient, resource: str) -> None:
    other = "closed" if resource == "individual" else "deceaded"  # the other party type's final state
    for bad in (other, "active", ""):
        error(client.post(url(resource), json={**RESOURCES[resource][3], "status": bad}), 400, resource)
    doc = create(client, resource)
    error(client.patch(url(resource, doc["id"]), json={"status": other}), 400, resource)
    merge = {"content-type": "application/merge-patch+json"}
    r = client.patch(url(resource, doc["id"]), content=b'{"status": null}', headers=merge)
    error(r, 400, resource)
    assert client.get(url(resource, doc["id"])).json() == doc


# -- status tables -------------------------------------------------------------------------


@pytest.mark.parametrize(("resource", "old", "new"), EDGES, ids=[f"{r}:{o}->{n}" for r, o, n in EDGES])
def test_status_edge(client: TestClient, resource: str, old: str, new: str) -> None:
    doc = create(client, resource, status=old)
    assert doc["status"] == old
    r = client.patch(url(resource, doc["id"]), json={"status": new})
    if new == old:
        assert r.status_code == 200, r.text
        assert r.json() == doc and r.headers["etag"] == '"1"'  # no change, no new version
    elif new in STATUS_TABLES[resource][old]:
        assert r.status_code == 200, f"{old} -> {new}: {r.text}"
        assert r.json()["status"] == new
        assert r.headers["etag"] == '"2"'
        check(resource, r.json())
    else:
        found = error(r, 409, resource, "INVALID_TRANSITION")
        assert old in found["message"] and new in found["message"]
        assert client.get(url(resource, doc["id"])).json() == doc


def test_status_walk_and_case_insensitive_values(client: TestClient) -> None:
    doc = create(client, "individual")
    for step, stored in (("Validated", "validated"), (" INITIALIZED ", "initialized"), ("validated", "validated")):
        assert patch(client, "individual", doc["id"], {"status": step})["status"] == stored
    assert (
        patch(client, "individual", doc["id"], {"status": "DECEADED", "deathDate": "2024-05-01T00:00:00Z"})["status"]
        == "deceaded"
    )
    for target in ("initialized", "validated"):
        error(
            client.patch(url("individual", doc["id"]), json={"status": target}), 409, "individual", "INVALID_TRANSITION"
        )
    # a final state still takes other corrections
    assert patch(client, "individual", doc["id"], {"middleName": "Maria"})["status"] == "deceaded"


def test_same_status_other_spelling_is_no_change(client: TestClient) -> None:
    doc = create(client, "organization", status="validated")
    r = client.patch(url("organization", doc["id"]), json={"status": "Validated"})
    assert r.status_code == 200, r.text
    assert r.json() == doc
    assert r.headers["etag"] == '"1"'


# -- TMF630 queries ------------------------------------------------------------------------


def test_family_name_filter(client: TestClient) -> None:
    people = {
        given: create(client, "individual", givenName=given, familyName=family)
        for given, family in (("Anna", "Berger"), ("Carl", "Berger"), ("Ben", "Okafor"), ("Dora", "Xu"))
    }
    by_id = {d["id"]: g for g, d in people.items()}

    def named(**params: Any) -> set[str]:
        return {by_id[i] for i in ids(listing(client, "individual", **params)[0])}

    assert named(familyName="Berger") == {"Anna", "Carl"}
    assert named(familyName="Berger,Okafor") == {"Anna", "Carl", "Ben"}
    assert named(familyName="berger") == set()  # equality is exact
    assert named(familyName="Berger", givenName="Carl") == {"Carl"}
    assert named(**{"familyName.ne": "Berger"}) == {"Ben", "Dora"}
    employer = {"id": "org-1", "role": "employer", "@referredType": "Organization"}
    patch(client, "individual", people["Dora"]["id"], {"relatedParty": [employer]})
    assert named(**{"relatedParty.id": "org-1"}) == {"Dora"}

    # the index follows changes and deletes
    patch(client, "individual", people["Carl"]["id"], {"familyName": "Zed"})
    assert named(familyName="Berger") == {"Anna"}
    assert named(familyName="Zed") == {"Carl"}
    assert client.delete(url("individual", people["Anna"]["id"])).status_code == 204
    assert named(familyName="Berger") == set()
    merge = {"content-type": "application/merge-patch+json"}
    r = client.patch(url("individual", people["Carl"]["id"]), content=b'{"familyName": null}', headers=merge)
    assert r.status_code == 200, r.text
    assert named(familyName="Zed") == set()


def test_trading_name_and_status_filters(client: TestClient) -> None:
    acme = create(client, "organization", tradingName="ACME", name="ACME Logistics GmbH")
    acme2 = create(client, "organization", tradingName="ACME", status="validated")
    nord = create(client, "organization", tradingName="Nordwind", status="validated")
    closed = create(client, "organization", tradingName="Gone", status="closed")

    def found(**params: Any) -> set[str]:
        return ids(listing(client, "organization", **params)[0])

    assert found(tradingName="ACME") == {acme["id"], acme2["id"]}
    assert found(tradingName="ACME", status="validated") == {acme2["id"]}
    assert found(status="validated") == {acme2["id"], nord["id"]}
    assert found(status="VALIDATED") == {acme2["id"], nord["id"]}
    assert found(status="initialized,closed") == {acme["id"], closed["id"]}
    assert found(status="bogus") == set()
    assert found(name="ACME Logistics GmbH") == {acme["id"]}

    patch(client, "organization", acme["id"], {"status": "validated", "tradingName": "ACME Group"})
    assert found(tradingName="ACME") == {acme2["id"]}
    assert found(tradingName="ACME Group", status="validated") == {acme["id"]}


def test_engaged_party_filter(client: TestClient) -> None:
    def role(party: str, name: str = "customer", **extra: Any) -> Doc:
        return create(
            client, "partyRole", name=name, engagedParty={"id": party, "@referredType": "Individual"}, **extra
        )

    anna_customer = role("cust-anna")
    anna_partner = role("cust-anna", "partner", status="validated", account=[{"id": "ba-7", "name": "invoice"}])
    ben = role("cust-ben", status="validated")

    def found(**params: Any) -> set[str]:
        return ids(listing(client, "partyRole", **params)[0])

    assert found(**{"engagedParty.id": "cust-anna"}) == {anna_customer["id"], anna_partner["id"]}
    assert found(**{"engagedParty.id": "cust-anna", "status": "validated"}) == {anna_partner["id"]}
    assert found(**{"engagedParty.id": "cust-anna", "name": "customer"}) == {anna_customer["id"]}
    assert found(**{"engagedParty.id": "cust-anna,cust-ben"}) == {anna_customer["id"], anna_partner["id"], ben["id"]}
    assert found(**{"engagedParty.id": "nobody"}) == set()
    assert found(**{"account.id": "ba-7"}) == {anna_partner["id"]}
    assert found(status="validated") == {anna_partner["id"], ben["id"]}

    patch(client, "partyRole", anna_customer["id"], {"engagedParty": {"id": "cust-ben", "@referredType": "Individual"}})
    assert found(**{"engagedParty.id": "cust-anna"}) == {anna_partner["id"]}
    assert found(**{"engagedParty.id": "cust-ben"}) == {anna_customer["id"], ben["id"]}
    assert client.delete(url("partyRole", ben["id"])).status_code == 204
    assert found(**{"engagedParty.id": "cust-ben"}) == {anna_customer["id"]}


def test_fields(client: TestClient) -> None:
    anna = create(client, "individual", status="validated", fullName="Anna Berger")
    body = client.get(url("individual", anna["id"]), params={"fields": "familyName,status"}).json()
    assert body == {"id": anna["id"], "href": anna["href"], "familyName": "Berger", "status": "validated"}
    check("individual", body)

    docs, _ = listing(client, "individual", familyName="Berger", fields="givenName")
    assert docs == [{"id": anna["id"], "href": anna["href"], "givenName": "Anna"}]

    engaged = {"id": anna["id"], "@referredType": "Individual"}
    role = create(client, "partyRole", engagedParty=engaged)
    docs, _ = listing(client, "partyRole", **{"engagedParty.id": anna["id"], "fields": "engagedParty"})
    assert docs == [{"id": role["id"], "href": role["href"], "engagedParty": engaged}]
    docs, _ = listing(client, "organization", fields="none")
    assert docs == []


def test_paging_with_total_count(client: TestClient) -> None:
    names = ["Ada", "Bob", "Cem", "Dan", "Eva"]
    for given in names:
        create(client, "individual", givenName=given, familyName="Pager")
    create(client, "individual", givenName="Zoe", familyName="Other")

    seen: list[str] = []
    for offset in (0, 2, 4):
        docs, r = listing(client, "individual", familyName="Pager", sort="givenName", offset=offset, limit=2)
        assert r.headers["x-total-count"] == "5"
        assert r.headers["x-result-count"] == str(len(docs))
        assert r.status_code == 206
        seen += [d["givenName"] for d in docs]
    assert seen == names

    docs, r = listing(client, "individual", familyName="Pager", sort="-givenName", limit=10)
    assert r.status_code == 200 and r.headers["x-total-count"] == "5"
    assert [d["givenName"] for d in docs] == names[::-1]

    docs, r = listing(client, "individual", offset=6)
    assert docs == [] and r.headers["x-total-count"] == "6"
    error(client.get(url("individual"), params={"limit": "0"}), 400, "individual")


# -- events --------------------------------------------------------------------------------


def _types(bodies: list[Doc]) -> list[str]:
    return [b["eventType"] for b in bodies]


def test_individual_events(client: TestClient) -> None:
    with Listener() as listener:
        add_hub(client, PARTY, listener.url)
        doc = create(client, "individual")
        patch(client, "individual", doc["id"], {"middleName": "Maria"})
        patch(client, "individual", doc["id"], {"status": "validated"})
        patch(client, "individual", doc["id"], {"status": "deceaded", "deathDate": "2024-05-01T00:00:00Z"})
        assert client.delete(url("individual", doc["id"])).status_code == 204
        listener.wait_for(6)
        time.sleep(0.3)  # a duplicate or stray event would arrive here
        bodies = listener.bodies
    assert _types(bodies) == [
        "IndividualCreateEvent",
        "IndividualAttributeValueChangeEvent",
        "IndividualStateChangeEvent",
        "IndividualAttributeValueChangeEvent",
        "IndividualStateChangeEvent",
        "IndividualDeleteEvent",
    ]
    for body in bodies:
        assert_event(TMF632, body)
        assert body["event"]["individual"]["id"] == doc["id"]
    assert bodies[0]["event"]["individual"]["status"] == "initialized"
    assert bodies[1]["fieldPath"] == "middleName"
    assert bodies[1]["event"]["individual"]["middleName"] == "Maria"
    assert bodies[2]["event"]["individual"]["status"] == "validated"
    assert bodies[3]["fieldPath"] == "deathDate"
    assert bodies[4]["event"]["individual"]["status"] == "deceaded"
    assert len({b["eventId"] for b in bodies}) == 6


def test_organization_events_and_hub_query(client: TestClient) -> None:
    with Listener() as everything, Listener() as closures:
        add_hub(client, PARTY, everything.url)
        add_hub(client, PARTY, closures.url, "eventType=OrganizationStateChangeEvent&event.organization.status=closed")
        doc = create(client, "organization")
        patch(client, "organization", doc["id"], {"status": "validated"})
        patch(client, "organization", doc["id"], {"status": "closed"})
        person = create(client, "individual")
        bodies = everything.wait_for(4)
        closed = closures.wait_for(1)
        time.sleep(0.3)
        assert len(everything.bodies) == 4 and len(closures.bodies) == 1
    assert _types(bodies) == [
        "OrganizationCreateEvent",
        "OrganizationStateChangeEvent",
        "OrganizationStateChangeEvent",
        "IndividualCreateEvent",
    ]
    for body in bodies:
        assert_event(TMF632, body)
    assert bodies[3]["event"]["individual"]["id"] == person["id"]
    assert closed[0]["eventType"] == "OrganizationStateChangeEvent"
    assert closed[0]["event"]["organization"]["status"] == "closed"
    assert closed[0]["eventId"] == bodies[2]["eventId"]


def test_party_role_events(client: TestClient) -> None:
    with Listener() as listener:
        add_hub(client, ROLES, listener.url)  # TMF669 only: TMF632 events must not arrive
        create(client, "individual")
        doc = create(client, "partyRole", engagedParty={"id": "cust-anna", "@referredType": "Individual"})
        patch(client, "partyRole", doc["id"], {"statusReason": "KYC done"})
        patch(client, "partyRole", doc["id"], {"status": "validated"})
        assert client.delete(url("partyRole", doc["id"])).status_code == 204
        listener.wait_for(4)
        time.sleep(0.3)
        bodies = listener.bodies
    assert _types(bodies) == [
        "PartyRoleCreateEvent",
        "PartyRoleAttributeValueChangeEvent",
        "PartyRoleStateChangeEvent",
        "PartyRoleDeleteEvent",
    ]
    for body in bodies:
        assert_event(TMF669, body)
        assert body["event"]["partyRole"]["id"] == doc["id"]
    assert bodies[0]["event"]["partyRole"]["engagedParty"]["id"] == "cust-anna"
    assert bodies[1]["fieldPath"] == "statusReason"
    assert bodies[2]["event"]["partyRole"]["status"] == "validated"


# -- the demo parties ----------------------------------------------------------------------


def _run_demo(database_url: str, tmp_path: Path) -> str:
    env = {**os.environ, "TMFSTACK_EXPORT_DIR": str(tmp_path / "exports"), "TMFSTACK_PUBLIC_URL": "http://testserver"}
    env.pop("TMFSTACK_DATABASE_URL", None)
    done = subprocess.run(
        [str(TMFSTACK), "demo", "--database", database_url, "--pool-size", "5"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.mark.skipif(not TMFSTACK.exists(), reason="needs the tmfstack command in .venv")
def test_demo_parties(database_url: str, settings: Settings, tmp_path: Path) -> None:
    out = _run_demo(database_url, tmp_path)
    assert "parties: 3 customers and 1 partner with their roles (8 records created)" in out, out
    out = _run_demo(database_url, tmp_path)  # idempotent
    assert "(0 records created)" in out, out

    with TestClient(create_app(settings)) as client:
        people, r = listing(client, "individual")
        assert r.headers["x-total-count"] == "2"
        orgs, _ = listing(client, "organization")
        roles, _ = listing(client, "partyRole")
        assert ids(people) == {"cust-anna", "cust-ben"}
        assert ids(orgs) == {"cust-acme", "org-nordwind"}
        assert ids(roles) == {"pr-cust-anna", "pr-cust-ben", "pr-cust-acme", "pr-org-nordwind"}
        for doc in (*people, *orgs, *roles):
            assert doc["status"] == "validated", doc
        for resource, docs in (("individual", people), ("organization", orgs), ("partyRole", roles)):
            for doc in docs:
                assert doc["href"] == f"http://testserver{url(resource, doc['id'])}"

        anna = client.get(url("individual", "cust-anna")).json()
        assert (anna["givenName"], anna["familyName"], anna["fullName"]) == ("Anna", "Berger", "Anna Berger")
        assert ids(listing(client, "individual", familyName="Okafor")[0]) == {"cust-ben"}
        assert ids(listing(client, "organization", tradingName="ACME Logistics GmbH")[0]) == {"cust-acme"}

        by_party = {r["engagedParty"]["id"]: r for r in roles}
        assert set(by_party) == {"cust-anna", "cust-ben", "cust-acme", "org-nordwind"}
        assert by_party["org-nordwind"]["name"] == "partner"
        assert {by_party[p]["name"] for p in ("cust-anna", "cust-ben", "cust-acme")} == {"customer"}
        assert by_party["cust-acme"]["engagedParty"]["@referredType"] == "Organization"
        assert by_party["cust-anna"]["engagedParty"]["@referredType"] == "Individual"
        partner = listing(client, "partyRole", **{"engagedParty.id": "org-nordwind"})[0]
        assert [r["id"] for r in partner] == ["pr-org-nordwind"]

        # every customer the demo orders name is a party of TMF632, of the type they say
        orders = client.get("/tmf-api/productOrderingManagement/v4/productOrder").json()
        assert orders
        for order in orders:
            for party in order.get("relatedParty") or []:
                resource = {"Individual": "individual", "Organization": "organization"}[party["@referredType"]]
                r = client.get(url(resource, party["id"]))
                assert r.status_code == 200, (order["id"], party, r.text)
                billing = by_party[party["id"]]["account"][0]["id"]
                assert order["billingAccount"]["id"] == billing


@pytest.mark.skipif(not TMFSTACK.exists(), reason="needs the tmfstack command in .venv")
def test_demo_qualifies_like_the_quick_start(database_url: str, settings: Settings, tmp_path: Path) -> None:
    """The demo's coverage, segments and addresses answer the README's examples: fibre orders
    pass their serviceability check, Graz gets VDSL proposed, an enterprise customer gets
    business fibre proposed for a residential-only offer."""
    out = _run_demo(database_url, tmp_path)
    assert "reference data: 10 regions, 2 technologies, coverage of 331 areas" in out, out
    for demo_order in ("demo-acme-fibre", "demo-ben-bundle"):
        line = next(x for x in out.splitlines() if demo_order in x)
        assert ": completed [" in line, line
    graz = {"role": "installationAddress", "streetName": "Herrengasse", "streetNr": "9", "postcode": "8010"}
    check = {
        "instantSyncQualification": True,
        "provideAlternative": True,
        "serviceQualificationItem": [
            {"id": "1", "service": {"serviceSpecification": {"id": "ss-cfs-internet-access"}, "place": [graz]}}
        ],
    }
    poq = {
        "instantSyncQualification": True,
        "provideAlternative": True,
        "channel": {"id": "telesales"},
        "relatedParty": [{"id": "cust-acme", "role": "customer", "@referredType": "Organization"}],
        "productOfferingQualificationItem": [{"id": "1", "productOffering": {"id": "po-fibre-300"}}],
    }
    with TestClient(create_app(settings)) as client:
        r = client.post("/tmf-api/serviceQualificationManagement/v4/checkServiceQualification", json=check)
        assert r.status_code == 200, r.text
        item = r.json()["serviceQualificationItem"][0]
        assert item["qualificationResult"] == "alternate", item
        assert [r["code"] for r in item["eligibilityUnavailabilityReason"]] == ["TECHNOLOGY_NOT_AVAILABLE"]
        proposed = item["alternateServiceProposal"][0]["alternateService"]
        assert proposed["serviceSpecification"]["id"] == "ss-cfs-internet-vdsl"
        speeds = {c["name"]: c["value"] for c in proposed["serviceCharacteristic"]}
        assert speeds["Download speed"] == 50  # house 9 in Graz: the slower VDSL line

        r = client.post("/tmf-api/productOfferingQualification/v4/productOfferingQualification", json=poq)
        assert r.status_code == 200, r.text
        item = r.json()["productOfferingQualificationItem"][0]
        assert item["qualificationItemResult"] == "alternate", item
        assert [r["code"] for r in item["eligibilityUnavailabilityReason"]] == ["MARKET_SEGMENT_NOT_ELIGIBLE"]
        alternates = {p["alternateProductOffering"]["id"] for p in item["alternateProductOfferingProposal"]}
        assert alternates == {"po-fibre-500", "po-fibre-1000"}  # fibre sold to business, not Fibre 300 itself

"""Event subscriptions (/hub) and delivery, through the in-process app and a real HTTP listener.

The dispatcher runs inside the app's lifespan (the ``client`` fixture); deliveries
are real HTTP POSTs to ``tests/support/listener.py``. The conftest settings retry fast
(retry_base=0.05, retry_max=0.2) and park a delivery as dead after 4 attempts.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.support.assertions import SPECS, assert_error, assert_valid
from tests.support.listener import Listener, first_seen
from tests.support.polling import wait_until

CATALOG = "/tmf-api/productCatalogManagement/v4"
SPEC = SPECS / "TMF620-ProductCatalog-v4.1.0.swagger.json"
HUB = f"{CATALOG}/hub"
PO = f"{CATALOG}/productOffering"
MAX_ATTEMPTS = 4  # conftest settings


# -- helpers -----------------------------------------------------------------------------


def add_hub(client: TestClient, callback: str, query: str | None = None) -> str:
    body: dict[str, Any] = {"callback": callback}
    if query is not None:
        body["query"] = query
    r = client.post(HUB, json=body)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def create_offering(client: TestClient, name: str, **extra: Any) -> dict[str, Any]:
    r = client.post(PO, json={"name": name, **extra})
    assert r.status_code == 201, r.text
    return r.json()


def patch_offering(client: TestClient, id: str, changes: dict[str, Any]) -> dict[str, Any]:
    r = client.patch(f"{PO}/{id}", json=changes)
    assert r.status_code == 200, r.text
    return r.json()


def deliveries(client: TestClient, status: str | None = None) -> list[dict[str, Any]]:
    r = client.get("/admin/deliveries", params={"status": status} if status else None)
    assert r.status_code == 200, r.text
    return r.json()


def wait_idle(client: TestClient, timeout: float = 10.0) -> None:
    """Until no delivery is pending (every one delivered or dead)."""
    wait_until(lambda: deliveries(client, "pending"), lambda pending: not pending, timeout, "deliveries still pending")


def wait_dead(client: TestClient, n: int, timeout: float = 10.0) -> list[dict[str, Any]]:
    return wait_until(lambda: deliveries(client, "dead"), lambda dead: len(dead) >= n, timeout, f"{n} deliveries dead")


def summary(bodies: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(b["eventType"], b["event"]["productOffering"]["id"]) for b in bodies]


@pytest.fixture
def other_listener() -> Iterator[Listener]:
    with Listener() as it:
        yield it


# -- /hub --------------------------------------------------------------------------------


def test_hub_register_read_unregister(client: TestClient, listener: Listener) -> None:
    query = "eventType=ProductOfferingStateChangeEvent&event.productOffering.lifecycleStatus=Launched"
    r = client.post(HUB, json={"callback": listener.url, "query": query})
    assert r.status_code == 201, r.text
    hub = r.json()
    assert_valid(SPEC, "EventSubscription", hub)
    assert hub["callback"] == listener.url
    assert hub["query"] == query
    assert isinstance(hub["id"], str) and hub["id"]
    assert r.headers["location"].endswith(f"{HUB}/{hub['id']}")
    assert r.headers["content-type"].startswith("application/json")

    got = client.get(f"{HUB}/{hub['id']}")
    assert got.status_code == 200
    assert got.json() == hub

    assert client.delete(f"{HUB}/{hub['id']}").status_code == 204
    assert_error(client.get(f"{HUB}/{hub['id']}"), 404, spec=SPEC)
    assert_error(client.delete(f"{HUB}/{hub['id']}"), 404, spec=SPEC)


def test_hub_without_query_is_accepted(client: TestClient, listener: Listener) -> None:
    r = client.post(HUB, json={"callback": listener.url})
    assert r.status_code == 201, r.text
    assert r.json()["callback"] == listener.url
    assert client.get(f"{HUB}/{r.json()['id']}").status_code == 200


def test_hub_without_query_is_spec_valid(client: TestClient, listener: Listener) -> None:
    r = client.post(HUB, json={"callback": listener.url})
    assert r.status_code == 201, r.text
    assert_valid(SPEC, "EventSubscription", r.json())
    assert_valid(SPEC, "EventSubscription", client.get(f"{HUB}/{r.json()['id']}").json())


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"callback": "ftp://127.0.0.1/x"}, id="ftp-callback"),
        pytest.param({"callback": "not a url"}, id="not-a-url"),
        pytest.param({"callback": "/relative/path"}, id="relative-callback"),
        pytest.param({"callback": "http://"}, id="no-host"),
        pytest.param({"callback": 42}, id="callback-not-string"),
        pytest.param({"query": "eventType=ProductOfferingCreateEvent"}, id="missing-callback"),
        pytest.param({"callback": "http://127.0.0.1:9/x", "query": "eventType"}, id="query-without-value"),
        pytest.param({"callback": "http://127.0.0.1:9/x", "query": "a=1&&b=2"}, id="query-empty-field"),
        pytest.param({"callback": "http://127.0.0.1:9/x", "query": "name*=(unclosed"}, id="query-bad-regex"),
        pytest.param({"callback": "http://127.0.0.1:9/x", "query": "lastUpdate.gt="}, id="query-op-without-value"),
        pytest.param({"callback": "http://127.0.0.1:9/x", "query": "na%20me=1"}, id="query-bad-attribute"),
    ],
)
def test_hub_rejects_bad_subscriptions(client: TestClient, body: dict[str, Any]) -> None:
    assert_error(client.post(HUB, json=body), 400, spec=SPEC)


def test_hub_rejects_non_object_and_malformed_json(client: TestClient) -> None:
    assert_error(client.post(HUB, json=["http://127.0.0.1:9/x"]), 400, spec=SPEC)
    assert_error(client.post(HUB, content=b"{not json", headers={"Content-Type": "application/json"}), 400, spec=SPEC)


def test_unknown_hub_is_404(client: TestClient) -> None:
    assert_error(client.get(f"{HUB}/no-such-hub"), 404, spec=SPEC)
    assert_error(client.delete(f"{HUB}/no-such-hub"), 404, spec=SPEC)


# -- what is delivered -------------------------------------------------------------------


def test_offering_lifecycle_delivers_spec_valid_events_in_order(client: TestClient, listener: Listener) -> None:
    add_hub(client, listener.url)
    created = create_offering(client, "Fibre 100")
    id = created["id"]
    renamed = patch_offering(client, id, {"name": "Fibre 200"})
    tested = patch_offering(client, id, {"lifecycleStatus": "In test"})
    last = client.get(f"{PO}/{id}").json()
    assert client.delete(f"{PO}/{id}").status_code == 204

    bodies = listener.wait_for(4)
    wait_idle(client)
    bodies = listener.bodies
    assert [b["eventType"] for b in bodies] == [
        "ProductOfferingCreateEvent",
        "ProductOfferingAttributeValueChangeEvent",
        "ProductOfferingStateChangeEvent",
        "ProductOfferingDeleteEvent",
    ]
    for body in bodies:
        assert_valid(SPEC, body["eventType"], body)
        assert isinstance(body["eventId"], str) and body["eventId"]
        assert isinstance(body["eventTime"], str) and body["eventTime"]
        assert set(body["event"]) == {"productOffering"}
    assert len({b["eventId"] for b in bodies}) == 4
    assert [b["event"]["productOffering"] for b in bodies] == [created, renamed, tested, last]
    assert bodies[1]["fieldPath"] == "name"
    assert tested["lifecycleStatus"] == "In test"
    # eventTime is ISO 8601 and the events are stamped in order
    times = [b["eventTime"] for b in bodies]
    assert times == sorted(times)
    # the dispatcher names the event in a header too, so receivers can de-duplicate cheaply
    assert [r.headers.get("x-event-id") for r in listener.accepted] == [b["eventId"] for b in bodies]
    assert all(r.headers["content-type"].startswith("application/json") for r in listener.accepted)
    assert {r.path for r in listener.accepted} == {"/listener"}


def test_attribute_change_field_path_names_every_changed_attribute(client: TestClient, listener: Listener) -> None:
    add_hub(client, listener.url, "eventType=ProductOfferingAttributeValueChangeEvent")
    id = create_offering(client, "Mobile S")["id"]
    after = patch_offering(client, id, {"description": "5 GB", "isBundle": False})
    body = listener.wait_for(1)[0]
    assert_valid(SPEC, "ProductOfferingAttributeValueChangeEvent", body)
    assert set(body["fieldPath"].split(",")) == {"description", "isBundle"}
    assert body["event"]["productOffering"] == after


def test_patch_of_name_and_state_emits_both_events(client: TestClient, listener: Listener) -> None:
    id = create_offering(client, "TV")["id"]
    add_hub(client, listener.url)
    after = patch_offering(client, id, {"name": "TV+", "lifecycleStatus": "In test"})
    bodies = listener.wait_for(2)
    wait_idle(client)
    assert [b["eventType"] for b in listener.bodies] == [
        "ProductOfferingAttributeValueChangeEvent",
        "ProductOfferingStateChangeEvent",
    ]
    assert bodies[0]["fieldPath"] == "name"
    assert all(b["event"]["productOffering"] == after for b in bodies)


def test_patch_changing_nothing_emits_nothing(client: TestClient, listener: Listener) -> None:
    created = create_offering(client, "Same")
    add_hub(client, listener.url)
    patch_offering(client, created["id"], {"name": "Same"})
    patch_offering(client, created["id"], {"name": "Other"})
    bodies = listener.wait_for(1)
    wait_idle(client)
    assert [b["eventType"] for b in listener.bodies] == ["ProductOfferingAttributeValueChangeEvent"]
    assert bodies[0]["event"]["productOffering"]["name"] == "Other"


def test_refused_changes_emit_nothing(client: TestClient, listener: Listener) -> None:
    created = create_offering(client, "Guarded")
    add_hub(client, listener.url)
    # an invalid transition (In design -> Launched), a schema violation, a missing resource
    assert client.patch(f"{PO}/{created['id']}", json={"lifecycleStatus": "Launched"}).status_code == 409
    assert client.patch(f"{PO}/{created['id']}", json={"isBundle": "yes"}).status_code == 400
    assert client.delete(f"{PO}/missing").status_code == 404
    assert client.post(PO, json={"name": 7}).status_code == 400
    time.sleep(0.3)
    wait_idle(client)
    assert listener.requests == []
    assert deliveries(client) == []


# -- which hub gets what -----------------------------------------------------------------


def test_hub_queries_filter_events(client: TestClient) -> None:
    with Listener() as every, Listener() as states, Listener() as launched, Listener() as both:
        add_hub(client, every.url)
        add_hub(client, states.url, "eventType=ProductOfferingStateChangeEvent")
        add_hub(client, launched.url, "event.productOffering.lifecycleStatus=Launched")
        add_hub(
            client, both.url, "eventType=ProductOfferingStateChangeEvent&event.productOffering.lifecycleStatus=Launched"
        )

        a = create_offering(client, "A")["id"]  # Create (In design)
        patch_offering(client, a, {"lifecycleStatus": "In test"})  # StateChange (In test)
        patch_offering(client, a, {"lifecycleStatus": "Launched"})  # StateChange (Launched)
        patch_offering(client, a, {"name": "A2"})  # AttributeValueChange (Launched)
        b = create_offering(client, "B", lifecycleStatus="Launched")["id"]  # Create (Launched)
        c = create_offering(client, "C")["id"]  # Create (In design)
        assert client.delete(f"{PO}/{b}").status_code == 204  # Delete (Launched)
        assert client.delete(f"{PO}/{c}").status_code == 204  # Delete (In design)

        every.wait_for(8)
        states.wait_for(2)
        launched.wait_for(4)
        both.wait_for(1)
        wait_idle(client)
        time.sleep(0.1)

        assert summary(every.bodies) == [
            ("ProductOfferingCreateEvent", a),
            ("ProductOfferingStateChangeEvent", a),
            ("ProductOfferingStateChangeEvent", a),
            ("ProductOfferingAttributeValueChangeEvent", a),
            ("ProductOfferingCreateEvent", b),
            ("ProductOfferingCreateEvent", c),
            ("ProductOfferingDeleteEvent", b),
            ("ProductOfferingDeleteEvent", c),
        ]
        assert summary(states.bodies) == [("ProductOfferingStateChangeEvent", a)] * 2
        assert [b["event"]["productOffering"]["lifecycleStatus"] for b in states.bodies] == ["In test", "Launched"]
        assert summary(launched.bodies) == [
            ("ProductOfferingStateChangeEvent", a),
            ("ProductOfferingAttributeValueChangeEvent", a),
            ("ProductOfferingCreateEvent", b),
            ("ProductOfferingDeleteEvent", b),
        ]
        assert all(b["event"]["productOffering"]["lifecycleStatus"] == "Launched" for b in launched.bodies)
        assert summary(both.bodies) == [("ProductOfferingStateChangeEvent", a)]
        # the same event goes to every hub that wants it, under the same eventId
        state_ids = [b["eventId"] for b in every.bodies if b["eventType"] == "ProductOfferingStateChangeEvent"]
        assert [b["eventId"] for b in states.bodies] == state_ids


def test_hub_query_with_a_list_of_event_types(client: TestClient, listener: Listener) -> None:
    add_hub(client, listener.url, "eventType=ProductOfferingCreateEvent,ProductOfferingDeleteEvent")
    id = create_offering(client, "Listed")["id"]
    patch_offering(client, id, {"name": "Listed 2"})
    patch_offering(client, id, {"lifecycleStatus": "In test"})
    assert client.delete(f"{PO}/{id}").status_code == 204
    listener.wait_for(2)
    wait_idle(client)
    assert summary(listener.bodies) == [("ProductOfferingCreateEvent", id), ("ProductOfferingDeleteEvent", id)]


def test_hub_query_matches_other_resources_events_not(client: TestClient, listener: Listener) -> None:
    add_hub(client, listener.url, "eventType=ProductOfferingCreateEvent")
    assert client.post(f"{CATALOG}/category", json={"name": "Cat"}).status_code == 201
    id = create_offering(client, "Only me")["id"]
    listener.wait_for(1)
    wait_idle(client)
    assert summary(listener.bodies) == [("ProductOfferingCreateEvent", id)]


def test_hub_created_after_an_event_does_not_receive_it(client: TestClient, listener: Listener) -> None:
    before = create_offering(client, "Before")["id"]
    add_hub(client, listener.url)
    after = create_offering(client, "After")["id"]
    listener.wait_for(1)
    wait_idle(client)
    time.sleep(0.2)
    assert summary(listener.bodies) == [("ProductOfferingCreateEvent", after)]
    assert before != after


def test_no_delivery_after_hub_is_deleted(client: TestClient, listener: Listener) -> None:
    hub = add_hub(client, listener.url)
    first = create_offering(client, "First")["id"]
    listener.wait_for(1)
    assert client.delete(f"{HUB}/{hub}").status_code == 204
    second = create_offering(client, "Second")["id"]
    patch_offering(client, second, {"name": "Second!"})
    assert client.delete(f"{PO}/{first}").status_code == 204
    time.sleep(0.5)
    wait_idle(client)
    assert summary(listener.bodies) == [("ProductOfferingCreateEvent", first)]
    assert len(listener.requests) == 1


def test_deleting_a_hub_drops_its_pending_deliveries(client: TestClient, listener: Listener) -> None:
    listener.fail()
    hub = add_hub(client, listener.url)
    for i in range(3):
        create_offering(client, f"Pending {i}")
    listener.wait_requests(1)
    assert client.delete(f"{HUB}/{hub}").status_code == 204
    listener.recover()
    wait_idle(client)
    time.sleep(0.5)
    assert listener.bodies == []
    assert deliveries(client, "pending") == []


# -- retries, dead letters ---------------------------------------------------------------


@pytest.mark.parametrize("outage", ["http-500", "connection-refused"])
def test_failed_deliveries_are_retried_in_order(client: TestClient, listener: Listener, outage: str) -> None:
    failures = MAX_ATTEMPTS - 1  # the first event needs every attempt it has, and then succeeds
    if outage == "http-500":
        listener.fail_next(failures)
    else:
        listener.stop()
    add_hub(client, listener.url)
    expected: list[tuple[str, str]] = []
    for i in range(5):
        id = create_offering(client, f"Retry {i}")["id"]
        expected.append(("ProductOfferingCreateEvent", id))
        if i % 2 == 0:
            patch_offering(client, id, {"lifecycleStatus": "In test"})
            expected.append(("ProductOfferingStateChangeEvent", id))
    if outage == "connection-refused":
        # let the first delivery fail a few times on a closed port, then listen again on it
        deadline = time.monotonic() + 10
        while not any(d["attempts"] >= failures - 1 for d in deliveries(client)):
            assert time.monotonic() < deadline
            time.sleep(0.02)
        listener.start()

    listener.wait_until(lambda bodies: len(first_seen(bodies)) >= len(expected))
    wait_idle(client)
    bodies = listener.bodies
    unique = first_seen(bodies)
    assert summary(unique) == expected  # none lost, none reordered
    assert len({b["eventId"] for b in bodies}) == len(expected)
    assert deliveries(client, "dead") == []

    rows = deliveries(client)
    assert len(rows) == len(expected)
    assert all(d["status"] == "delivered" for d in rows)
    assert [d["payload"]["eventId"] for d in rows] == [b["eventId"] for b in unique]
    assert rows[0]["attempts"] >= 2
    assert rows[0]["last_error"]
    if outage == "http-500":
        assert rows[0]["attempts"] == MAX_ATTEMPTS
        assert "500" in rows[0]["last_error"]
        assert all(d["attempts"] == 1 for d in rows[1:])
        # every attempt reached the listener: failed ones plus one success per delivery
        assert len(listener.requests) == sum(d["attempts"] for d in rows) == failures + len(expected)
    else:
        assert "Connect" in rows[0]["last_error"]


def test_dead_letter_then_redeliver(client: TestClient, listener: Listener) -> None:
    listener.fail()
    add_hub(client, listener.url)
    id = create_offering(client, "Doomed")["id"]

    dead = wait_dead(client, 1)
    assert len(dead) == 1
    letter = dead[0]
    assert letter["attempts"] == MAX_ATTEMPTS
    assert letter["status"] == "dead"
    assert "HTTP 500" in letter["last_error"]
    assert letter["event_type"] == "ProductOfferingCreateEvent"
    assert letter["payload"]["event"]["productOffering"]["id"] == id
    assert letter["callback"] == listener.url
    assert len(listener.requests) == MAX_ATTEMPTS
    time.sleep(0.3)  # parked: no more attempts
    assert len(listener.requests) == MAX_ATTEMPTS
    assert deliveries(client, "pending") == []

    listener.recover()
    r = client.post(f"/admin/deliveries/{letter['id']}/redeliver")
    assert r.status_code == 202, r.text
    body = listener.wait_for(1)[0]
    assert body == letter["payload"]
    wait_idle(client)
    assert deliveries(client, "dead") == []
    [row] = deliveries(client, "delivered")
    assert row["id"] == letter["id"]
    assert row["payload"]["eventId"] == letter["payload"]["eventId"]

    # a delivered one may be re-sent too (a receiver that lost it asks again); same eventId
    assert client.post(f"/admin/deliveries/{letter['id']}/redeliver").status_code == 202
    bodies = listener.wait_for(2)
    assert bodies[1]["eventId"] == letter["payload"]["eventId"]


def test_dead_letter_does_not_block_later_events(client: TestClient, listener: Listener) -> None:
    listener.fail()
    add_hub(client, listener.url)
    doomed = create_offering(client, "Doomed")["id"]
    [letter] = wait_dead(client, 1)
    listener.recover()
    later = create_offering(client, "Later")["id"]
    listener.wait_for(1)
    wait_idle(client)
    assert summary(listener.bodies) == [("ProductOfferingCreateEvent", later)]
    assert client.post(f"/admin/deliveries/{letter['id']}/redeliver").status_code == 202
    listener.wait_for(2)
    assert summary(listener.bodies)[1] == ("ProductOfferingCreateEvent", doomed)


def test_one_failing_hub_does_not_delay_another(
    client: TestClient, listener: Listener, other_listener: Listener
) -> None:
    listener.fail()
    add_hub(client, listener.url)
    add_hub(client, other_listener.url)
    ids = [create_offering(client, f"Split {i}")["id"] for i in range(3)]
    other_listener.wait_for(3, timeout=5)
    assert summary(other_listener.bodies) == [("ProductOfferingCreateEvent", i) for i in ids]
    assert listener.bodies == []
    wait_dead(client, 3)


def test_admin_deliveries_rejects_unknown_status_and_ids(client: TestClient) -> None:
    assert_error(client.get("/admin/deliveries", params={"status": "lost"}), 400, spec=SPEC)
    assert_error(client.post("/admin/deliveries/999999/redeliver"), 404, spec=SPEC)
    assert_error(client.post("/admin/deliveries/abc/redeliver"), 404, spec=SPEC)


def test_pending_delivery_cannot_be_redelivered(client: TestClient, listener: Listener) -> None:
    listener.fail()
    add_hub(client, listener.url)
    create_offering(client, "Pending")
    listener.wait_requests(1)
    [row] = deliveries(client, "pending")
    assert_error(client.post(f"/admin/deliveries/{row['id']}/redeliver"), 404, spec=SPEC)


def test_many_hubs_all_receive_promptly(client: TestClient, listener: Listener) -> None:
    """More subscriptions than one dispatcher batch (64): every one is served in the next rounds."""
    n = 70
    for i in range(n):
        add_hub(client, f"{listener.url}/{i}")
    create_offering(client, "Broadcast")
    listener.wait_for(n, timeout=5)
    assert sorted(r.path for r in listener.accepted) == sorted(f"/listener/{i}" for i in range(n))


def test_redeliver_after_the_hub_was_deleted(client: TestClient, listener: Listener) -> None:
    listener.fail()
    hub = add_hub(client, listener.url)
    create_offering(client, "Orphan")
    [letter] = wait_dead(client, 1)
    assert client.delete(f"{HUB}/{hub}").status_code == 204
    assert_error(client.post(f"/admin/deliveries/{letter['id']}/redeliver"), 404, spec=SPEC)

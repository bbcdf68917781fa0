"""TMF622 state machines: the tables of ``states.py`` edge by edge, ``roll_up``, and what a client
may change on a submitted order through PATCH and DELETE.

An order waits in inProgress (its items pending) when its ``requestedStartDate`` lies in
the future, which is how these tests hold one still while they poke at it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.support.assertions import TMF622_SPEC, assert_error, definitions
from tests.support.database import fresh_database_url
from tests.support.ordering import (
    ORDERS,
    add,
    assert_622,
    customer,
    get_order,
    iso,
    load_demo,
    notes,
    order,
    place,
    post_cancel,
    post_order,
    wait_cancel,
    wait_state,
)
from tmfstack.apis.ordering import states
from tmfstack.engine.lifecycle import StateMachine
from tmfstack.errors import InvalidTransition
from tmfstack.settings import Settings
from tmfstack.web.app import create_app

MACHINES: dict[str, StateMachine] = {"order": states.ORDER, "item": states.ITEM, "cancel": states.CANCEL}
ROWS = [(name, old) for name, machine in MACHINES.items() for old in sorted(machine.states)]
CLIENT_MOVES = {("inProgress", "held"), ("held", "inProgress"), ("inProgress", "pending"), ("pending", "inProgress")}


# -- the tables, unit level ----------------------------------------------------------------


@pytest.mark.parametrize(("name", "old"), ROWS, ids=[f"{n}:{s}" for n, s in ROWS])
def test_every_edge_allowed_and_every_missing_edge_refused(name: str, old: str) -> None:
    machine = MACHINES[name]
    for new in sorted(machine.states):
        if new == old or new in machine.transitions[old]:
            assert machine.can(old, new)
            machine.check(old, new)
            continue
        assert not machine.can(old, new), (old, new)
        with pytest.raises(InvalidTransition) as refused:
            machine.check(old, new)
        assert refused.value.status == 409 and refused.value.code == "INVALID_TRANSITION"
        assert repr(old) in refused.value.message and repr(new) in refused.value.message
    for unknown in ("", "done-ish", "PARTIAL-ish"):
        assert not machine.can(old, unknown)


def test_state_sets_are_the_spec_enums() -> None:
    defs = definitions(TMF622_SPEC)
    assert states.ORDER.states == set(defs["ProductOrderStateType"]["enum"])
    assert states.ITEM.states == set(defs["ProductOrderItemStateType"]["enum"])
    assert states.CANCEL.states == set(defs["TaskStateType"]["enum"])
    assert states.ORDER.initial == states.ITEM.initial == states.CANCEL.initial == "acknowledged"
    assert states.ORDER.creatable == {"acknowledged"} and states.CANCEL.creatable == {"acknowledged"}


def test_item_table_is_the_order_table_without_partial() -> None:
    for old, nexts in states.ITEM.transitions.items():
        assert nexts == states.ORDER.transitions[old] - {"partial"}, old
    assert "partial" not in states.ITEM.states


@pytest.mark.parametrize("name", sorted(MACHINES))
def test_tables_are_connected(name: str) -> None:
    """Every state is reachable from the initial one, and every state can still end."""
    machine = MACHINES[name]
    table = machine.transitions
    finals = {s for s, nexts in table.items() if not nexts}
    reached, todo = set(), [machine.initial]
    while todo:
        state = todo.pop()
        if state not in reached:
            reached.add(state)
            todo.extend(table[state])
    assert reached == machine.states, machine.states - reached
    for state in machine.states:
        seen, todo = set(), [state]
        while todo:
            s = todo.pop()
            if s not in seen:
                seen.add(s)
                todo.extend(table[s])
        assert seen & finals, f"{name}: no way to end from {state}"


def test_terminal_sets_are_the_states_without_exits() -> None:
    assert {s for s, n in states.ORDER.transitions.items() if not n} == states.TERMINAL
    assert {s for s, n in states.ITEM.transitions.items() if not n} == states.ITEM_TERMINAL
    assert {s for s, n in states.CANCEL.transitions.items() if not n} == {"done", "terminatedWithError"}


def test_a_denied_cancellation_goes_back_where_it_came_from() -> None:
    table = states.ORDER.transitions
    came_from = {s for s, nexts in table.items() if "assessingCancellation" in nexts}
    assert came_from == {"acknowledged", "inProgress", "pending", "held"}
    assert came_from <= table["assessingCancellation"]


def test_client_moves_are_moves_the_order_machine_allows() -> None:
    assert set(states.CLIENT_MOVES) == CLIENT_MOVES
    for old, new in states.CLIENT_MOVES:
        states.ORDER.check(old, new)
        states.check_client_move(old, new)


@pytest.mark.parametrize("old", sorted(states.ORDER.states))
def test_check_client_move_refuses_everything_else(old: str) -> None:
    states.check_client_move(old, old)  # not a move
    for new in sorted(states.ORDER.states - {old}):
        if (old, new) in CLIENT_MOVES:
            continue
        with pytest.raises(InvalidTransition) as refused:
            states.check_client_move(old, new)
        message = refused.value.message
        assert repr(old) in message and repr(new) in message and "client" in message
        allowed = sorted(n for o, n in CLIENT_MOVES if o == old)
        assert all(a in message for a in allowed) if allowed else "order manager" in message


ROLL_UP = [
    ([], None),
    (["completed"], "completed"),
    (["completed", "completed", "completed"], "completed"),
    (["failed"], "failed"),
    (["failed", "failed"], "failed"),
    (["rejected"], "failed"),
    (["failed", "rejected"], "failed"),
    (["cancelled", "cancelled"], "cancelled"),
    (["completed", "failed"], "partial"),
    (["failed", "completed", "completed"], "partial"),
    (["completed", "rejected"], "partial"),
    (["completed", "cancelled"], "partial"),
    (["completed", "inProgress"], None),
    (["completed", "pending"], None),
    (["completed", "held"], None),
    (["failed", "acknowledged"], None),
    (["completed", "assessingCancellation"], None),
    (["cancelled", "pendingCancellation"], None),
    (["inProgress", "inProgress"], None),
    (["partial"], None),  # not an item state
]


@pytest.mark.parametrize(("items", "expected"), ROLL_UP, ids=["+".join(i) or "none" for i, _ in ROLL_UP])
def test_roll_up(items: list[str], expected: str | None) -> None:
    assert states.roll_up(items) == expected
    assert states.roll_up(list(reversed(items))) == expected


# -- through HTTP --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """One app with the demo catalog for the module; each test orders for its own customer."""
    folder: Path = tmp_path_factory.mktemp("order_states")
    url = fresh_database_url(folder, "states.db")
    settings = Settings(database_url=url, public_url="http://testserver", export_dir=folder / "exports")
    with TestClient(create_app(settings)) as client:
        load_demo(client)
        yield client


def waiting(client: TestClient, start_in: float = 3600) -> dict[str, Any]:
    """An order in inProgress whose item waits (pending) for a requested start ``start_in`` seconds ahead."""
    doc = post_order(client, order(add("1", "po-fibre-500"), customer=customer(), requestedStartDate=iso(start_in)))
    doc = wait_state(client, doc["id"], "inProgress")
    assert [i["state"] for i in doc["productOrderItem"]] == ["pending"]
    return doc


def completed(client: TestClient) -> dict[str, Any]:
    doc = place(client, order(add("1", "po-fibre-500"), customer=customer()))
    assert doc["state"] == "completed", notes(doc)
    return doc


def patch(client: TestClient, order_id: str, body: Any, content_type: str | None = None) -> Any:
    if content_type is None:
        return client.patch(f"{ORDERS}/{order_id}", json=body)
    return client.patch(f"{ORDERS}/{order_id}", content=json.dumps(body), headers={"content-type": content_type})


def moved(client: TestClient, order_id: str, state: str, stays: bool = True) -> dict[str, Any]:
    r = patch(client, order_id, {"state": state})
    assert r.status_code == 200, r.text
    doc = r.json()
    assert_622("ProductOrder", doc)
    assert doc["state"] == state
    if stays:
        assert get_order(client, order_id)["state"] == state
    return doc


def test_allowed_client_moves(shop: TestClient) -> None:
    doc = waiting(shop)
    moved(shop, doc["id"], "held")
    moved(shop, doc["id"], "inProgress")
    moved(shop, doc["id"], "pending")
    moved(shop, doc["id"], "inProgress")
    after = get_order(shop, doc["id"])
    assert [i["state"] for i in after["productOrderItem"]] == ["pending"]  # still waiting for its start
    assert after["productOrderItem"] == doc["productOrderItem"]


def refuse_every_other_state(client: TestClient, doc: dict[str, Any], codes: set[str]) -> None:
    current = doc["state"]
    for target in sorted(states.ORDER.states - {current}):
        if (current, target) in CLIENT_MOVES:
            continue
        r = patch(client, doc["id"], {"state": target})
        body = assert_error(r, 409)
        assert body["code"] in codes, (target, body)
        assert current in body["message"], body
        if body["code"] == "INVALID_TRANSITION":
            assert repr(target) in body["message"], body
    assert get_order(client, doc["id"]) == doc


@pytest.mark.parametrize("start", ["inProgress", "held", "pending"])
def test_other_state_changes_of_an_open_order_are_refused(shop: TestClient, start: str) -> None:
    doc = waiting(shop)
    if start != "inProgress":
        doc = moved(shop, doc["id"], start)
    refuse_every_other_state(shop, get_order(shop, doc["id"]), {"INVALID_TRANSITION"})


@pytest.mark.parametrize("end", ["completed", "rejected", "cancelled"])
def test_state_changes_of_a_closed_order_are_refused(shop: TestClient, end: str) -> None:
    if end == "completed":
        doc = completed(shop)
    elif end == "rejected":
        doc = place(shop, order(add("1", "po-no-such-offering"), customer=customer()))
    else:
        doc = waiting(shop)
        assert wait_cancel(shop, post_cancel(shop, doc["id"])["id"])["state"] == "done"
        doc = get_order(shop, doc["id"])
    assert doc["state"] == end
    # a closed order answers that only notes can be added (ORDER_CLOSED) or that the move is refused
    refuse_every_other_state(shop, doc, {"INVALID_TRANSITION", "ORDER_CLOSED"})


@pytest.mark.parametrize(("value", "status"), [("bogus", 400), ("Held", 200)])
def test_state_value_is_read_like_everywhere_else(shop: TestClient, value: str, status: int) -> None:
    doc = waiting(shop)
    r = patch(shop, doc["id"], {"state": value})
    if status == 400:
        assert_error(r, 400, "INVALID_VALUE")
    else:
        assert r.status_code == 200, r.text
        assert r.json()["state"] == "held"


READ_ONLY = [
    {"productOrderItem": [add("1", "po-fibre-1000")]},
    {"orderTotalPrice": []},
    {"relatedParty": [{"id": "someone-else", "role": "customer", "@referredType": "Individual"}]},
    {"billingAccount": {"id": "ba-other"}},
    {"completionDate": "2030-01-01T00:00:00Z"},
    {"expectedCompletionDate": "2030-01-01T00:00:00Z"},
    {"cancellationDate": "2030-01-01T00:00:00Z"},
    {"cancellationReason": "because"},
    {"orderDate": "2020-01-01T00:00:00Z"},
    {"href": "http://elsewhere/order/1"},
    {"id": "another-id"},
]


@pytest.mark.parametrize("body", READ_ONLY, ids=[next(iter(b)) for b in READ_ONLY])
def test_patch_of_the_order_itself_or_server_owned_attributes_is_refused(shop: TestClient, body: Any) -> None:
    doc = waiting(shop)
    r = patch(shop, doc["id"], {**body, "description": "should not stick"})
    error = assert_error(r, 400, "READ_ONLY_ATTRIBUTE")
    assert next(iter(body)) in error["message"]
    assert get_order(shop, doc["id"]) == doc


def test_json_patch_of_an_item_state_is_refused(shop: TestClient) -> None:
    doc = waiting(shop)
    ops = [{"op": "replace", "path": "/productOrderItem/0/state", "value": "completed"}]
    error = assert_error(patch(shop, doc["id"], ops, "application/json-patch+json"), 400, "READ_ONLY_ATTRIBUTE")
    assert "productOrderItem" in error["message"]
    assert get_order(shop, doc["id"]) == doc


def test_client_attributes_of_an_open_order_can_change(shop: TestClient) -> None:
    doc = waiting(shop)
    r = patch(
        shop, doc["id"], {"description": "for the flat", "externalId": "ext-9", "priority": "1", "category": "b2c"}
    )
    assert r.status_code == 200, r.text
    after = r.json()
    assert_622("ProductOrder", after)
    assert (after["description"], after["externalId"], after["priority"], after["category"]) == (
        "for the flat",
        "ext-9",
        "1",
        "b2c",
    )
    assert after["state"] == "inProgress"


def test_notes_can_be_added_even_to_a_completed_order(shop: TestClient) -> None:
    doc = completed(shop)
    history = doc["note"]
    assert history, "the order manager writes its history into note"
    mine = {"author": "back office", "text": "customer called, all good", "@type": "Note"}
    r = patch(shop, doc["id"], {"note": [*history, mine]})
    assert r.status_code == 200, r.text
    after = r.json()
    assert_622("ProductOrder", after)
    assert after["note"][: len(history)] == history
    assert after["note"][-1]["text"] == "customer called, all good"
    assert after["state"] == "completed"
    assert {k: v for k, v in after.items() if k != "note"} == {k: v for k, v in doc.items() if k != "note"}
    # anything else on a completed order is refused
    error = assert_error(patch(shop, doc["id"], {"description": "late"}), 409)
    assert "completed" in error["message"]


def test_a_note_patch_cannot_erase_the_order_history(shop: TestClient) -> None:
    doc = completed(shop)
    history = [n for n in doc["note"] if n.get("author") == "order manager"]
    assert history
    r = patch(shop, doc["id"], {"note": [{"text": "only my note"}]})
    kept = get_order(shop, doc["id"])["note"]
    assert r.status_code >= 400 or all(n in kept for n in history), kept


def test_requested_start_can_move_while_the_items_wait(shop: TestClient) -> None:
    doc = waiting(shop)
    later = iso(7200)
    r = patch(shop, doc["id"], {"requestedStartDate": later, "requestedCompletionDate": iso(9000)})
    assert r.status_code == 200, r.text
    assert r.json()["requestedStartDate"] == later
    assert wait_state(shop, doc["id"], "inProgress")["productOrderItem"][0]["state"] == "pending"


def test_moving_the_requested_start_to_now_starts_the_order(shop: TestClient) -> None:
    doc = waiting(shop)
    r = patch(shop, doc["id"], {"requestedStartDate": iso(-1)})
    assert r.status_code == 200, r.text
    done = wait_state(shop, doc["id"], states.TERMINAL, timeout=5)
    assert done["state"] == "completed", notes(done)


def test_requested_start_cannot_change_once_processing_started(shop: TestClient) -> None:
    doc = completed(shop)
    for body in ({"requestedStartDate": iso(60)}, {"requestedCompletionDate": iso(60)}):
        error = assert_error(patch(shop, doc["id"], body), 409)
        assert next(iter(body)) in error["message"] or "completed" in error["message"], error
    assert get_order(shop, doc["id"]) == doc


def test_a_held_order_waits_past_its_start_until_released(shop: TestClient) -> None:
    doc = waiting(shop, start_in=1.0)
    moved(shop, doc["id"], "held")
    time.sleep(1.6)  # the start passes while held: the order manager leaves it alone
    held = get_order(shop, doc["id"])
    assert held["state"] == "held" and held["productOrderItem"][0]["state"] == "pending"
    moved(shop, doc["id"], "inProgress", stays=False)  # released: the order manager takes it up at once
    done = wait_state(shop, doc["id"], states.TERMINAL, timeout=5)
    assert done["state"] == "completed", notes(done)


def test_delete_of_an_open_order_is_refused(shop: TestClient) -> None:
    doc = waiting(shop)
    for state in ("inProgress", "held", "pending"):
        if state != "inProgress":
            moved(shop, doc["id"], state)
        error = assert_error(shop.delete(f"{ORDERS}/{doc['id']}"), 409)
        assert state in error["message"] and "cancel" in error["message"], error
        assert get_order(shop, doc["id"])["state"] == state
        if state != "inProgress":
            moved(shop, doc["id"], "inProgress")


@pytest.mark.parametrize("end", ["completed", "rejected"])
def test_delete_of_a_closed_order(shop: TestClient, end: str) -> None:
    body = order(add("1", "po-fibre-500" if end == "completed" else "po-nope"), customer=customer())
    doc = place(shop, body)
    assert doc["state"] == end
    r = shop.delete(f"{ORDERS}/{doc['id']}")
    assert r.status_code == 204, r.text
    assert r.content == b""
    assert_error(shop.get(f"{ORDERS}/{doc['id']}"), 404)
    assert_error(shop.delete(f"{ORDERS}/{doc['id']}"), 404)


def test_patch_and_delete_of_an_unknown_order(shop: TestClient) -> None:
    assert_error(patch(shop, "no-such-order", {"note": [{"text": "x"}]}), 404)
    assert_error(shop.delete(f"{ORDERS}/no-such-order"), 404)

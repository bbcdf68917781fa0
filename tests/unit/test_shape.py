"""The mapping between a stored document and a served version (``engine/shape.py``), on a small
schema written here: rules placed where the served schema has the attribute, ``@type`` named by
position, polymorphic options chosen by ``@type`` (or by shape without one), and the round trip."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tmfstack.apis.generations import RELATED_PARTY
from tmfstack.engine.shape import Attr, Plan, accept, path, render

REF = {"type": "object", "properties": {"id": {"type": "string"}, "name": {"type": "string"}}}
DEFS: dict[str, Any] = {
    "Extensible": {"type": "object", "properties": {"@type": {"type": "string"}}, "required": ["@type"]},
    "ThingRef": {"allOf": [{"$ref": "#/definitions/Extensible"}, REF]},
    "Thing": {"allOf": [{"$ref": "#/definitions/Extensible"}, REF, {"properties": {"size": {"type": "integer"}}}]},
    "ThingRefOrValue": {
        "oneOf": [{"$ref": "#/definitions/Thing"}, {"$ref": "#/definitions/ThingRef"}],
        "discriminator": {"mapping": {"Thing": "#/definitions/Thing", "ThingRef": "#/definitions/ThingRef"}},
    },
    "PartyRef": {"allOf": [{"$ref": "#/definitions/ThingRef"}]},
    "RelatedPartyRefOrPartyRoleRef": {
        "allOf": [
            {"$ref": "#/definitions/Extensible"},
            {"properties": {"role": {"type": "string"}, "partyOrPartyRole": {"$ref": "#/definitions/PartyRef"}}},
        ]
    },
    "Order": {
        "allOf": [
            {"$ref": "#/definitions/Extensible"},
            {
                "properties": {
                    "id": {"type": "string"},
                    "creationDate": {"type": "string"},
                    "state": {"type": "string"},
                    "thing": {"type": "array", "items": {"$ref": "#/definitions/ThingRefOrValue"}},
                    "relatedParty": {"type": "array", "items": {"$ref": "#/definitions/RelatedPartyRefOrPartyRoleRef"}},
                }
            },
        ]
    },
}
RULES = (
    RELATED_PARTY,
    Attr("creationDate", canonical="orderDate"),
    Attr("state", values={"enable": "enabled"}, at=frozenset({"Order"})),
)


def order_node() -> Any:
    return Plan(DEFS, RULES).node("Order")


def test_renames_wraps_and_literals_apply_where_the_served_schema_has_them() -> None:
    stored = {
        "id": "o1",
        "orderDate": "2026-01-01",
        "state": "enable",
        "relatedParty": [{"id": "c1", "role": "customer", "@referredType": "Individual"}],
        "thing": [{"id": "t1"}, {"id": "t2", "size": 3}],
    }
    shown = render(order_node(), stored)
    assert shown == {
        "id": "o1",
        "creationDate": "2026-01-01",
        "state": "enabled",
        "relatedParty": [
            {
                "partyOrPartyRole": {"id": "c1", "@referredType": "Individual", "@type": "PartyRef"},
                "role": "customer",
                "@type": "RelatedPartyRefOrPartyRoleRef",
            }
        ],
        # no @type: a reference when it has no more than a reference's attributes, else the value
        "thing": [{"id": "t1", "@type": "ThingRef"}, {"id": "t2", "size": 3, "@type": "Thing"}],
        "@type": "Order",
    }
    back = accept(order_node(), shown)
    assert back["orderDate"] == "2026-01-01" and back["state"] == "enable"
    assert back["relatedParty"] == stored["relatedParty"]


def test_unplaced_rules_and_unknown_attributes_pass_through() -> None:
    plan = Plan(DEFS, (Attr("nowhere", canonical="elsewhere"),))
    shown = render(plan.node("Order"), {"elsewhere": 1, "extension": {"a": 1}})
    assert shown == {"elsewhere": 1, "extension": {"a": 1}, "@type": "Order"}


def test_without_required_types_nothing_is_added() -> None:
    plan = Plan(DEFS, RULES, typed=False)
    assert render(plan.node("Order"), {"id": "o", "thing": [{"id": "t"}]}) == {"id": "o", "thing": [{"id": "t"}]}


def test_served_paths_map_to_stored_paths() -> None:
    node = order_node()
    assert path(node, ("relatedParty", "partyOrPartyRole", "id")) == (("relatedParty", "id"), None)
    assert path(node, ("relatedParty", "role"))[0] == ("relatedParty", "role")
    assert path(node, ("creationDate",))[0] == ("orderDate",)
    stored, rule = path(node, ("state",))
    assert stored == ("state",) and rule is not None and rule.reverse == {"enabled": "enable"}
    assert path(node, ("thing", "id"))[0] == ("thing", "id")


party = st.fixed_dictionaries(  # as v4 stores it: id and @referredType required
    {
        "id": st.text(min_size=1, max_size=8),
        "@referredType": st.sampled_from(["Individual", "Organization", "Supplier"]),
    },
    optional={"role": st.sampled_from(["customer", "Seller", "bill receiver"]), "name": st.text(max_size=8)},
)


@given(parties=st.lists(party, max_size=4), date=st.text(max_size=10), state=st.sampled_from(["enable", "x"]))
def test_a_stored_document_survives_the_round_trip(parties: list[dict[str, str]], date: str, state: str) -> None:
    stored = {"id": "o", "orderDate": date, "state": state, "relatedParty": parties, "@type": "Order"}
    assert accept(order_node(), render(order_node(), stored)) == stored

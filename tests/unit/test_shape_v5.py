"""Engine pieces of a served version that need no server: plans over a dispatched ``X | XRef``
and the dotted ``dropped`` paths of a create body."""

from __future__ import annotations

import pytest

from tmfstack.engine.contract import load_contract
from tmfstack.engine.served import without
from tmfstack.engine.shape import Plan, render


@pytest.mark.parametrize(
    ("stored", "shown_as"),
    [
        ({"id": "p-1", "href": "/p/p-1"}, "ProductRef"),  # no more than a reference
        ({"productCharacteristic": [{"name": "MSISDN", "value": "+43664"}]}, "Product"),  # a value
        ({"id": "p-1", "status": "active"}, "Product"),
        ({"id": "p-1", "@type": "ProductRef"}, "ProductRef"),  # said by the client
    ],
)
def test_a_dispatched_ref_or_value_picks_its_option(stored: dict[str, object], shown_as: str) -> None:
    # 622v5 ProductRefOrValue is generated as an @type dispatch whose plain form (__base) is the oneOf
    plan = Plan(load_contract("tmf622_v5").definitions)
    assert render(plan.node("ProductRefOrValue"), stored)["@type"] == shown_as


def test_dropped_paths_reach_through_objects_and_arrays() -> None:
    body = {
        "lastUpdate": "x",
        "item": [{"id": "1", "state": "s", "item": [{"id": "1.1", "state": "s"}]}, "plain"],
        "ref": {"state": "kept", "id": "r"},
    }
    paths = frozenset({"lastUpdate", "item.state", "item.item.state", "ref.id"})
    assert without(body, paths) == {
        "item": [{"id": "1", "item": [{"id": "1.1"}]}, "plain"],
        "ref": {"state": "kept"},
    }
    assert body["item"][0]["state"] == "s"  # a copy: the request body is left as it was
    assert without(body, frozenset()) is body

"""``Attr.not_at``: a rule is not placed in the schemas it names (a v5 wrapper that repeats the
attribute's name, ``RelatedPlaceRef {role, place}`` served where v4 has ``place``)."""

from __future__ import annotations

from typing import Any

import pytest

from tmfstack.engine.shape import Attr, Plan, accept, path, render

DEFS: dict[str, Any] = {
    "Thing": {"properties": {"name": {"type": "string"}, "place": {"items": {"$ref": "#/definitions/Wrapper"}}}},
    "Wrapper": {"properties": {"role": {"type": "string"}, "place": {"$ref": "#/definitions/PlaceRef"}}},
    "PlaceRef": {"properties": {"id": {"type": "string"}}},
}


def wrap(item: Any) -> Any:
    return [{"role": p["role"], "place": {"id": p["id"]}} for p in item]


def flat(item: Any) -> Any:
    return [{"role": p["role"], "id": p["place"]["id"]} for p in item]


@pytest.mark.parametrize(("not_at", "wrapped_twice"), [(frozenset({"Wrapper"}), False), (frozenset(), True)])
def test_a_rule_skips_the_schemas_it_is_not_at(not_at: frozenset[str], wrapped_twice: bool) -> None:
    rule = Attr("place", out=wrap, into=flat, paths={"place.id": "id"}, not_at=not_at)
    node = Plan(DEFS, (rule,)).node("Thing")
    stored = {"name": "n", "place": [{"role": "site", "id": "p1"}]}
    if wrapped_twice:  # the inner ``place`` (an object) went through the list rule too
        with pytest.raises(TypeError):
            render(node, stored)
        return
    shown = render(node, stored)
    assert shown["place"] == [{"role": "site", "place": {"id": "p1", "@type": "PlaceRef"}, "@type": "Wrapper"}]
    assert accept(node, shown)["place"] == [{"role": "site", "id": "p1"}]
    assert path(node, ("place", "place", "id")) == (("place", "id"), None)

"""Where a product is, v4 -> v5: v4 ``RelatedPlaceRefOrValue`` is the place's own attributes and a
``role``; v5 wraps the place: ``{role, place: PlaceRef | GeographicAddress | ...}``.

An item's ``product.place`` (``PRODUCT_PLACE``) in a TMF679 v5 check (and a query's ``searchCriteria.product``), as the
qualification rules read it (``eligibility._place_of``). TMF622 v5 maps its items' places alike;
shared by more families, this belongs in ``apis/generations.py``.
"""

from __future__ import annotations

from typing import Any

from ...engine.shape import Attr
from ...tmf import Doc

#: attributes of a v5 entry that are the entry's own (the rest is the place itself)
_OWN = ("role", "@type", "@baseType", "@schemaLocation")
_REF = frozenset({"id", "href", "name", "@referredType"})


def _out(entry: Any) -> Any:
    if not isinstance(entry, dict) or isinstance(entry.get("place"), dict):
        return entry
    place = {k: v for k, v in entry.items() if k not in _OWN}
    kind = entry.get("@type")  # a v4 entry typed by its place (GeographicAddress…), or by itself
    if set(place) <= _REF:
        place["@type"] = "PlaceRef"
    else:
        named = place.pop("@referredType", None)
        place["@type"] = kind if kind and not str(kind).startswith("Related") else named or "GeographicAddress"
    out: Doc = {"place": place, "@type": "RelatedPlaceRefOrValue"}
    if "role" in entry:
        out["role"] = entry["role"]
    return out


def _in(entry: Any) -> Any:
    if not isinstance(entry, dict) or not isinstance(entry.get("place"), dict):
        return entry
    place = dict(entry["place"])
    kind = place.pop("@type", None)
    if kind is not None and kind != "PlaceRef":
        place["@type"] = kind  # as a v4 client types a place value
    if "role" in entry:
        place["role"] = entry["role"]
    return place


def _each(convert: Any) -> Any:
    return lambda value: [convert(v) for v in value] if isinstance(value, list) else convert(value)


PLACE = Attr("place", out=_each(_out), into=_each(_in), paths={f"place.{k}": k for k in ("id", "href", "name")})


def _product(convert: Any, typed: bool) -> Any:
    def product(value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        out = {**value, "place": convert(value["place"])} if "place" in value else dict(value)
        if typed and "@type" not in out:  # v5 tells a product from a reference to one by @type
            out["@type"] = "ProductRef" if set(out) <= _REF else "Product"
        return out

    return product


#: an item's ``product`` with its places mapped: placed on the item, as a product without ``@type``
#: (a v4 item's) is a ``ProductRefOrValue`` whose plan has no ``place`` to place ``PLACE`` on
PRODUCT_PLACE = Attr(
    "product",
    out=_product(PLACE.render, typed=True),
    into=_product(PLACE.accept, typed=False),
    paths={f"place.place.{k}": f"place.{k}" for k in ("id", "href", "name")},
)

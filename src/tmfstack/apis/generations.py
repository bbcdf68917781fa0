"""What changed between TM Forum API generations for every API alike (v4 -> v5), as ``Attr`` rules.

An API's version module (``apis/<family>/tmfNNN_v5.py``) lists these with its own differences;
the engine places each rule wherever the served schema has the attribute (``engine/shape.py``).

- ``RELATED_PARTY``: v4 ``RelatedParty {id, href, name, role, @referredType}`` is v5
  ``RelatedPartyRefOrPartyRoleRef {role, partyOrPartyRole: PartyRef | PartyRoleRef}`` (637:
  ``RelatedPartyOrPartyRole``, same attributes); a filter on ``relatedParty.partyOrPartyRole.id``
  is one on the stored ``relatedParty.id`` (its index included).
- ``CHARACTERISTIC``: v4 ``Characteristic {name, value}`` is one class; v5 dispatches on ``@type``
  (``StringCharacteristic``, ``IntegerCharacteristic``, ``ObjectArrayCharacteristic``…). A stored
  characteristic without ``@type`` is shown with the one its value's JSON type names; a v5 body's
  ``@type`` is stored as given (v4 allows it). One rule per attribute name that holds
  characteristics (``CHARACTERISTIC_ATTRS``), applied wherever a served schema has it.
- ``related(served, inner, ...)``: a v4 flat reference with a ``role`` that v5 wraps as
  ``{role, <inner>: XRef}`` (TMF638 ``relatedEntity``, TMF639 ``resourceRelationship``).
- ``RELATED_PLACE``: v4 ``RelatedPlaceRefOrValue`` (a place's own attributes, or a reference to
  one, and a ``role``) is v5 ``{role, place: PlaceRef | GeographicAddress | GeographicSite …}``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ..engine.shape import Attr
from ..tmf import Doc

#: ``@referredType`` values that name a party role (a ``PartyRoleRef`` in v5), not a party
PARTY_ROLES = frozenset({"PartyRole", "Supplier", "BusinessPartner", "Consumer", "Producer"})
_REF = ("id", "href", "name", "@referredType")


def _party_out(item: Any) -> Any:
    if not isinstance(item, dict) or "partyOrPartyRole" in item:
        return item
    ref: Doc = {k: item[k] for k in _REF if k in item}
    ref["@type"] = "PartyRoleRef" if item.get("@referredType") in PARTY_ROLES else "PartyRef"
    out: Doc = {"partyOrPartyRole": ref}
    if "role" in item:
        out["role"] = item["role"]
    return out


def _party_in(item: Any) -> Any:
    if not isinstance(item, dict) or not isinstance(item.get("partyOrPartyRole"), dict):
        return item
    inner = item["partyOrPartyRole"]
    out: Doc = {k: inner[k] for k in ("id", "href", "name") if k in inner}
    # v4 requires @referredType: a v5 reference that omits it names its kind by @type ("PartyRef": a Party)
    kind = inner.get("@type")
    referred = inner.get("@referredType") or (kind.removesuffix("Ref") if isinstance(kind, str) else None)
    if referred:
        out["@referredType"] = referred
    if "role" in item:
        out["role"] = item["role"]
    return out


def each(convert: Any) -> Any:
    """``convert`` applied to a value or to each item of a list of them."""
    return lambda value: [convert(v) for v in value] if isinstance(value, list) else convert(value)


RELATED_PARTY = Attr(
    "relatedParty",
    out=each(_party_out),
    into=each(_party_in),
    paths={f"partyOrPartyRole.{k}": k for k in _REF},
)


def value_kind(value: Any) -> str | None:
    """The v5 name of a JSON value's kind, as typed characteristics and values spell it."""
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int):
        return "Integer"
    if isinstance(value, float):
        return "Number"
    if isinstance(value, str):
        return "String"
    if isinstance(value, dict):
        return "Object"
    return None


def characteristic_type(value: Any) -> str:
    """The v5 ``@type`` of a characteristic holding ``value`` (``Characteristic``: none fits,
    e.g. null or an array mixing kinds; an empty array is a ``StringArrayCharacteristic``)."""
    if isinstance(value, list):
        kinds = {value_kind(v) for v in value} or {"String"}
        if kinds == {"Integer", "Number"}:
            kinds = {"Number"}
        kind = kinds.pop() if len(kinds) == 1 else None
        return f"{kind}ArrayCharacteristic" if kind else "Characteristic"
    kind = value_kind(value)
    return f"{kind}Characteristic" if kind else "Characteristic"


def _characteristic_out(item: Any) -> Any:
    if not isinstance(item, dict) or "@type" in item or "value" not in item:
        return item
    return {**item, "@type": characteristic_type(item["value"])}


#: attribute names that hold a list of ``Characteristic`` in the nine v5 files
CHARACTERISTIC_ATTRS = (
    "characteristic",
    "productCharacteristic",
    "serviceCharacteristic",
    "resourceCharacteristic",
    "partyCharacteristic",
    "featureCharacteristic",
    "serviceRelationshipCharacteristic",
    "resourceRelationshipCharacteristic",
    "analyticCharacteristic",
    "autoModification",
)
#: where ``characteristic`` holds ``CharacteristicSpecification`` instead (620, 634)
_SPEC_RELATIONSHIPS = frozenset(
    f"{kind}SpecificationRelationship{form}" for kind in ("Product", "Resource") for form in ("", "_FVO", "_MVO")
)
CHARACTERISTIC = tuple(
    Attr(name, out=each(_characteristic_out), not_at=_SPEC_RELATIONSHIPS) for name in CHARACTERISTIC_ATTRS
)


def _referred(inner: Doc) -> Any:
    """A v5 reference's ``@referredType``; a value's ``@type`` (not ``XRef``) names it too."""
    kind = inner.get("@type")
    return inner.get("@referredType") or (kind if isinstance(kind, str) and not kind.endswith("Ref") else None)


def related(
    served: str,
    inner: str,
    ref_type: Callable[[Doc], str],
    keep: Iterable[str] = ("role",),
    not_at: Iterable[str] = (),
) -> Attr:
    """v4 ``{id, href, name, @referredType, <keep>}`` served as v5 ``{<keep>, <inner>: {id, href,
    name, @referredType, @type}}`` (``ref_type(v4 item)`` names the inner ``@type``; ``not_at``: the
    wrapper schemas, where ``served`` is ``inner`` itself)."""
    kept = tuple(keep)

    def out(item: Any) -> Any:
        if not isinstance(item, dict) or inner in item:
            return item
        ref: Doc = {k: item[k] for k in _REF if k in item}
        ref["@type"] = ref_type(item)
        wrapped: Doc = {k: item[k] for k in kept if k in item}
        wrapped[inner] = ref
        return wrapped

    def into(item: Any) -> Any:
        if not isinstance(item, dict) or not isinstance(item.get(inner), dict):
            return item
        ref = item[inner]
        flat: Doc = {k: ref[k] for k in ("id", "href", "name") if k in ref}
        referred = _referred(ref)
        if referred is not None:
            flat["@referredType"] = referred
        flat.update({k: item[k] for k in kept if k in item})
        return flat

    paths = {f"{inner}.{k}": k for k in _REF}
    return Attr(served, out=each(out), into=each(into), paths=paths, not_at=frozenset(not_at))


_PLACE_OWN = ("role", "@type", "@baseType", "@schemaLocation")  #: a v4 related place's own, not the place's
_ADDRESS = frozenset({"streetName", "streetNr", "postcode", "city", "country", "locality"})
#: schemas with an attribute ``place`` that is not a list of related places (the v5 wrapper's own
#: ``place``, a site's places): the rule is not placed there
_NOT_RELATED = frozenset(
    f"{kind}{form}"
    for kind in ("RelatedPlaceRef", "RelatedPlaceRefOrValue", "Place", "PlaceRefOrValue", "GeographicSite")
    for form in ("", "_FVO", "_MVO", "__base", "_FVO__base", "_MVO__base", "RefOrValue", "RefOrValue__base")
)


def _place_out(entry: Any) -> Any:
    """v4 ``{role, <the place: a reference or a value>}`` -> v5 ``{role, place: PlaceRef | <value type>}``."""
    if not isinstance(entry, dict) or isinstance(entry.get("place"), dict):
        return entry
    place = {k: v for k, v in entry.items() if k not in _PLACE_OWN}
    out: Doc = {k: entry[k] for k in ("role",) if k in entry}
    if set(place) <= set(_REF):
        place["@type"] = "PlaceRef"
    else:  # a value: its kind is v4's @referredType (or the entry's own @type), else an address by its fields
        kind = entry.get("@type")
        named = kind if isinstance(kind, str) and not kind.startswith("Related") else None
        place["@type"] = place.pop("@referredType", None) or named or "GeographicAddress"
    out["place"] = place
    return out


def _place_in(entry: Any) -> Any:
    if not isinstance(entry, dict) or not isinstance(entry.get("place"), dict):
        return entry
    place = dict(entry["place"])
    kind = place.pop("@type", None)
    if kind is not None and kind != "PlaceRef":
        place.setdefault("@referredType", kind)
    out: Doc = {**place}
    if "role" in entry:
        out["role"] = entry["role"]
    return out


#: v4 ``RelatedPlaceRefOrValue`` (the place's own attributes and a role) is v5 ``{role, place}``
#: (``RelatedPlaceRefOrValue`` in 622/637/638/679, ``RelatedPlaceRef`` in 639)
RELATED_PLACE = Attr(
    "place",
    out=each(_place_out),
    into=each(_place_in),
    paths={f"place.{k}": k for k in _REF},
    not_at=_NOT_RELATED,
)

#: every v4 -> v5 rule that holds for each API
V5_COMMON = (RELATED_PARTY, *CHARACTERISTIC)

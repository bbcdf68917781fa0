"""What changed between TM Forum API generations for every API alike (v4 -> v5), as ``Attr`` rules.

An API's version module (``apis/<family>/tmfNNN_v5.py``) lists these with its own differences;
the engine places each rule wherever the served schema has the attribute (``engine/shape.py``).

- ``RELATED_PARTY``: v4 ``RelatedParty {id, href, name, role, @referredType}`` is v5
  ``RelatedPartyRefOrPartyRoleRef {role, partyOrPartyRole: PartyRef | PartyRoleRef}`` (637:
  ``RelatedPartyOrPartyRole``, same attributes); a filter on ``relatedParty.partyOrPartyRole.id``
  is one on the stored ``relatedParty.id`` (its index included).
"""

from __future__ import annotations

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


def _each(convert: Any) -> Any:
    return lambda value: [convert(v) for v in value] if isinstance(value, list) else convert(value)


RELATED_PARTY = Attr(
    "relatedParty",
    out=_each(_party_out),
    into=_each(_party_in),
    paths={f"partyOrPartyRole.{k}": k for k in _REF},
)

#: every v4 -> v5 rule that holds for each API
V5_COMMON = (RELATED_PARTY,)

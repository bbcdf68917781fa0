"""Small readers and builders of TMF documents that several API families use (no family's own rules).

``ref`` makes an entity reference; ``customer_of`` finds the ordering customer of an order or a
qualification (``relatedParty``). They sit here, outside any family, so that ordering and
qualification share them without importing each other.
"""

from __future__ import annotations

from typing import Any

from ..engine.access import PARTNER_ROLE

Doc = dict[str, Any]


def ref(doc: Doc, referred: str | None = None) -> Doc:
    """A reference to ``doc``: its id, href and name (those it has), and ``@referredType``."""
    out = {k: doc[k] for k in ("id", "href", "name") if doc.get(k) is not None}
    if referred:
        out["@referredType"] = referred
    return out


def customer_of(order: Doc) -> Doc | None:
    """The ordering customer: the relatedParty with role customer, else the first relatedParty
    that is not the selling partner (``engine/access.py``: a partner never becomes its own customer)."""
    parties = [p for p in order.get("relatedParty") or [] if isinstance(p, dict)]
    for party in parties:
        if str(party.get("role", "")).casefold() == "customer":
            return party
    buyers = [p for p in parties if str(p.get("role", "")).strip().casefold() != PARTNER_ROLE.casefold()]
    return buyers[0] if buyers else None

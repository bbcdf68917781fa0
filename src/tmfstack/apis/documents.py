"""Small readers of TMF documents that several API families use (no family's own rules).

``customer_of`` finds the ordering customer of an order or a qualification (``relatedParty``). It
sits here, outside any family, so that ordering and qualification share it without importing each
other; an entity reference is ``tmf.ref``.
"""

from __future__ import annotations

from ..engine.access import PARTNER_ROLE
from ..tmf import Doc


def customer_of(order: Doc) -> Doc | None:
    """The ordering customer: the relatedParty with role customer, else the first relatedParty
    that is not the selling partner (``engine/access.py``: a partner never becomes its own customer)."""
    parties = [p for p in order.get("relatedParty") or [] if isinstance(p, dict)]
    for party in parties:
        if str(party.get("role", "")).casefold() == "customer":
            return party
    buyers = [p for p in parties if str(p.get("role", "")).strip().casefold() != PARTNER_ROLE.casefold()]
    return buyers[0] if buyers else None

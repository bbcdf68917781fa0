"""Partner isolation: what a client acting for a partner may see, and how its writes are marked.

A B2B partner (a reseller) sells through tmfstack with a client bound to its party. What
it creates carries the partner as a ``relatedParty`` in the role TM Forum's ordering
examples give the selling channel, ``Seller``; everything the order manager makes from a
partner's order (products, service and resource orders, services, resources) carries that
entry on. A partner sees a resource only when it names the partner as ``Seller``;
resources a declaration marks ``shared`` (catalogs) are seen by every client::

    mark({"relatedParty": [{"id": "cust-1", "role": "customer"}]}, "org-nordwind")
    -> relatedParty: [{"id": "cust-1", "role": "customer"},
                      {"id": "org-nordwind", "role": "Seller", "@referredType": "Organization"}]
    partners({...}) -> {"org-nordwind"}

Only the server writes ``Seller`` entries for a partner: a partner naming another seller is
refused, and an operator (a client bound to no party) may name any. The partner's ids are
kept in the reference index under ``PARTNER_PATH``, so a partner's list is an index lookup.
"""

from __future__ import annotations

from typing import Any

from ..errors import BadRequest

PARTNER_ROLE = "Seller"
#: the reference-index path holding the ids of a document's Seller parties
PARTNER_PATH = "@partner"
_ROLE = PARTNER_ROLE.casefold()


def _entries(doc: Any) -> list[dict[str, Any]]:
    value = doc.get("relatedParty") if isinstance(doc, dict) else None
    if isinstance(value, dict):
        return [value]
    return [p for p in value if isinstance(p, dict)] if isinstance(value, list) else []


def _party_id(entry: dict[str, Any]) -> Any:
    """The party of an entry: named by it (v4 ``RelatedParty``) or under ``partyOrPartyRole`` (v5,
    where a version's own resource is stored in its own shape)."""
    inner = entry.get("partyOrPartyRole")
    return inner.get("id") if isinstance(inner, dict) else entry.get("id")


def partners(doc: Any) -> set[str]:
    """Ids of the Seller parties a document names."""
    return {
        str(_party_id(p))
        for p in _entries(doc)
        if isinstance(_party_id(p), str) and str(p.get("role", "")).strip().casefold() == _ROLE
    }


def partner_of(doc: Any) -> str | None:
    """The one Seller a document names (the order manager carries it down the chain)."""
    found = partners(doc)
    return next(iter(found)) if len(found) == 1 else None


def seller(party: str) -> dict[str, str]:
    return {"id": party, "role": PARTNER_ROLE, "@referredType": "Organization"}


def with_partner(parties: list[dict[str, Any]], doc: Any) -> list[dict[str, Any]]:
    """``parties`` plus the Seller entry of ``doc`` (an order), for what is made from it."""
    party = partner_of(doc)
    if party is None or party in partners({"relatedParty": parties}):
        return parties
    return [*parties, seller(party)]


def visible(doc: Any, party: str | None) -> bool:
    return party is None or party in partners(doc)


def wrapped_seller(party: str, entry_type: str) -> dict[str, Any]:
    """The Seller entry in the v5 shape (``entry_type``: the related party schema's name)."""
    ref = {"id": party, "@referredType": "Organization", "@type": "PartyRef"}
    return {"role": PARTNER_ROLE, "partyOrPartyRole": ref, "@type": entry_type}


def mark(doc: dict[str, Any], party: str, entry_type: str | None = None) -> None:
    """Record ``party`` as the Seller of a document a partner client creates (in place);
    ``entry_type``: the document is stored in a v5 shape, its related parties of that schema."""
    others = partners(doc) - {party}
    if others:
        raise BadRequest(
            f"relatedParty names {', '.join(sorted(others))} as {PARTNER_ROLE}; a partner client acts for itself only",
            code="INVALID_PARTY",
        )
    value = doc.get("relatedParty")
    if value is not None and not isinstance(value, list):
        raise BadRequest("relatedParty must be an array for a partner client's request", code="INVALID_PARTY")
    if party not in partners(doc):
        entry = seller(party) if entry_type is None else wrapped_seller(party, entry_type)
        doc["relatedParty"] = [*(value or []), entry]


def check_kept(before: Any, after: Any) -> None:
    """A partner's change keeps its resources' Seller entries as they are."""
    if partners(after) != partners(before):
        raise BadRequest(
            f"the {PARTNER_ROLE} party of a resource is set by the server and cannot be changed",
            code="READ_ONLY_ATTRIBUTE",
        )

"""The parties this server knows (TMF632 individuals and organizations, TMF669 roles), as
orders, products and qualifications see them.

A reference to a party the server does not know is an external party and is recorded as
given; a known one must be active (not ``closed``, not deceased) and of the type the
reference claims. A customer's market segments are the values of the characteristic
``marketSegment`` on the party and on its roles.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ...engine import access
from ...tmf import Doc

if TYPE_CHECKING:
    from ...engine.core import Engine
    from ...engine.unit import Unit

PARTY = "tmf632"
PARTY_ROLES = "tmf669"
#: where a party id may be found, and the @referredType each answers to
_KINDS = (
    (PARTY, "individual", "Individual"),
    (PARTY, "organization", "Organization"),
    (PARTY_ROLES, "partyRole", "PartyRole"),
)
ENDED = frozenset({"closed", "deceaded", "deceased"})
SEGMENT = "marketsegment"


@dataclass(frozen=True)
class KnownParty:
    resource: str  #: individual, organization or partyRole
    type: str  #: its @referredType
    doc: Doc


class Directory:
    """Party lookups inside one unit of work, cached (an order names its customer many times)."""

    def __init__(self, engine: Engine, unit: Unit, partner: str | None = None) -> None:
        """``partner``: look up parties as that partner sees them (another's customer is unknown to it)."""
        self.engine, self.unit, self.partner = engine, unit, partner
        self._found: dict[str, KnownParty | None] = {}

    async def find(self, party_id: str) -> KnownParty | None:
        if party_id not in self._found:
            self._found[party_id] = None
            for api, resource, referred in _KINDS:
                doc = await self.engine.resource(api, resource).read(party_id, self.unit)
                if doc is not None and access.visible(doc, self.partner):
                    self._found[party_id] = KnownParty(resource, referred, doc)
                    break
        return self._found[party_id]

    async def problems(self, refs: Any) -> list[tuple[str, str]]:
        """(code, message) for each known party that is ended or not of the claimed type."""
        out = []
        for ref in refs if isinstance(refs, list) else []:
            if not isinstance(ref, dict) or not isinstance(ref.get("id"), str):
                continue
            known = await self.find(ref["id"])
            if known is None:
                continue  # external: recorded as given
            name = ref.get("name") or known.doc.get("name") or known.doc.get("fullName") or ref["id"]
            claimed = ref.get("@referredType")
            if claimed and claimed.casefold() not in {known.type.casefold(), known.resource.casefold()}:
                out.append(("PARTY_TYPE_MISMATCH", f"Party {name} ({ref['id']}) is a {known.type}, not a {claimed}."))
            status = str(known.doc.get("status") or "")
            if status.casefold() in ENDED:
                out.append(("PARTY_NOT_ACTIVE", f"Party {name} ({ref['id']}) is {status}."))
        return out

    async def segments(self, party_id: str) -> set[str]:
        """The market segments recorded for a party: on it, on the roles it plays, or on the role named."""
        known = await self.find(party_id)
        if known is None:
            return set()
        docs = [known.doc]
        engaged = (known.doc.get("engagedParty") or {}).get("id") if known.resource == "partyRole" else None
        if engaged:
            party = await self.find(engaged)
            docs += [party.doc] if party else []
        else:
            roles = self.engine.resource(PARTY_ROLES, "partyRole")
            docs += await roles.find({"engagedParty.id": party_id}, self.unit, limit=50)
        found: set[str] = set()
        for doc in docs:
            for char in (doc.get("partyCharacteristic") or []) + (doc.get("characteristic") or []):
                if isinstance(char, dict) and str(char.get("name", "")).replace(" ", "").casefold() == SEGMENT:
                    value = char.get("value")
                    found |= {str(v) for v in value} if isinstance(value, list) else {str(value)} if value else set()
        return found

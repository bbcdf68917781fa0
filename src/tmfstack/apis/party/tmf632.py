"""TMF632 Party Management v4 (``TMF632-Party-v4.0.0.swagger.json``).

``individual`` and ``organization`` (full CRUD) and ``hub``. ``status`` follows the spec's
enums as a lifecycle: an individual is ``initialized`` → ``validated`` → ``deceaded`` (the
spec's spelling), an organization ``initialized`` → ``validated`` → ``closed``; both may be
validated again after a correction (validated → initialized). The customers that orders and
products name in ``relatedParty`` are individuals or organizations of this API.
"""

from __future__ import annotations

from ...engine.declaration import ApiDecl, ResourceDecl
from ...engine.lifecycle import StateMachine

INDIVIDUAL = StateMachine(
    "status",
    {"initialized": {"validated", "deceaded"}, "validated": {"initialized", "deceaded"}, "deceaded": set()},
    initial="initialized",
)
ORGANIZATION = StateMachine(
    "status",
    {"initialized": {"validated", "closed"}, "validated": {"initialized", "closed"}, "closed": set()},
    initial="initialized",
)
_REFS = ("externalReference.name", "relatedParty.id", "partyCharacteristic.name")

API = ApiDecl.build(
    "TMF632-Party-v4.0.0.swagger.json",
    partner_access="write",
    resources=[
        ResourceDecl("individual", lifecycle=INDIVIDUAL, ref_paths=(*_REFS, "familyName")),
        ResourceDecl("organization", lifecycle=ORGANIZATION, ref_paths=(*_REFS, "tradingName")),
    ],
)

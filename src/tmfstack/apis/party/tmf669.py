"""TMF669 Party Role Management v4 (``TMF669-PartyRole-v4.0.0.swagger.json``).

``partyRole`` (full CRUD) and ``hub``: the role a party plays for the operator (customer,
partner, supplier…) with ``engagedParty``, ``account``, ``contactMedium``, ``characteristic``.
The v4 file gives ``status`` no enum; tmfstack uses TMF632's organization states as its
lifecycle: ``initialized`` → ``validated`` → ``closed`` (validated → initialized after a
correction).
"""

from __future__ import annotations

from ...engine.declaration import ApiDecl, ResourceDecl
from .tmf632 import ORGANIZATION

PARTY_ROLE = ORGANIZATION

API = ApiDecl.build(
    "TMF669-PartyRole-v4.0.0.swagger.json",
    partner_access="write",
    resources=[
        ResourceDecl(
            "partyRole",
            lifecycle=PARTY_ROLE,
            ref_paths=("engagedParty.id", "account.id", "relatedParty.id", "characteristic.name"),
        )
    ],
)

"""TMF669 Party Role Management v5: the v4 party roles, mapped at the edge, and party role
specifications (v5 only).

=====================================================  ======================================================
v4 (stored)                                            v5 (served)
=====================================================  ======================================================
``engagedParty: RelatedParty {id, name, role,          ``engagedParty: PartyRef {id, name, @referredType}``
@referredType}``                                       (a v4 ``role`` in it is kept and shown as given)
``relatedParty {id, name, role, @referredType}``       ``RelatedPartyOrPartyRole`` (``generations.RELATED_PARTY``)
``contactMedium {mediumType, characteristic}``         polymorphic contact media (``tmf632_v5.CONTACT_MEDIUM``)
``characteristic``                                     typed ``Characteristic`` (``generations``)
``account``, ``agreement``, ``paymentMethod``,         same attributes (v5 adds ``CreditProfile.id``/``href``,
``creditProfile``, ``status``, ``statusReason``        stored as given); ``status`` keeps v4's lifecycle
—                                                      ``description``, ``role``, ``partyRoleSpecification``:
                                                       v5 only, stored as given (v4 shows them as extras)
—                                                      ``partyRoleSpecification`` resource: v5 only, stored
                                                       beside the roles; reference data every client reads
=====================================================  ======================================================

A ``partyRoleSpecification`` a role names is not checked (v4 checks no reference of a role). v4
requires what v5 does not (a ``creditProfile``'s ``creditProfileDate`` and ``validFor``): the stored
model's rule holds, so a v5 body without them is refused. v5 requires an ``engagedParty``, v4 not:
a v4 role without one reads in v5 but cannot be posted back as read.
"""

from __future__ import annotations

from typing import Any

from ...engine.declaration import ResourceDecl
from ...engine.shape import Attr
from ...engine.versions import VersionDecl
from ...tmf import Doc
from ..generations import V5_COMMON
from . import tmf669
from .tmf632_v5 import CONTACT_MEDIUM


def _engaged_out(ref: Any) -> Any:
    """v4's ``RelatedParty`` type name is not a v5 ``PartyRef`` one: the served plan names it."""
    if isinstance(ref, dict) and ref.get("@type") == "RelatedParty":
        return {k: v for k, v in ref.items() if k != "@type"}
    return ref


def _engaged_in(ref: Any) -> Any:
    if not isinstance(ref, dict):
        return ref
    kind = ref.get("@type")
    out: Doc = {k: v for k, v in ref.items() if k != "@type" or kind != "PartyRef"}
    # v4 requires @referredType; a v5 reference may leave it out and name its kind by @type
    if "@referredType" not in out:
        out["@referredType"] = kind.removesuffix("Ref") if isinstance(kind, str) and kind else "Party"
    return out


API = VersionDecl.build(
    "TMF669-Party_Role_Management-v5.0.0.oas.yaml",
    of=tmf669.API,
    rules=[*V5_COMMON, CONTACT_MEDIUM, Attr("engagedParty", out=_engaged_out, into=_engaged_in)],
    own=[ResourceDecl("partyRoleSpecification", stamp="lastUpdate", shared=True)],
)

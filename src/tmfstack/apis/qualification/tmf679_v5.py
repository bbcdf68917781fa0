"""TMF679 Product Offering Qualification v5: v4's qualification served as a check, and a query of its own.

v5 splits v4's ``productOfferingQualification`` in two. ``checkProductOfferingQualification`` ("may
this customer buy these offerings here?") is the v4 qualification, mapped at the edge
(``engine/versions.py``): same store, same rules (``poq.py``), same task, same events; a v4
qualification reads as a v5 check and the reverse. ``queryProductOfferingQualification`` ("what
may this customer buy here?") has no v4 resource: it is v5's own, stored in its v5 shape and
answered by the same rules (``query.py``), now (``instantSyncQualification``: 200) or by a durable
task (201 ``acknowledged`` → ``inProgress`` → ``done``), with the same partner isolation.

==========================================  ===================================================
v4 ``productOfferingQualification``         v5 ``checkProductOfferingQualification``
==========================================  ===================================================
``productOfferingQualificationItem``        ``checkProductOfferingQualificationItem``
item ``eligibilityUnavailabilityReason``    ``eligibilityResultReason`` (``@type``
                                            ``EligibilityResultReason``)
item ``qualificationItemRelationship``      same, ``@type``
(``QualificationItemRelationship``)         ``ProductOfferingQualificationItemRelationship``
``provideUnavailabilityReason``             ``provideResultReason``
``requestedPOQCompletionDate``              ``requestedQualificationCompletionDate``
``expectedPOQCompletionDate``               ``expectedQualificationCompletionDate``
``productOfferingQualificationDate``        ``creationDate``
``relatedParty {id, role, ...}``            ``{role, partyOrPartyRole: PartyRef | PartyRoleRef}``
item ``product.place {id, role, ...}``      ``{role, place: PlaceRef | GeographicAddress | ...}``
``place``, ``category`` (the whole POQ's)   none in v5 (a v5 item names its place in
                                            ``product.place``): kept, returned as they are
``state``, item ``state``                   the same literals (v5 adds ``rejected``,
                                            ``cancelled``: never stored)
``qualificationResult``, item result        the same literals (``qualified``, ``unqualified``,
                                            ``alternate``)
(none)                                      ``queryProductOfferingQualification``: v5's own
==========================================  ===================================================
"""

from __future__ import annotations

from typing import Any

from ...engine.shape import Attr
from ...engine.versions import ResourceMap, VersionDecl
from ..generations import V5_COMMON
from . import tmf679
from .places import PRODUCT_PLACE
from .query import answer_query
from .task import QualificationTask, not_in_past

QUERY = "queryProductOfferingQualification"
ROOT = f"/tmf-api/{tmf679.API.name}/v5"


def _swap(value: Any, old: str, new: str, drop: frozenset[str] = frozenset()) -> Any:
    if not isinstance(value, list):
        return value
    out = [{k: x for k, x in v.items() if k not in drop} if isinstance(v, dict) else v for v in value]
    return [{**v, "@type": new} if isinstance(v, dict) and v.get("@type") == old else v for v in out]


def _retyped(served: str, canonical: str, types: tuple[str, str], answers: frozenset[str] = frozenset()) -> Attr:
    """An array whose elements' ``@type`` is spelled differently in v5 (``types``: stored, served);
    ``answers``: what the server answers in an element, left out of what a v5 client sends (its
    ``_FVO`` has none of it: a check read and posted again is asked again, not refused as v4 does)."""
    stored_type, served_type = types
    return Attr(
        served,
        canonical,
        out=lambda v: _swap(v, stored_type, served_type),
        into=lambda v: _swap(v, served_type, stored_type, answers),
    )


#: what the server answers in a check's item (stored names)
ANSWERS = frozenset(
    {
        "qualificationItemResult",
        "eligibilityUnavailabilityReason",
        "alternateProductOfferingProposal",
        "terminationError",
    }
)


CHECK = ResourceMap(
    "productOfferingQualification",
    rules=[
        _retyped(
            "checkProductOfferingQualificationItem",
            "productOfferingQualificationItem",
            ("ProductOfferingQualificationItem", "CheckProductOfferingQualificationItem"),
            ANSWERS,
        ),
        _retyped(
            "eligibilityResultReason",
            "eligibilityUnavailabilityReason",
            ("EligibilityUnavailabilityReason", "EligibilityResultReason"),
        ),
        _retyped(
            "qualificationItemRelationship",
            "",
            ("QualificationItemRelationship", "ProductOfferingQualificationItemRelationship"),
        ),
        Attr("provideResultReason", canonical="provideUnavailabilityReason"),
        Attr("requestedQualificationCompletionDate", canonical="requestedPOQCompletionDate"),
        Attr("expectedQualificationCompletionDate", canonical="expectedPOQCompletionDate"),
        Attr("creationDate", canonical="productOfferingQualificationDate"),
        PRODUCT_PLACE,
    ],
)

QUERYING = QualificationTask(QUERY, QUERY, tmf679.KEY, answer_query, tmf679.TASK, root=ROOT)

API = VersionDecl.build(
    "TMF679-Product_Offering_Qualification-v5.0.0.oas.yaml",
    of=tmf679.API,
    rules=V5_COMMON,
    resources={"checkProductOfferingQualification": CHECK},
    own=[
        QUERYING.decl(
            created_stamp="creationDate",
            ref_paths=(
                "relatedParty.partyOrPartyRole.id",
                "searchCriteria.productOffering.id",
                "searchCriteria.category.id",
                "channel.id",
            ),
            server_owned=frozenset(
                {"qualifiedProductOfferingItem", "effectiveQualificationDate", "expirationDate", "state"}
            ),
            rules=[not_in_past("requestedQualificationCompletionDate")],
        )
    ],
    tasks={QUERY: QUERYING.process},
)

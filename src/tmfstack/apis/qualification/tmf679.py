"""TMF679 Product Offering Qualification v4 (``TMF679-ProductOfferingQualification-v4.0.0.swagger.json``).

``productOfferingQualification`` (list, create, get, patch, delete) and ``hub``, answered
synchronously (200) or by a durable task (201 ``acknowledged`` → ``inProgress`` → ``done``),
see ``task.py``. The rules are in ``poq.py``. A qualification either lists the items to
check, or (the query form) names a ``category`` (or a catalog by id) and asks what the
customer can buy there: the server fills in one item per offering of it.
"""

from __future__ import annotations

from ...engine.declaration import ApiDecl
from ...errors import BadRequest
from ...tmf import Doc
from .poq import qualify
from .task import QualificationTask, accept_items, not_in_past, task_states

QUEUE = "productOfferingQualification"
KEY = "tmf679"
TASK = task_states("acknowledged")


def check_request(doc: Doc, before: Doc | None) -> None:
    if before is not None:
        return
    items = doc.get("productOfferingQualificationItem") or []
    if not items and not (doc.get("category") or {}).get("id"):
        raise BadRequest(
            "a qualification needs productOfferingQualificationItem, or a category (or catalog) id to query",
            code="MISSING_ATTRIBUTE",
        )
    answers = ("qualificationItemResult", "eligibilityUnavailabilityReason", "alternateProductOfferingProposal")
    accept_items(items, "productOfferingQualificationItem", answers, TASK.initial or "")


QUALIFICATION = QualificationTask("productOfferingQualification", QUEUE, KEY, qualify, TASK)

API = ApiDecl.build(
    "TMF679-ProductOfferingQualification-v4.0.0.swagger.json",
    partner_access="write",
    resources=[
        QUALIFICATION.decl(
            created_stamp="productOfferingQualificationDate",
            ref_paths=("relatedParty.id", "productOfferingQualificationItem.productOffering.id", "channel.id"),
            server_owned=frozenset(
                {"qualificationResult", "effectiveQualificationDate", "expirationDate", "expectedPOQCompletionDate"}
            ),
            rules=[check_request, not_in_past("requestedPOQCompletionDate")],
        )
    ],
    tasks={QUEUE: QUALIFICATION.process},
)

"""TMF679 Product Offering Qualification v4 (``TMF679-ProductOfferingQualification-v4.0.0.swagger.json``).

``productOfferingQualification`` (list, create, get, patch, delete) and ``hub``. With
``instantSyncQualification`` true the answer is computed in the request and POST answers 200
with the finished qualification (``done``); otherwise POST answers 201 ``acknowledged`` and a
durable task takes it inProgress → done. The rules are in ``poq.py``. A client may change
``description`` and ``note`` afterwards; the answer itself is the server's.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from ...engine.declaration import ApiDecl, Doc, ResourceDecl
from ...engine.lifecycle import StateMachine
from ...engine.service import ResourceService
from ...engine.unit import Unit
from ...errors import BadRequest
from ..ordering.flow import load, save
from .poq import qualify

if TYPE_CHECKING:
    from ...engine.registry import Engine

QUEUE = "productOfferingQualification"
ROOT = "/tmf-api/productOfferingQualification/v4"
#: TaskStateType of the v4 file; an instant answer is created done
TASK = StateMachine(
    "state",
    {
        "acknowledged": {"inProgress", "done", "terminatedWithError"},
        "inProgress": {"done", "terminatedWithError"},
        "done": set(),
        "terminatedWithError": set(),
    },
    initial="acknowledged",
    creatable={"acknowledged"},
)
_CLIENT = frozenset({"description", "note", "@schemaLocation"})


def check_request(doc: Doc, before: Doc | None) -> None:
    if before is not None:
        return
    items = doc.get("productOfferingQualificationItem") or []
    if not items:
        raise BadRequest(
            "a qualification needs at least one productOfferingQualificationItem", code="MISSING_ATTRIBUTE"
        )
    ids = [i.get("id") for i in items]
    if len(set(ids)) != len(ids):
        raise BadRequest("productOfferingQualificationItem ids must be unique", code="DUPLICATE_ITEM_ID")
    for item in items:
        for owned in ("qualificationItemResult", "eligibilityUnavailabilityReason", "alternateProductOfferingProposal"):
            if owned in item:
                raise BadRequest(f"item {item.get('id')!r}: {owned} is the server's answer", code="READ_ONLY_ATTRIBUTE")
        item["state"] = "acknowledged"


def client_patch(after: Doc, before: Doc) -> None:
    changed = sorted(k for k in set(after) | set(before) if after.get(k) != before.get(k) and k not in _CLIENT)
    if changed:
        raise BadRequest(
            f"{', '.join(changed)} cannot be changed: the answer is the server's", code="READ_ONLY_ATTRIBUTE"
        )


async def answer_now(svc: ResourceService, unit: Unit, doc: Doc) -> None:
    if doc.get("instantSyncQualification"):
        await qualify(svc.engine, unit, doc)


async def instant_answer(svc: ResourceService, doc: Doc) -> tuple[int, bytes | None, str | None] | None:
    """200 with the finished qualification when it was asked for synchronously."""
    return (200, None, None) if doc.get("instantSyncQualification") else None


async def schedule(svc: ResourceService, unit: Unit, doc: Doc) -> None:
    if doc["state"] == "acknowledged":
        await unit.schedule(QUEUE, doc["id"], time.time())


async def process(engine: Engine, unit: Unit, poq_id: str) -> None:
    svc = engine.services[ROOT]["productOfferingQualification"]
    poq = await load(unit, svc, poq_id)
    if poq is None or poq["state"] != "acknowledged":
        return
    poq = await save(unit, svc, {**poq, "state": "inProgress"})
    await qualify(svc.engine, unit, poq)
    await save(unit, svc, poq)


API = ApiDecl.build(
    "tmf679",
    contract="tmf679_v4",
    name="productOfferingQualification",
    version="v4",
    resources=[
        ResourceDecl(
            "productOfferingQualification",
            lifecycle=TASK,
            stamp=None,
            created_stamp="productOfferingQualificationDate",
            ref_paths=("relatedParty.id", "productOfferingQualificationItem.productOffering.id", "channel.id"),
            server_owned=frozenset({"qualificationResult", "effectiveQualificationDate", "expirationDate"}),
            rules=[check_request],
            patch_rules=[client_patch],
            before_insert=answer_now,
            on_create=schedule,
            create_response=instant_answer,
        )
    ],
    tasks={QUEUE: process},
)

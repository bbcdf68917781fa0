"""TMF645 Service Qualification v4 (``TMF645-ServiceQualification-v4.0.1.swagger.json``).

``checkServiceQualification`` (can these services be delivered at these places?) and
``queryServiceQualification`` (what can be delivered at this place?), each list, create,
get, patch, delete and ``hub``, answered synchronously (200) or by a durable task (201
``accepted`` → ``inProgress`` → ``done``), see ``task.py``. The technical rules (coverage,
speeds, dates, pool capacity, alternatives) are in ``geography/serviceability.py``; without
loaded reference data a qualification ends ``terminatedWithError``: tmfstack does not guess.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ...clock import iso
from ...engine.declaration import ApiDecl
from ...errors import BadRequest
from ...tmf import Doc, member, ref
from ..catalog.chain import ChainView
from ..geography.places import reference
from ..geography.serviceability import Capacity, Verdict, available_here, check
from .task import QualificationTask, accept_items, not_in_past, overall, task_states, validity

if TYPE_CHECKING:
    from ...engine.core import Engine
    from ...engine.unit import Unit

KEY = "tmf645"
SERVICE_INVENTORY = "tmf638"
TASK = task_states("accepted")
_RETIRED = frozenset({"retired", "obsolete"})


def _service(item: Doc) -> Doc:
    return member(item, "service")


def _first_place(service: Doc) -> Doc | None:
    places = [p for p in service.get("place") or [] if isinstance(p, dict)]
    return places[0] if places else None


def check_items(doc: Doc, before: Doc | None) -> None:
    if before is not None:
        return
    items = doc.get("serviceQualificationItem") or []
    if not items:
        raise BadRequest("a check needs at least one serviceQualificationItem", code="MISSING_ATTRIBUTE")
    for item in items:
        service = _service(item)
        if not (service.get("serviceSpecification") or {}).get("id") and not service.get("id"):
            raise BadRequest(
                f"item {item.get('id')!r}: service.serviceSpecification.id (or an existing service.id) is required",
                code="MISSING_ATTRIBUTE",
            )
    answers = ("qualificationResult", "eligibilityUnavailabilityReason", "alternateServiceProposal")
    accept_items(items, "serviceQualificationItem", answers, TASK.initial or "")


def query_criteria(doc: Doc, before: Doc | None) -> None:
    if before is not None:
        return
    criteria = member(doc, "searchCriteria")
    if _first_place(_service(criteria)) is None:
        raise BadRequest("searchCriteria.service.place must name the place to query", code="MISSING_ATTRIBUTE")


def _stamp(engine: Engine, doc: Doc) -> datetime:
    answered = datetime.now(UTC)
    doc["effectiveQualificationDate"] = iso(answered)
    doc["expirationDate"] = iso(answered + validity(engine))
    return answered


async def _no_data(engine: Engine, unit: Unit, doc: Doc, items: list[Doc]) -> bool:
    if (await reference(engine, unit)).loaded:
        return False
    _stamp(engine, doc)
    doc["state"] = "terminatedWithError"
    for item in items:
        item["state"] = "terminatedWithError"
        item["terminationError"] = [
            {"value": "no coverage data is loaded (POST /admin/reference)", "@type": "TerminationError"}
        ]
    return True


def _spec_ref(spec_id: str, spec: Doc | None) -> Doc:
    return ref(spec or {"id": spec_id}, "ServiceSpecification")


def _speed_chars(names: dict[str, str], offer: Doc, technology: str) -> list[Doc]:
    chars = [{"name": "Access technology", "valueType": "string", "value": technology}]
    for direction, name in names.items():
        limit = offer.get(f"max{direction.capitalize()}Speed")
        if limit is not None:
            chars.append({"name": name, "valueType": "number", "value": limit})
    return chars


async def _verdict(engine: Engine, unit: Unit, view: ChainView, doc: Doc, item: Doc, capacity: Capacity) -> Verdict:
    service = _service(item)
    spec_id = (service.get("serviceSpecification") or {}).get("id")
    place = _first_place(service)
    if service.get("id"):  # an existing service: its specification and place unless the item says otherwise
        existing = await view.read(SERVICE_INVENTORY, "service", service["id"])
        if existing is None:
            return Verdict(
                "unqualified", [("SERVICE_NOT_FOUND", f"Service {service['id']!r} is not in the inventory.")]
            )
        spec_id = spec_id or (existing.get("serviceSpecification") or {}).get("id")
        place = place or _first_place(existing)
    spec = await view.service_spec(spec_id)
    if spec is None:
        return Verdict(
            "unqualified", [("SERVICE_SPECIFICATION_NOT_FOUND", f"Service specification {spec_id!r} does not exist.")]
        )
    if str(spec.get("lifecycleStatus", "")).casefold() in _RETIRED:
        label = f"{spec.get('name')} is {spec['lifecycleStatus']}: it is no longer provided."
        return Verdict("unqualified", [("SPECIFICATION_RETIRED", label)])
    wanted = item.get("expectedServiceAvailabilityDate")
    return await check(
        engine,
        unit,
        spec,
        place,
        service.get("serviceCharacteristic"),
        wanted,
        bool(doc.get("provideAlternative")),
        capacity,
    )


async def answer_check(engine: Engine, unit: Unit, doc: Doc) -> None:
    items = doc.get("serviceQualificationItem") or []
    if await _no_data(engine, unit, doc, items):
        return
    data = await reference(engine, unit)
    view = ChainView(engine, unit)
    capacity = Capacity(engine, unit)
    answered = _stamp(engine, doc)
    results = []
    for item in items:
        verdict = await _verdict(engine, unit, view, doc, item, capacity)
        item["qualificationResult"] = verdict.result
        item["state"] = "done"
        item["expectedServiceAvailabilityDate"] = verdict.available or iso(answered)
        item["expirationDate"] = doc["expirationDate"]
        if verdict.result != "qualified" and doc.get("provideUnavailabilityReason", True):
            item["eligibilityUnavailabilityReason"] = [
                {"code": code, "label": label, "@type": "ServiceEligibilityUnavailabilityReason"}
                for code, label in verdict.reasons
            ]
        if verdict.alternates:
            item["alternateServiceProposal"] = [
                await _proposal(view, data.speed, n, alt, answered) for n, alt in enumerate(verdict.alternates, 1)
            ]
        results.append(verdict.result)
    doc["qualificationResult"] = overall(results)
    doc["state"] = "done"


async def _proposal(view: ChainView, names: dict[str, str], n: int, alt: Doc, answered: datetime) -> Doc:
    spec = await view.service_spec(alt["spec"])
    return {
        "id": str(n),
        "alternateService": {
            "serviceSpecification": _spec_ref(alt["spec"], spec),
            "serviceCharacteristic": _speed_chars(names, alt["offer"], alt["technology"]),
            "@type": "Service",
        },
        "alternateServiceAvailabilityDate": alt.get("date") or iso(answered),
        "@type": "AlternateServiceProposal",
    }


async def answer_query(engine: Engine, unit: Unit, doc: Doc) -> None:
    if await _no_data(engine, unit, doc, []):
        return
    data = await reference(engine, unit)
    view = ChainView(engine, unit)
    answered = _stamp(engine, doc)
    criteria = _service(doc["searchCriteria"])
    only = (criteria.get("serviceSpecification") or {}).get("id")
    place = _first_place(criteria)
    wanted = doc["searchCriteria"].get("expectedServiceAvailabilityDate")
    _, found = await available_here(engine, unit, place or {}, wanted)
    items: list[Doc] = []
    for entry in found:
        if only and entry["spec"] != only:
            continue
        spec = await view.service_spec(entry["spec"])
        if spec is not None and str(spec.get("lifecycleStatus", "")).casefold() in _RETIRED:
            continue
        items.append(
            {
                "id": str(len(items) + 1),
                "service": {
                    "serviceSpecification": _spec_ref(entry["spec"], spec),
                    "serviceCharacteristic": _speed_chars(data.speed, entry["offer"], entry["technology"]),
                    "place": [place],
                    "@type": "Service",
                },
                "expectedServiceAvailabilityDate": entry.get("date") or iso(answered),
                "expirationDate": doc["expirationDate"],
                "@type": "ServiceQualificationItem",
            }
        )
    doc["serviceQualificationItem"] = items
    doc["state"] = "done"


CHECK = QualificationTask("checkServiceQualification", "checkServiceQualification", KEY, answer_check, TASK)
QUERY = QualificationTask("queryServiceQualification", "queryServiceQualification", KEY, answer_query, TASK)
_OWNED = frozenset({"qualificationResult", "effectiveQualificationDate", "expirationDate", "estimatedResponseDate"})


API = ApiDecl.build(
    "TMF645-ServiceQualification-v4.0.1.swagger.json",
    partner_access="write",
    resources=[
        CHECK.decl(
            created_stamp="checkServiceQualificationDate",
            ref_paths=("relatedParty.id", "serviceQualificationItem.service.serviceSpecification.id"),
            server_owned=_OWNED,
            rules=[check_items, not_in_past("expectedQualificationDate")],
        ),
        QUERY.decl(
            created_stamp="queryServiceQualificationDate",
            ref_paths=("relatedParty.id", "searchCriteria.service.serviceSpecification.id"),
            server_owned=_OWNED,
            rules=[query_criteria, not_in_past("expectedQualificationDate")],
        ),
    ],
    tasks={CHECK.queue: CHECK.process, QUERY.queue: QUERY.process},
)

"""TMF639 Resource Inventory v5: the v4 resources, mapped at the edge (``engine/versions.py``).

=====================================================  ===================================================
v4 (stored)                                            v5 (served)
=====================================================  ===================================================
``relatedParty[] {id, href, name, role}``              ``relatedParty[] {role, partyOrPartyRole: PartyRef}``
``resourceCharacteristic[] {name, value}``             ``{name, value, @type: StringCharacteristic…}``
``administrativeState``: ``shutdown``                  ``shuttingDown`` (locked, unlocked unchanged)
``operationalState``: ``enable``, ``disable``          ``enabled``, ``disabled``
``resourceStatus`` (standby, alarm, available,         ``allocationStatus`` (a free string in v5: the
reserved, unknown, suspended)                          same six values; others are refused)
``place {id, href, name, role}`` (one)                 ``place[] {role, place: PlaceRef}`` (at most one)
``resourceRelationship[] {id, href,``                  ``resourceRelationship[] {relationshipType,``
``relationshipType}``                                  ``resource: ResourceRef}``
-                                                      ``lifecycleState``, ``alarmStatus``, ``creationDate``,
                                                       ``supportingResource``, ``intent``, … (kept)
=====================================================  ===================================================

v5 removed ``resourceStatus``; its values are allocation states (``reserved`` is a number an
order took, ``pools.TAKEN``), so v5 shows and sets it as ``allocationStatus``, whose examples are
the same words: ``?allocationStatus=reserved`` finds what ``?resourceStatus=reserved`` finds, and
the ownership rules hold alike. The 639 v5 file answers with ``Resource_RES`` (``Resource`` with
``id`` and ``href`` required) and patches with ``Resource``; the entity's ``@type`` is ``Resource``.
v5 serves ``resource`` only: the v4 ``physicalResource`` and ``logicalResource`` collections are
not served in v5.
"""

from __future__ import annotations

from typing import Any

from ...engine.shape import Attr
from ...engine.versions import VersionDecl
from ...errors import Unprocessable
from ..generations import RELATED_PLACE, V5_COMMON, related
from . import tmf639


def _place_out(value: Any) -> Any:
    return RELATED_PLACE.render([value]) if isinstance(value, dict) else value


def _place_in(value: Any) -> Any:
    if not isinstance(value, list):
        return value
    if len(value) > 1:
        raise Unprocessable("a resource has one place (the v4 model it is stored in): send at most one")
    return RELATED_PLACE.accept(value)[0] if value else None


API = VersionDecl.build(
    "TMF639-Resource_Inventory_Management-v5.0.0.oas.yaml",
    of=tmf639.API,
    rules=[
        *V5_COMMON,
        Attr("place", out=_place_out, into=_place_in, paths=RELATED_PLACE.paths, not_at=RELATED_PLACE.not_at),
        Attr("administrativeState", values={"shutdown": "shuttingDown"}),
        Attr("operationalState", values={"enable": "enabled", "disable": "disabled"}),
        Attr("allocationStatus", canonical="resourceStatus"),
        related(
            "resourceRelationship",
            "resource",
            lambda item: "ResourceRef",
            keep=("relationshipType", "resourceRelationshipCharacteristic", "@baseType", "@schemaLocation"),
        ),
    ],
)

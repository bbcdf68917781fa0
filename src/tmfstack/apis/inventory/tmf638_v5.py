"""TMF638 Service Inventory v5: the v4 services, mapped at the edge (``engine/versions.py``).

=====================================================  ===================================================
v4 (stored)                                            v5 (served)
=====================================================  ===================================================
``relatedParty[] {id, href, name, role}``              ``relatedParty[] {role, partyOrPartyRole: PartyRef}``
``serviceCharacteristic[] {name, value}`` (also        ``{name, value, @type: StringCharacteristic…}``
``feature[].featureCharacteristic``, …)
``place[] {id, href, name, role}``                     ``place[] {role, place: PlaceRef}``
``relatedEntity[] {id, href, name, role,``             ``relatedEntity[] {role, entity: EntityRef}``
``@referredType}``
``state`` (6 values)                                   ``state``, plus ``suspended``: refused, the v4
                                                       lifecycle has no such state
-                                                      ``operatingStatus``, ``intent``,
                                                       ``externalIdentifier`` (kept as given)
=====================================================  ===================================================

``serviceRelationship``, ``supportingService``, ``supportingResource``, ``serviceOrderItem``
and ``feature`` keep their v4 attributes (v5 adds ``@type``). Services stay the order manager's
(``tmf638.SERVICE_OWNERSHIP``) whichever version writes them.
"""

from __future__ import annotations

from ...engine.versions import VersionDecl
from ..generations import RELATED_PLACE, V5_COMMON, related
from . import tmf638

RELATED_ENTITY = related("relatedEntity", "entity", lambda item: "EntityRef")

API = VersionDecl.build(
    "TMF638-Service_Inventory_Management-v5.0.0.oas.yaml",
    of=tmf638.API,
    rules=[*V5_COMMON, RELATED_PLACE, RELATED_ENTITY],
)

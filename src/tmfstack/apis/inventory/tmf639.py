"""TMF639 Resource Inventory v4 (``TMF639-ResourceInventory-v4.0.0.swagger.json``, the 2020 file).

resource, physicalResource, logicalResource (the latter also with PUT), hub. Of the two v4
files this one is served because it also has the physical/logical paths, at no cost here;
the 2025 republication has ``resource`` only and wrongly requires ``id``/``href`` on create.

``resourceStatus`` (standby, alarm, available, reserved, unknown, suspended) is the state
whose changes raise ``…StateChangeEvent``. The v4 spec draws no transitions for it, so every
move is allowed; ``administrativeState``, ``operationalState`` and ``usageState`` are
ordinary attributes validated by the schema's enums.
"""

from __future__ import annotations

from ...engine.declaration import ApiDecl, ResourceDecl
from ...engine.lifecycle import StateMachine
from ...engine.ownership import Ownership

_STATUSES = ("standby", "alarm", "available", "reserved", "unknown", "suspended")
RESOURCE_STATUS = StateMachine("resourceStatus", {s: set(_STATUSES) - {s} for s in _STATUSES})
_REFS = ("relatedParty.id", "resourceSpecification.id", "resourceRelationship.id")
#: ``reserved`` is a resource an order took (``pools.TAKEN``): only the order manager gives it
#: back; a client stocks and maintains free ones and annotates taken ones (description, note;
#: not the name: a number's name is the number)
RESOURCE_OWNERSHIP = Ownership(free_states=set(_STATUSES) - {"reserved"}, client_attrs={"description", "note"})


def _resource(name: str) -> ResourceDecl:
    return ResourceDecl(name, lifecycle=RESOURCE_STATUS, ref_paths=_REFS, ownership=RESOURCE_OWNERSHIP)


API = ApiDecl.build(
    # the 2020 file: it also serves physicalResource and logicalResource (the 2025 one has resource only)
    "TMF639-ResourceInventory-v4.0.0.swagger.json",
    resources=[_resource("resource"), _resource("physicalResource"), _resource("logicalResource")],
)

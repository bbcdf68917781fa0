"""TMF622 Product Ordering v5: the v4 orders, mapped at the edge (``engine/versions.py``).

Same orders, same order manager, same events: a v5 order is stored as the v4 one it means.

=====================================  ===========================================================
v4 (stored)                            v5 (served)
=====================================  ===========================================================
``orderDate``                          ``creationDate`` (ProductOrder only; a product keeps its own)
``externalId: "X"``                    ``externalId: [{"id": "X", ...}]`` (owner, type, further
                                       identifiers kept in ``externalIdentifier``, v5-only)
``relatedParty {id, role, ...}``       ``{role, partyOrPartyRole: PartyRef | PartyRoleRef}``
``place {id, role, @referredType}``    ``{role, place: PlaceRef | GeographicAddress | ...}`` (a
                                       reference is a ``PlaceRef``; a value's ``@type`` is its
                                       ``@referredType``, else GeographicAddress for an address)
``agreement`` (of a product)           ``agreementItem``
item ``product`` (flat)                ``ProductRefOrValue``: ``ProductRef`` or ``Product`` by
                                       ``@type``
(none)                                 ``requestedInitialState``: ``acknowledged`` only (no draft
                                       order in the v4 lifecycle: ``draft`` is refused, 422)
(none)                                 ``productOrderMilestone``, ``productOrderJeopardyAlert``,
                                       ``productOrderErrorMessage``, ``orderRelationship``, item
                                       ``note``: stored as given, returned by v5
state literals                         the same (v5's ``draft`` and ``inProgress.accepted`` are
                                       never stored; item ``state`` in a v5 create body is dropped:
                                       the server sets it, v4 refuses it)
``cancelProductOrder``                 the same attributes (v5 ``creationDate`` is not stored: absent)
=====================================  ===========================================================
"""

from __future__ import annotations

from ...engine.shape import Attr
from ...engine.versions import ResourceMap, VersionDecl
from ...errors import Unprocessable
from ...tmf import Doc
from ..generations import RELATED_PLACE, V5_COMMON
from . import tmf622

#: where a v5 order keeps what a v4 ``externalId`` string cannot hold (v5-only, stored beside it)
EXTERNAL_IDS = "externalIdentifier"


def _order_out(doc: Doc) -> Doc:
    """The stored order with its ``externalId`` as v5 identifiers (the first is the v4 string:
    where a v4 PATCH changed it, it replaces the first identifier kept)."""
    doc = dict(doc)  # the stored document is shared (renditions, events): not changed here
    kept = doc.pop(EXTERNAL_IDS, None)
    first = doc.get("externalId")
    if not isinstance(first, str):
        return doc
    extra = [e for e in kept or [] if isinstance(e, dict)]
    head: Doc = {"id": first}
    if extra:
        old = extra.pop(0)
        head = old if old.get("id") == first else head
    doc["externalId"] = [head, *extra]
    return doc


def _order_in(doc: Doc) -> Doc:
    """A v5 order body as stored: ``externalId`` the first identifier's id, the identifiers kept
    whole only where they say more than that id; a draft refused."""
    if doc.get("requestedInitialState", "acknowledged") != "acknowledged":
        raise Unprocessable(
            "requestedInitialState 'draft' is not supported: an order is processed once submitted "
            "(omit it or send 'acknowledged')",
            code="UNSUPPORTED_INITIAL_STATE",
        )
    ids = doc.pop("externalId", None)
    doc.pop(EXTERNAL_IDS, None)
    if isinstance(ids, list) and ids and isinstance(ids[0], dict):
        doc["externalId"] = ids[0].get("id")
        if len(ids) > 1 or set(ids[0]) - {"id", "@type"}:
            doc[EXTERNAL_IDS] = ids
    elif ids is not None and not isinstance(ids, list):
        doc["externalId"] = ids
    return doc


ORDER = ResourceMap(
    "productOrder",
    rules=[
        Attr("creationDate", canonical="orderDate", at=frozenset({"ProductOrder"})),
        Attr("externalId", paths={"id": ""}),
    ],
    out=_order_out,
    into=_order_in,
    # the v5 create schema takes item states (what a client read, posted again); the server sets them
    dropped=frozenset({"productOrderItem.state", "productOrderItem.productOrderItem.state"}),
)

API = VersionDecl.build(
    "TMF622-ProductOrdering-v5.0.0.oas.yaml",
    of=tmf622.API,
    rules=[*V5_COMMON, RELATED_PLACE, Attr("agreementItem", canonical="agreement")],
    resources={"productOrder": ORDER},
)

"""TMF620 Product Catalog v5: the v4 catalog (``tmf620.py``), mapped at the edge (``engine/versions.py``).

==============================================  ==================================================
v4 (stored)                                     v5 (served)
==============================================  ==================================================
``/catalog``, ``Catalog``, ``Catalog…Event``    ``/productCatalog``, ``ProductCatalog``,
                                                ``ProductCatalog…Event`` (payload ``productCatalog``)
``Category.parentId`` (an id)                   ``Category.parent`` (a ``CategoryRef``);
                                                ``parent.id`` filters on ``parentId``
``productSpecCharacteristic[]`` items:          ``CharacteristicSpecification``:
``productSpecCharacteristicValue``              ``characteristicValueSpecification``
``productSpecCharRelationship``                 ``charSpecRelationship``, items
``{id, href}`` (the target specification)       ``{parentSpecificationId, parentSpecificationHref}``
``CharacteristicValueSpecification.value``      typed by ``@type`` (``String…``, ``Integer…``,
(any JSON)                                      ``Number…``, ``Boolean…``, ``Object…``, ``…Array…``)
``relatedParty[]`` (a party ref with role)      ``{role, partyOrPartyRole}`` (``generations.py``)
``lastUpdate`` (the server's stamp)             required by ``ProductOffering_FVO``,
                                                ``ProductOfferingPrice_FVO``,
                                                ``ProductSpecification_FVO``: not required, and
                                                dropped when sent (the server stamps it)
``lifecycleStatus`` (default "In design")       required by the same FVOs: not required, the
                                                lifecycle's initial state when absent (as in v4)
``ProductOfferingPrice.priceType`` (optional)   required by the FVO: not required (a v4 price
                                                without one reads in v5 and posts back)
==============================================  ==================================================

What v5 adds (``externalIdentifier``, ``policy``, ``intentSpecification``, ``allowedAction``,
``bundledGroupProductOffering``, ``productOfferingCharacteristic``, ``version`` on references)
is stored as sent and returned by v5 (v4 shows it too; a v4 PATCH keeps it). What only v4 has
(``ProductOfferingPrice.constraint``, ``charSpecSeq``, ``TaxItem.id``) is shown by v5 as stored:
the v5 schemas allow further attributes. importJob and exportJob have the same schemas in both
versions; a job's file holds the stored (v4) shape under v4 resource names (``catalog``), so a
file exported through either version imports through either.
"""

from __future__ import annotations

from ...engine.shape import Attr
from ...engine.versions import ResourceMap, VersionDecl
from ..generations import V5_COMMON
from . import tmf620
from .shapes_v5 import JOBS, spec_characteristics, typed_values

#: the server stamps it: dropped when a v5 body carries it (v4 refuses it), not required by the FVOs
_STAMP = frozenset({"lastUpdate"})
#: required by three FVOs, set by the server when absent (tmf-conventions §10.13)
_STATUS = frozenset({"lifecycleStatus"})


def _parent_out(value: object) -> object:
    return {"id": value} if isinstance(value, str) else value


def _parent_in(value: object) -> object:
    return value.get("id") if isinstance(value, dict) else value


PARENT = Attr("parent", canonical="parentId", out=_parent_out, into=_parent_in, paths={"id": ""})

API = VersionDecl.build(
    "TMF620-Product_Catalog_Management-v5.0.0.oas.yaml",
    of=tmf620.API,
    rules=[
        *V5_COMMON,
        *spec_characteristics("productSpec", "id", "href"),
        Attr("productSpecCharacteristicValue", out=typed_values),  # of ProductSpecificationCharacteristicValueUse
    ],
    resources={
        "productCatalog": ResourceMap("catalog", dropped=_STAMP),
        "category": ResourceMap("category", rules=[PARENT], dropped=_STAMP),
        "productOffering": ResourceMap("productOffering", dropped=_STAMP, optional=_STATUS),
        "productOfferingPrice": ResourceMap("productOfferingPrice", dropped=_STAMP, optional=_STATUS | {"priceType"}),
        "productSpecification": ResourceMap("productSpecification", dropped=_STAMP, optional=_STATUS),
        **JOBS,
    },
)

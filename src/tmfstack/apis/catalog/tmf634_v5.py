"""TMF634 Resource Catalog v5: the v4 resource catalog (``tmf634.py``), mapped at the edge.

==============================================  ==================================================
v4 (stored)                                     v5 (served)
==============================================  ==================================================
one ``<Entity>ChangeEvent``                     ``…AttributeValueChangeEvent`` (an attribute
                                                change) or ``…StatusChangeEvent`` (the status)
``resourceSpecCharacteristic[]`` items:         ``CharacteristicSpecification``:
``resourceSpecCharacteristicValue``             ``characteristicValueSpecification``
``resourceSpecCharRelationship``, items         ``charSpecRelationship``, items
``resourceSpecificationId``/``…Href``           ``parentSpecificationId``/``…Href``
``featureSpecCharacteristic[]`` items:          ``CharacteristicSpecification`` as above;
``featureSpecCharacteristicValue``,             relationship ``characteristicId`` is
``featureSpecCharRelationship``                 ``characteristicSpecificationId``
``CharacteristicValueSpecification.value``      typed by ``@type`` (``String…``, ``Integer…`` …)
``relatedParty[]`` (a party ref with role)      ``{role, partyOrPartyRole}`` (``generations.py``)
``lastUpdate`` (the server's stamp)             dropped when a v5 create sends it
==============================================  ==================================================

Unchanged: the resource names, ``ResourceCategory.parentId``, the import and export jobs. What v5
adds (``externalIdentifier``, ``intentSpecification``, ``catalogType``, ``policyConstraint``,
``ResourceCategory.resourceSpecification``) is stored as sent and returned. Not mapped: v4
``FeatureSpecification.constraint`` (a ``ConstraintRef``) is not v5 ``policyConstraint`` (a
``PolicyRef``): each shows as stored; v5 enumerates ``ConnectionSpecification.associationType``
and ``ResourceGraphSpecificationRelationship.relationshipType``, free strings in v4: a v4 value
outside the enumeration is shown as stored.
"""

from __future__ import annotations

from typing import Any

from ...engine.shape import Attr
from ...engine.versions import ResourceMap, VersionDecl
from ..generations import V5_COMMON
from . import tmf634
from .shapes_v5 import JOBS, spec_characteristics, typed_values

_STAMP = frozenset({"lastUpdate"})
#: a feature's characteristic: v4 names (resource characteristic names as mapped by the rules) -> v5
_FEATURE_OUT = {
    "featureSpecCharacteristicValue": "characteristicValueSpecification",
    "featureSpecCharRelationship": "charSpecRelationship",
}
_FEATURE_IN = {
    "resourceSpecCharacteristicValue": "featureSpecCharacteristicValue",
    "resourceSpecCharRelationship": "featureSpecCharRelationship",
}
_RELATION_OUT = {
    "resourceSpecificationId": "parentSpecificationId",
    "resourceSpecificationHref": "parentSpecificationHref",
    "characteristicId": "characteristicSpecificationId",
}


def _renamed(item: Any, names: dict[str, str]) -> Any:
    return {names.get(k, k): v for k, v in item.items()} if isinstance(item, dict) else item


def _feature_out(value: Any) -> Any:
    """Stored feature characteristics in v5 names (the characteristic rules see v5 names then)."""
    if not isinstance(value, list):
        return value
    out = []
    for item in value:
        item = _renamed(item, _FEATURE_OUT)
        if isinstance(item, dict):
            if "characteristicValueSpecification" in item:
                item["characteristicValueSpecification"] = typed_values(item["characteristicValueSpecification"])
            if isinstance(item.get("charSpecRelationship"), list):
                item["charSpecRelationship"] = [_renamed(r, _RELATION_OUT) for r in item["charSpecRelationship"]]
        out.append(item)
    return out


def _feature_in(value: Any) -> Any:
    """Accepted feature characteristics (the characteristic rules gave them resource names) in v4 names."""
    if not isinstance(value, list):
        return value
    out = []
    for item in value:
        item = _renamed(item, _FEATURE_IN)
        if isinstance(item, dict) and isinstance(item.get("featureSpecCharRelationship"), list):
            relations = item["featureSpecCharRelationship"]
            item["featureSpecCharRelationship"] = [
                _renamed(r, {"characteristicSpecificationId": "characteristicId"}) for r in relations
            ]
        out.append(item)
    return out


API = VersionDecl.build(
    "TMF634-Resource_Catalog_Management-v5.0.0.oas.yaml",
    of=tmf634.API,
    rules=[
        *V5_COMMON,
        *spec_characteristics("resourceSpec", "resourceSpecificationId", "resourceSpecificationHref"),
        Attr("featureSpecCharacteristic", out=_feature_out, into=_feature_in),
    ],
    resources={
        **{
            name: ResourceMap(name, dropped=_STAMP)
            for name in ("resourceCatalog", "resourceCategory", "resourceCandidate", "resourceSpecification")
        },
        **JOBS,
    },
)

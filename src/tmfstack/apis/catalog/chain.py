"""The catalog chain an order is decomposed along, and how characteristics travel down it.

    ProductSpecification.serviceSpecification ─► CFS (TMF633, @type CustomerFacingServiceSpecification)
    CFS.serviceSpecRelationship "reliesOn"     ─► RFS (@type ResourceFacingServiceSpecification)
    RFS.resourceSpecification                  ─► resource specifications (TMF634), taken from pools
    CFS.serviceSpecRelationship "dependency"   ─► a CFS that must be delivered first (same order)

A characteristic of a CFS takes the value of the product characteristic with the same name
(case-insensitive), an RFS characteristic the value of its CFS's; a different name is
declared on the receiving characteristic as ``charSpecRelationship`` ``{"relationshipType":
"mapsFrom", "parentSpecificationId": <source spec>, "name": <source characteristic>}``
(checked on catalog writes, ``check_mappings``). A characteristic named after one of the
RFS's resource specifications (e.g. "MSISDN") asks for that resource by value.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...errors import Unprocessable
from ...tmf import Doc, fold

if TYPE_CHECKING:
    from ...engine.core import Engine
    from ...engine.unit import Unit

SERVICE_CATALOG = "tmf633"
RESOURCE_CATALOG = "tmf634"
PRODUCT_CATALOG = "tmf620"
RELIES_ON = frozenset({"relieson", "realizedby", "isrealizedby"})
DEPENDS_ON = frozenset({"dependency", "dependson", "requires"})
MAPS_FROM = "mapsfrom"


def is_rfs(spec: Doc) -> bool:
    return "resourcefacing" in fold(spec.get("@type", "")).replace(" ", "")


def related(spec: Doc, kinds: frozenset[str]) -> list[str]:
    return [
        r["id"]
        for r in spec.get("serviceSpecRelationship") or []
        if isinstance(r, dict) and fold(r.get("relationshipType", "")) in kinds and r.get("id")
    ]


class ChainView:
    """Specifications (product, service, resource) read inside a unit, cached for the step
    (an order may name the same one many times)."""

    def __init__(self, engine: Engine, unit: Unit) -> None:
        self.engine, self.unit = engine, unit
        self._cache: dict[tuple[str, str], Doc | None] = {}

    async def read(self, api: str, resource: str, id: str | None) -> Doc | None:
        """One resource of any API by id, read once per step (None when it does not exist)."""
        if not id:
            return None
        key = (resource, id)
        if key not in self._cache:
            self._cache[key] = await self.engine.resource(api, resource).read(id, self.unit)
        return self._cache[key]

    async def service_spec(self, id: str | None) -> Doc | None:
        return await self.read(SERVICE_CATALOG, "serviceSpecification", id)

    async def resource_spec(self, id: str | None) -> Doc | None:
        return await self.read(RESOURCE_CATALOG, "resourceSpecification", id)

    async def specification(self, id: str | None) -> Doc | None:
        """A product specification (TMF620)."""
        return await self.read(PRODUCT_CATALOG, "productSpecification", id)

    async def rfs_of(self, cfs: Doc) -> list[Doc]:
        """The RFS specifications a CFS relies on (an RFS ordered directly stands for itself)."""
        if is_rfs(cfs):
            return [cfs]
        found = [await self.service_spec(i) for i in related(cfs, RELIES_ON)]
        return [s for s in found if s is not None]


def _source_name(char_spec: Doc, source_spec_id: str) -> str:
    for rel in char_spec.get("charSpecRelationship") or []:
        if fold(rel.get("relationshipType", "")) == MAPS_FROM and rel.get("parentSpecificationId") == source_spec_id:
            return str(rel.get("name", ""))
    return str(char_spec.get("name", ""))


def _default(char_spec: Doc) -> Any:
    for value in char_spec.get("characteristicValueSpecification") or []:
        if value.get("isDefault") and "value" in value:
            return value["value"]
    return None


def map_characteristics(target: Doc, source_id: str, source: list[Doc], *, defaults: bool = True) -> list[Doc]:
    """``target`` spec's characteristics valued from ``source`` (characteristics of spec ``source_id``)."""
    given = {fold(c.get("name", "")): c for c in source if isinstance(c, dict) and "value" in c}
    out = []
    for char_spec in target.get("specCharacteristic") or []:
        name = char_spec.get("name")
        if not name:
            continue
        found = given.get(fold(_source_name(char_spec, source_id)))
        if found is not None:
            value = found["value"]
        elif defaults and (default := _default(char_spec)) is not None:
            value = default
        else:
            continue
        out.append({"name": name, "value": value, "valueType": char_spec.get("valueType") or found_type(value)})
    return out


def found_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return "string"


def wanted_value(rfs_chars: list[Doc], resource_spec: Doc) -> str | None:
    """The value an RFS asks for a resource of ``resource_spec`` by (e.g. its MSISDN)."""
    name = fold(resource_spec.get("name", ""))
    for char in rfs_chars:
        if fold(char.get("name", "")) == name and char.get("value") not in (None, ""):
            return str(char["value"])
    return None


async def check_mappings(engine: Engine, unit: Unit, spec: Doc) -> None:
    """Refuse (422) a ``mapsFrom`` whose source specification or characteristic does not exist."""
    view = ChainView(engine, unit)
    for char_spec in spec.get("specCharacteristic") or []:
        for rel in char_spec.get("charSpecRelationship") or []:
            if fold(rel.get("relationshipType", "")) != MAPS_FROM:
                continue
            source_id = rel.get("parentSpecificationId")
            source = await view.service_spec(source_id) or await view.specification(source_id)
            where = f"specCharacteristic {char_spec.get('name')!r}: mapsFrom"
            if source is None:
                raise Unprocessable(
                    f"{where} names specification {source_id!r}, which does not exist", code="INVALID_MAPPING"
                )
            chars = source.get("specCharacteristic") or source.get("productSpecCharacteristic") or []
            if fold(rel.get("name", "")) not in {fold(c.get("name", "")) for c in chars}:
                raise Unprocessable(
                    f"{where} names characteristic {rel.get('name')!r}, which {source_id} does not have",
                    code="INVALID_MAPPING",
                )

"""TMF633 Service Catalog Management v4 (``TMF633-ServiceCatalog-v4.0.0.swagger.json``).

serviceCatalog, serviceCategory, serviceCandidate, serviceSpecification (CFS and RFS
specifications, ``serviceSpecRelationship``, ``resourceSpecification``, ``specCharacteristic``),
importJob, exportJob, hub. ``lifecycleStatus`` follows the catalog lifecycle. A characteristic's
``mapsFrom`` mapping (``chain.py``) must name an existing specification and characteristic (422). TMF633 v4
names one ``…ChangeEvent`` per entity for attribute and state changes alike.
"""

from __future__ import annotations

from dataclasses import replace

from ...engine.declaration import ApiDecl
from ...engine.service import ResourceService
from ...engine.unit import Unit
from ...tmf import Doc
from .chain import check_mappings
from .declarations import catalog_entity, job_resources


async def _mappings_on_create(svc: ResourceService, unit: Unit, doc: Doc) -> None:
    await check_mappings(svc.engine, unit, doc)


async def _mappings_on_update(svc: ResourceService, unit: Unit, before: Doc, after: Doc) -> None:
    if before.get("specCharacteristic") != after.get("specCharacteristic"):
        await check_mappings(svc.engine, unit, after)


API = ApiDecl.build(
    "TMF633-ServiceCatalog-v4.0.0.swagger.json",
    resources=[
        catalog_entity("serviceCatalog", ("category.id",)),
        catalog_entity("serviceCategory", ("parentId",)),
        catalog_entity("serviceCandidate", ("serviceSpecification.id", "category.id")),
        replace(
            catalog_entity("serviceSpecification", ("serviceSpecRelationship.id", "resourceSpecification.id")),
            before_insert=_mappings_on_create,
            on_update=_mappings_on_update,
        ),
        *job_resources(),
    ],
)

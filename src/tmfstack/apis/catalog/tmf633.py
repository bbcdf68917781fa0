"""TMF633 Service Catalog Management v4 (``TMF633-ServiceCatalog-v4.0.0.swagger.json``).

serviceCatalog, serviceCategory, serviceCandidate, serviceSpecification (CFS and RFS
specifications, ``serviceSpecRelationship``, ``resourceSpecification``, ``specCharacteristic``),
importJob, exportJob, hub. ``lifecycleStatus`` follows the catalog lifecycle. TMF633 v4
names one ``…ChangeEvent`` per entity for attribute and state changes alike.
"""

from __future__ import annotations

from ...engine.declaration import ApiDecl
from .resources import catalog_entity, job_resources

API = ApiDecl.build(
    "tmf633",
    contract="tmf633_v4",
    name="serviceCatalogManagement",
    version="v4",
    resources=[
        catalog_entity("serviceCatalog", ("category.id",)),
        catalog_entity("serviceCategory", ("parentId",)),
        catalog_entity("serviceCandidate", ("serviceSpecification.id", "category.id")),
        catalog_entity("serviceSpecification", ("serviceSpecRelationship.id", "resourceSpecification.id")),
        *job_resources(),
    ],
)

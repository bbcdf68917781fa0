"""TMF634 Resource Catalog v4 (``TMF634-ResourceCatalog-v4.1.0.swagger.json``).

resourceCatalog, resourceCategory, resourceCandidate, resourceSpecification, importJob,
exportJob, hub. ``lifecycleStatus`` follows the catalog lifecycle; v4 names one
``…ChangeEvent`` per entity, and ``importJob``/``exportJob`` Create and StateChange events.
"""

from __future__ import annotations

from ...engine.declaration import ApiDecl
from .declarations import catalog_entity, job_resources

API = ApiDecl.build(
    "TMF634-ResourceCatalog-v4.1.0.swagger.json",
    resources=[
        catalog_entity("resourceCatalog", ("category.id",)),
        catalog_entity("resourceCategory", ("parentId",)),
        catalog_entity("resourceCandidate", ("resourceSpecification.id", "category.id")),
        catalog_entity("resourceSpecification", ("resourceSpecRelationship.id",)),
        *job_resources(),
    ],
)

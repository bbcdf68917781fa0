"""TMF620 Product Catalog Management v4 (``TMF620-ProductCatalog-v4.1.0.swagger.json``).

Resources: catalog, category, productOffering, productOfferingPrice, productSpecification
(full CRUD, ``lifecycleStatus`` per ``CATALOG_LIFECYCLE``), importJob and exportJob
(create, read, delete; ``status`` per ``JOB_LIFECYCLE``), hub. Events:
``<Entity>CreateEvent``, ``…AttributeValueChangeEvent``, ``…StateChangeEvent``,
``…DeleteEvent``. The conformance kit was written for 4.0.0; its expectations hold.
"""

from __future__ import annotations

from ...engine.declaration import ApiDecl
from .declarations import catalog_entity, job_resources

ENTITIES = ("catalog", "category", "productOffering", "productOfferingPrice", "productSpecification")

#: nested references integrators filter on (equality on these uses an index)
_REFS = {
    "productOffering": ("category.id", "channel.id", "productSpecification.id"),
    "category": ("parentId",),
}

API = ApiDecl.build(
    "TMF620-ProductCatalog-v4.1.0.swagger.json",
    partner_access="read",
    resources=[
        *(catalog_entity(name, _REFS.get(name, ())) for name in ENTITIES),
        *job_resources(),
    ],
)

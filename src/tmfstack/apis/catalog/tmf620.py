"""TMF620 Product Catalog Management v4 (``TMF620-ProductCatalog-v4.1.0.swagger.json``).

Resources: catalog, category, productOffering, productOfferingPrice, productSpecification
(full CRUD, ``lifecycleStatus`` per ``CATALOG_LIFECYCLE``), importJob and exportJob
(create, read, delete; ``status`` per ``JOB_LIFECYCLE``), hub. Events:
``<Entity>CreateEvent``, ``…AttributeValueChangeEvent``, ``…StateChangeEvent``,
``…DeleteEvent``. The conformance kit was written for 4.0.0; its expectations hold.
"""

from __future__ import annotations

from ...engine.declaration import AfterCommit, ApiDecl, ResourceDecl, Resume
from . import jobs
from .lifecycle import CATALOG_LIFECYCLE, JOB_LIFECYCLE

_JOB_OWNED = frozenset({"status", "completionDate", "creationDate", "errorLog"})


#: nested references integrators filter on (equality on these uses an index)
_REFS = {
    "productOffering": ("category.id", "channel.id"),
    "category": ("parentId",),
}


def _job(name: str, start: AfterCommit, resume: Resume) -> ResourceDecl:
    return ResourceDecl(
        name,
        lifecycle=JOB_LIFECYCLE,
        server_owned=_JOB_OWNED,
        stamp=None,
        created_stamp="creationDate",
        after_commit=start,
        resume=resume,
    )


def _entity(name: str) -> ResourceDecl:
    return ResourceDecl(name, lifecycle=CATALOG_LIFECYCLE, ref_paths=_REFS.get(name, ()))


API = ApiDecl.build(
    "tmf620",
    contract="tmf620_v4",
    name="productCatalogManagement",
    version="v4",
    resources=[
        _entity("catalog"),
        _entity("category"),
        _entity("productOffering"),
        _entity("productOfferingPrice"),
        _entity("productSpecification"),
        _job("importJob", jobs.start_import, jobs.resume_imports),
        _job("exportJob", jobs.start_export, jobs.resume_exports),
    ],
)

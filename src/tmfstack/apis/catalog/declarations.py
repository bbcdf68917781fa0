"""The resource declarations the catalog APIs (TMF620, TMF633, TMF634) share: catalog entities
and the import and export jobs (named so as not to be read as TMF "Resource")."""

from __future__ import annotations

from ...clock import new_id
from ...engine.declaration import ResourceDecl, Sample
from ...engine.service import ResourceService
from ...tmf import Doc
from . import jobs
from .lifecycle import CATALOG_LIFECYCLE, JOB_LIFECYCLE

_JOB_OWNED = frozenset({"status", "completionDate", "creationDate", "errorLog"})


def catalog_entity(name: str, ref_paths: tuple[str, ...] = ()) -> ResourceDecl:
    """A catalog entity: full CRUD, ``lifecycleStatus`` per the catalog lifecycle; seen by every
    client that may read the catalog (``shared``: no partner isolation)."""
    return ResourceDecl(name, lifecycle=CATALOG_LIFECYCLE, ref_paths=ref_paths, stamp="lastUpdate", shared=True)


def job_resources() -> tuple[ResourceDecl, ResourceDecl]:
    """``importJob`` and ``exportJob``: created, run in the background, resumed after a restart."""
    return (
        _job("importJob", jobs.start_import, jobs.resume_imports, jobs.check_import),
        _job("exportJob", jobs.start_export, jobs.resume_exports, jobs.check_export, _export_sample),
    )


async def _export_sample(svc: ResourceService) -> Doc:
    """For the generic API tests: an export writes only inside the export folder."""
    return {"url": (svc.engine.export_dir / f"sample-{new_id()}.json").resolve().as_uri()}


def _job(
    name: str, start: jobs.Hook, resume: jobs.ResumeHook, check: jobs.CheckHook, sample: Sample | None = None
) -> ResourceDecl:
    """``check`` refuses (400) at creation a URL outside the folders or forbidden by the outbound policy."""
    return ResourceDecl(
        name,
        lifecycle=JOB_LIFECYCLE,
        server_owned=_JOB_OWNED,
        created_stamp="creationDate",
        before_insert=check,
        after_commit=start,
        resume=resume,
        job=True,
        sample=sample,
    )

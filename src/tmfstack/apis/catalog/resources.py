"""The resource declarations the catalog APIs (TMF620, TMF633, TMF634) share."""

from __future__ import annotations

from ...engine.declaration import ResourceDecl
from . import jobs
from .lifecycle import CATALOG_LIFECYCLE, JOB_LIFECYCLE

_JOB_OWNED = frozenset({"status", "completionDate", "creationDate", "errorLog"})


def catalog_entity(name: str, ref_paths: tuple[str, ...] = ()) -> ResourceDecl:
    """A catalog entity: full CRUD, ``lifecycleStatus`` per the catalog lifecycle."""
    return ResourceDecl(name, lifecycle=CATALOG_LIFECYCLE, ref_paths=ref_paths)


def job_resources() -> tuple[ResourceDecl, ResourceDecl]:
    """``importJob`` and ``exportJob``: created, run in the background, resumed after a restart."""
    return (
        _job("importJob", jobs.start_import, jobs.resume_imports),
        _job("exportJob", jobs.start_export, jobs.resume_exports),
    )


def _job(name: str, start: jobs.Hook, resume: jobs.ResumeHook) -> ResourceDecl:
    return ResourceDecl(
        name,
        lifecycle=JOB_LIFECYCLE,
        server_owned=_JOB_OWNED,
        stamp=None,
        created_stamp="creationDate",
        after_commit=start,
        resume=resume,
    )

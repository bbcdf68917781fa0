"""Catalog import and export jobs (``importJob`` / ``exportJob`` of TMF620, 633, 634).

An import reads a file from ``url`` (``file://`` or ``http(s)://``) holding either
``{"<resource>": [entity, …], …}`` or a list of entities carrying ``@type``, and
creates every entity through the same service the API uses, keeping the ids the
file gives. An export writes ``{"<resource>": [entity, …]}`` for the resources
named in ``path`` (default: all of the API's catalog resources) filtered by the
TMF630 ``query``, to ``url`` or to the export folder, and reports the file's URL.

Progress is stored on the job (Not Started → Running → Succeeded | Failed, with
``errorLog``); a job interrupted by a crash is resumed at start-up, and because
existing ids are skipped, resuming an import creates nothing twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import httpx
import orjson

from ...clock import now_iso
from ...engine.declaration import Doc
from ...engine.service import ResourceService
from ...errors import Conflict, TmfError

MAX_IMPORT = 64 << 20
Hook = Callable[[ResourceService, Doc], Awaitable[None]]
ResumeHook = Callable[[ResourceService], Awaitable[None]]
_OPEN = ("Not Started", "Running")


def _file_path(url: str) -> Path:
    parts = urlsplit(url)
    return Path(unquote(parts.path))


async def fetch(url: str) -> bytes:
    scheme = urlsplit(url).scheme
    if scheme == "file":
        path = _file_path(url)
        if path.stat().st_size > MAX_IMPORT:
            raise ValueError(f"{url} is larger than {MAX_IMPORT} bytes")
        return await asyncio.to_thread(path.read_bytes)
    if scheme in ("http", "https"):
        async with httpx.AsyncClient(timeout=60, follow_redirects=True) as client:
            response = await client.get(url)
            response.raise_for_status()
            return response.content
    raise ValueError(f"unsupported URL scheme in {url!r} (use file:// or http(s)://)")


def _entities(svc: ResourceService, data: Any, path: str | None) -> list[tuple[str, str, Any]]:
    """(resource, label, entity) for each entity; the label locates it in the file."""
    by_entity = {s.entity: name for name, s in svc.engine.services[svc.api.root].items()}
    if isinstance(data, dict) and path:
        data = {path: data.get(path, [])}
    if isinstance(data, dict):
        out = []
        for name, items in data.items():
            listed = items if isinstance(items, list) else [items]
            out.extend((name, f"{name}[{i}]", e) for i, e in enumerate(listed))
        return out
    if isinstance(data, list):
        types = [e.get("@type", "") if isinstance(e, dict) else "" for e in data]
        return [
            (by_entity.get(t, ""), f"[{i}] ({t or 'no @type'})", e)
            for i, (t, e) in enumerate(zip(types, data, strict=True))
        ]
    raise ValueError("an import file holds an object of arrays keyed by resource, or an array of entities")


async def _set(svc: ResourceService, id: str, **changes: Any) -> None:
    def change(doc: Doc) -> Doc:
        return {**doc, **changes}

    await svc.update(id, change)


async def run_import(svc: ResourceService, job: Doc) -> None:
    await _set(svc, job["id"], status="Running")
    services = svc.engine.services[svc.api.root]
    errors: list[str] = []
    created = skipped = 0
    try:
        data = orjson.loads(await fetch(job["url"]))
        for resource, label, entity in _entities(svc, data, job.get("path")):
            target = services.get(resource)
            if target is None or target.decl.after_commit is not None:
                errors.append(f"{label}: {resource!r} is not a catalog resource of this API")
                continue
            try:
                await target.create(dict(entity) if isinstance(entity, dict) else entity, keep_id=True)
                created += 1
            except Conflict:
                skipped += 1  # already there: a resumed or repeated import
            except TmfError as exc:
                errors.append(f"{label} id={entity.get('id') if isinstance(entity, dict) else None}: {exc.message}")
    except (OSError, ValueError, httpx.HTTPError) as exc:
        errors.append(f"cannot read {job['url']}: {exc}")
    summary = f"created {created}, already present {skipped}, failed {len(errors)}"
    await _set(
        svc,
        job["id"],
        status="Failed" if errors else "Succeeded",
        completionDate=now_iso(),
        errorLog="\n".join([summary, *errors]),
    )


async def run_export(svc: ResourceService, job: Doc) -> None:
    await _set(svc, job["id"], status="Running")
    services = svc.engine.services[svc.api.root]
    exportable = [n for n, s in services.items() if s.decl.after_commit is None]
    names = [n.strip() for n in (job.get("path") or "").split(",") if n.strip()] or exportable
    try:
        unknown = [n for n in names if n not in exportable]
        if unknown:
            raise ValueError(f"path names unknown resources: {', '.join(unknown)}")
        out: dict[str, list[Any]] = {}
        params = parse_qsl((job.get("query") or "").lstrip("?"), keep_blank_values=True)
        for name in names:
            target = services[name]
            query = target.parse(params)
            out[name] = [orjson.loads(raw) for raw in await target.list_all(query)]
        url = job.get("url") or (svc.engine.export_dir / f"export-{job['id']}.json").resolve().as_uri()
        target_path = _file_path(url)
        if urlsplit(url).scheme != "file":
            raise ValueError("exports are written to file:// URLs")
        target_path.parent.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(target_path.write_bytes, orjson.dumps(out, option=orjson.OPT_INDENT_2))
        counts = ", ".join(f"{k}: {len(v)}" for k, v in out.items())
        await _set(svc, job["id"], status="Succeeded", completionDate=now_iso(), url=url, errorLog=f"exported {counts}")
    except (OSError, ValueError, TmfError) as exc:
        message = exc.message if isinstance(exc, TmfError) else str(exc)
        await _set(svc, job["id"], status="Failed", completionDate=now_iso(), errorLog=message)


async def start_import(svc: ResourceService, job: Doc) -> None:
    svc.engine.spawn(run_import(svc, job))


async def start_export(svc: ResourceService, job: Doc) -> None:
    svc.engine.spawn(run_export(svc, job))


async def resume_imports(svc: ResourceService) -> None:
    await _resume(svc, run_import)


async def resume_exports(svc: ResourceService) -> None:
    await _resume(svc, run_export)


async def _resume(svc: ResourceService, run: Any) -> None:
    async for raw in svc.store.scan(svc.kind, []):
        job = orjson.loads(raw)
        if job.get("status") in _OPEN:
            svc.engine.spawn(run(svc, job))

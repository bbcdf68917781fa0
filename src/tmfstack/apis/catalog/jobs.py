"""Catalog import and export jobs (``importJob`` / ``exportJob`` of TMF620, 633, 634).

An import reads a file from ``url`` (``file://`` or ``http(s)://``) holding either
``{"<resource>": [entity, …], …}`` or a list of entities carrying ``@type``, and
creates every entity through the same service the API uses, keeping the ids the
file gives. An export writes ``{"<resource>": [entity, …]}`` for the resources
named in ``path`` (default: all of the API's catalog resources) filtered by the
TMF630 ``query``, to ``url`` or to the export folder, and reports the file's URL.

Job URLs are client input, so they are confined: ``file://`` imports read only regular
files inside ``settings.import_dir`` or the package's demo data, exports write only inside
``settings.export_dir``, and ``http(s)://`` imports go through the outbound guard
(``tmfstack.net``). A URL is checked when the job is created (400) and again when it runs;
``errorLog`` never shows file contents or paths outside those folders.

Progress is stored on the job (Not Started → Running → Succeeded | Failed, with
``errorLog``); a job interrupted by a crash is resumed at start-up, and because
existing ids are skipped, resuming an import creates nothing twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import stat
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import httpx
import orjson

from ...clock import now_iso
from ...engine.service import ResourceService
from ...engine.unit import Unit
from ...errors import BadRequest, Conflict, TmfError
from ...net.outbound import AddressPolicy, check_destination, fetch, guarded_client
from ...settings import Settings
from ...tmf import Doc

log = logging.getLogger("tmfstack.jobs")

MAX_IMPORT = 64 << 20
#: an http import: each network step, and the whole download
HTTP_TIMEOUT, IMPORT_DEADLINE = 30.0, 300.0
#: the package's demo data, ``tmfstack/demo/data`` (``tmfstack demo`` imports its JSON files;
#: located by path, as the APIs do not import the demo)
DEMO_DIR = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "demo", "data"))
Hook = Callable[[ResourceService, Doc], Awaitable[None]]
ResumeHook = Callable[[ResourceService], Awaitable[None]]
CheckHook = Callable[[ResourceService, Unit, Doc], Awaitable[None]]
_OPEN = ("Not Started", "Running")
#: errors an import's errorLog lists one by one (the rest are counted): the job stays small
MAX_LOGGED = 100


# -- where a job may read and write ------------------------------------------------------------


def _refuse(message: str) -> BadRequest:
    return BadRequest(message, code="INVALID_URL")


def _inside(real: str, root: str) -> bool:
    return real == root or real.startswith(root.rstrip(os.sep) + os.sep)


def _local_path(url: str) -> str:
    """The absolute path a ``file://`` URL names, before symlinks are resolved."""
    parts = urlsplit(url)
    if parts.scheme != "file":
        raise _refuse("the URL must be a file:// URL")
    if parts.netloc not in ("", "localhost") or parts.query or parts.fragment:
        raise _refuse("a file:// URL names a local path only (no host, query or fragment)")
    path = unquote(parts.path)
    if not path.startswith("/") or "\x00" in path:
        raise _refuse("a file:// URL needs an absolute path")
    if ".." in path.split("/"):
        raise _refuse("'..' is not allowed in a file:// URL")
    return path


def _regular_or_missing(real: str) -> None:
    """Refuse devices, FIFOs, folders; a missing file is reported when the job runs."""
    try:
        mode = os.stat(real).st_mode
    except OSError:
        return
    if not stat.S_ISREG(mode):
        raise _refuse("the URL must name a regular file")


def import_file(url: str, settings: Settings) -> str:
    """The real path of the file a ``file://`` import URL names: inside the import folder or the demo data."""
    real = os.path.realpath(_local_path(url))
    demo = _inside(real, DEMO_DIR) and real.endswith(".json")
    if not (demo or _inside(real, os.path.realpath(settings.import_dir))):
        raise _refuse("file:// imports must name a file inside the import folder")
    _regular_or_missing(real)
    return real


def export_file(url: str, settings: Settings) -> str:
    """The real path of the file a ``file://`` export URL names, inside the export folder."""
    real = os.path.realpath(_local_path(url))
    root = os.path.realpath(settings.export_dir)
    if real == root or not _inside(real, root):
        raise _refuse("exports are written to a file:// URL inside the export folder")
    _regular_or_missing(real)
    return real


def _policy(settings: Settings) -> AddressPolicy:
    return settings.outbound_policy()


def _check_source(url: str, settings: Settings) -> None:
    scheme = urlsplit(url).scheme
    if scheme == "file":
        import_file(url, settings)
    elif scheme in ("http", "https"):
        check_destination(url, _policy(settings))
    else:
        raise _refuse("unsupported URL scheme (use file:// or http(s)://)")


async def check_import(svc: ResourceService, unit: Unit, job: Doc) -> None:
    """``before_insert`` of importJob: refuse (400) a URL the job could never read."""
    if isinstance(job.get("url"), str):
        _check_source(job["url"], svc.engine.settings)


async def check_export(svc: ResourceService, unit: Unit, job: Doc) -> None:
    """``before_insert`` of exportJob: a given URL must be a file inside the export folder."""
    if job.get("url") is not None:
        export_file(str(job["url"]), svc.engine.settings)


# -- reading and writing ---------------------------------------------------------------------


def _read_file(real: str) -> bytes:
    # O_NOFOLLOW: a symlink swapped in after the check is not followed; O_NONBLOCK: nor does a FIFO block
    fd = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ValueError("not a regular file")
        if info.st_size > MAX_IMPORT:
            raise ValueError(f"larger than {MAX_IMPORT} bytes")
        data = f.read(MAX_IMPORT + 1)
    if len(data) > MAX_IMPORT:
        raise ValueError(f"larger than {MAX_IMPORT} bytes")
    return data


async def _download(url: str, settings: Settings) -> bytes:
    # every hop of a redirect is checked at connect time by the guard, not only the first URL
    async with guarded_client(_policy(settings), timeout=HTTP_TIMEOUT, follow_redirects=True) as client:
        answer = await fetch(client, "GET", url, limit=MAX_IMPORT, deadline=IMPORT_DEADLINE)
    if not 200 <= answer.status < 300:
        raise ValueError(f"HTTP {answer.status}")
    return answer.body


async def fetch_source(url: str, settings: Settings) -> bytes:
    """The bytes an import URL names, checked again now (the folder or DNS may have changed)."""
    if urlsplit(url).scheme == "file":
        return await asyncio.to_thread(_read_file, import_file(url, settings))
    _check_source(url, settings)
    return await _download(url, settings)


def _write_file(real: str, root: str, data: bytes) -> None:
    parent = os.path.dirname(real)
    os.makedirs(parent, exist_ok=True)
    if not _inside(os.path.realpath(parent), root):  # a folder swapped for a symlink since the check
        raise ValueError("the export path left the export folder")
    temp = os.path.join(parent, f".{os.path.basename(real)}.{uuid.uuid4().hex}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(temp, real)  # replaces a symlink at ``real`` instead of writing through it
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def _label(url: str) -> str:
    """How errorLog names a source: a file by its name only, an http URL without its query."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        return os.path.basename(unquote(parts.path)) or "the file"
    try:  # no user info: a URL stored before credentials were refused must not show them
        host = f"[{parts.hostname}]" if ":" in (parts.hostname or "") else parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "the URL"
    return f"{parts.scheme}://{host}{port}{parts.path}"


def _reason(exc: BaseException) -> str:
    """Why a source could not be read, without its content or any path."""
    if isinstance(exc, orjson.JSONDecodeError):
        return f"not valid JSON (line {exc.lineno}, column {exc.colno})"
    if isinstance(exc, TmfError):
        return exc.message
    if isinstance(exc, OSError):
        return exc.strerror or type(exc).__name__
    if isinstance(exc, httpx.HTTPError):
        return f"{type(exc).__name__}: {exc}"
    return str(exc)


def _entities(svc: ResourceService, data: Any, path: str | None) -> list[tuple[str, str, Any]]:
    """(resource, label, entity) for each entity; the label locates it in the file."""
    by_entity = {s.entity: name for name, s in svc.engine.services[svc.api.root].items()}
    if isinstance(data, dict) and path:
        data = {path: data.get(path, [])}
    if isinstance(data, dict):
        out: list[tuple[str, str, Any]] = []
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
    settings = svc.engine.settings
    try:
        data = await asyncio.to_thread(orjson.loads, await fetch_source(job["url"], settings))  # 64 MiB: off the loop
        for resource, label, entity in _entities(svc, data, job.get("path")):
            target = services.get(resource)
            if target is None or target.decl.job:
                errors.append(f"{label}: {resource!r} is not a catalog resource of this API")
                continue
            try:
                await target.create(dict(entity) if isinstance(entity, dict) else entity, keep_id=True)
                created += 1
            except Conflict:
                skipped += 1  # already there: a resumed or repeated import
            except TmfError as exc:
                errors.append(f"{label} id={_shown(entity)}: {exc.message}")
    except (OSError, ValueError, TmfError, httpx.HTTPError) as exc:
        errors.append(f"cannot read {_label(job['url'])}: {_reason(exc)}")
    except Exception:  # a job must end, and its log must not carry a stack trace
        log.exception("import job %s failed", job["id"])
        errors.append("internal error while importing (see the server log)")
    summary = f"created {created}, already present {skipped}, failed {len(errors)}"
    more = [f"… and {len(errors) - MAX_LOGGED} more"] if len(errors) > MAX_LOGGED else []
    await _set(
        svc,
        job["id"],
        status="Failed" if errors else "Succeeded",
        completionDate=now_iso(),
        errorLog="\n".join([summary, *errors[:MAX_LOGGED], *more]),
    )


def _shown(entity: Any) -> str:
    """An entity's id as errorLog shows it: quoted (CR/LF escaped, no forged lines), at most 40 characters."""
    text = repr(entity.get("id") if isinstance(entity, dict) else None)
    return text if len(text) <= 40 else text[:40] + "…"


async def run_export(svc: ResourceService, job: Doc) -> None:
    await _set(svc, job["id"], status="Running")
    services = svc.engine.services[svc.api.root]
    exportable = [n for n, s in services.items() if not s.decl.job]
    names = [n.strip() for n in (job.get("path") or "").split(",") if n.strip()] or exportable
    try:
        unknown = [n for n in names if n not in exportable]
        if unknown:
            raise ValueError(f"path names unknown resources: {', '.join(unknown)}")
        out: dict[str, list[bytes]] = {}
        params = parse_qsl((job.get("query") or "").lstrip("?"), keep_blank_values=True)
        for name in names:
            target = services[name]
            query = target.parse(params)
            out[name] = await target.list_all(query)
        settings = svc.engine.settings
        url = job.get("url") or (Path(settings.export_dir) / f"export-{job['id']}.json").resolve().as_uri()
        path = export_file(url, settings)  # checked again: the folder may have changed since creation
        data = await asyncio.to_thread(_export_bytes, out)  # a whole catalog: off the loop
        await asyncio.to_thread(_write_file, path, os.path.realpath(settings.export_dir), data)
        counts = ", ".join(f"{k}: {len(v)}" for k, v in out.items())
        await _set(svc, job["id"], status="Succeeded", completionDate=now_iso(), url=url, errorLog=f"exported {counts}")
    except (OSError, ValueError, TmfError) as exc:
        await _set(svc, job["id"], status="Failed", completionDate=now_iso(), errorLog=_reason(exc))
    except Exception:
        log.exception("export job %s failed", job["id"])
        await _set(svc, job["id"], status="Failed", completionDate=now_iso(), errorLog="internal error (see the log)")


def _export_bytes(out: dict[str, list[bytes]]) -> bytes:
    return orjson.dumps({k: [orjson.loads(raw) for raw in v] for k, v in out.items()}, option=orjson.OPT_INDENT_2)


async def start_import(svc: ResourceService, job: Doc) -> None:
    svc.engine.spawn(run_import(svc, job))


async def start_export(svc: ResourceService, job: Doc) -> None:
    svc.engine.spawn(run_export(svc, job))


async def resume_imports(svc: ResourceService) -> None:
    await _resume(svc, run_import)


async def resume_exports(svc: ResourceService) -> None:
    await _resume(svc, run_export)


async def _resume(svc: ResourceService, run: Any) -> None:
    async for job in svc.scan({"status": _OPEN}):
        svc.engine.spawn(run(svc, job))

"""The engine: every declared API's resource services over one store."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import orjson

from .. import limits
from ..settings import DomainSettings, Settings
from ..store.base import Store
from .declaration import ApiDecl
from .faces import Faces
from .hubs import HubService
from .nested import service_for
from .reference import ReferenceData
from .served import OwnService, VersionService
from .service import ResourceService
from .tasks import Queue
from .unit import Unit
from .versions import VersionDecl

T = TypeVar("T")

log = logging.getLogger("tmfstack.engine")


class Engine:
    def __init__(
        self,
        store: Store,
        apis: Sequence[ApiDecl],
        *,
        public_url: str = "http://localhost:8080",
        default_limit: int = 100,
        max_limit: int = 1000,
        export_dir: Path = Path("exports"),
        settings: Settings | None = None,
        domain: DomainSettings | None = None,
    ) -> None:
        self.store = store
        #: typed runtime settings (security, outbound calls, folders)
        self.settings = settings or Settings()
        limits.configure(self.settings.limits)
        #: lists evaluated in Python, admitted a few at a time (``reading.py``)
        self.scans = asyncio.Semaphore(self.settings.limits.scans)
        self.public_url = public_url.rstrip("/")
        self.default_limit = default_limit
        self.max_limit = max_limit
        self.export_dir = export_dir
        #: what domain modules read (e.g. ``strict_orders``), checked once here
        self.domain = domain or self.settings.domain()
        self.apis = {api.root: api for api in apis}
        #: every task queue the APIs declare (queue name -> TaskDecl or IoTaskDecl)
        self.queues: dict[str, Queue] = {q: t for api in apis for q, t in api.tasks.items()}
        self.services: dict[str, dict[str, ResourceService]] = {
            api.root: {name: service_for(self, api, decl) for name, decl in api.resources.items()} for api in apis
        }
        #: API number -> its resources' services, as the canonical declaration (the one its domain
        #: rules are written against) serves them: how domain code refers to another API
        self.by_key: dict[str, dict[str, ResourceService]] = {}
        for api in apis:
            if not isinstance(api, VersionDecl):
                self.by_key.setdefault(api.key, self.services[api.root])
        #: (hub event API, stored payload key) -> the service shaping events for that version's hubs
        self.event_shapes: dict[tuple[str, str], ResourceService] = {}
        #: kind -> the served versions whose renditions are stored with its documents
        self.faces = Faces()
        for api in apis:
            if isinstance(api, VersionDecl):
                self._serve_version(api)
        self.hubs = {api.root: HubService(self, api) for api in apis}
        #: operator-loaded data sets that are not TMF resources (places and markets)
        self.reference = ReferenceData(self)
        self._wake: Callable[[], None] | None = None
        self._wake_tasks: list[Callable[[], None]] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._shared: dict[Callable[[Engine], Any], Any] = {}
        self._secrets: dict[str, bytes] = {}

    def _serve_version(self, version: VersionDecl) -> None:
        """Serve ``version`` over its canonical resources: one ``VersionService`` per mapped
        resource, registered as a listener of the canonical one (its hubs hear every change)."""
        assert version.of is not None
        canonical = self.services[version.of.root]
        served = self.services[version.root]
        event_api = f"{version.key}.{version.version}"
        for name, mapping in version.maps.items():
            view = served[name] = VersionService(self, version, name, canonical[mapping.canonical])
            canonical[mapping.canonical].listeners.append((event_api, view))
            self.faces.add(view)
            self.event_shapes[(event_api, canonical[mapping.canonical].name)] = view
        for name, decl in version.resources.items():
            if not decl.parent:  # its own resources: the version's leniency and event envelope
                own = served[name] = OwnService(self, version, decl)
                own.listeners[:] = [(event_api, own)]
                self.event_shapes[(event_api, own.name)] = own

    def shape_event(self, hub_api: str, payload: bytes) -> bytes:
        """The bytes a hub of ``hub_api`` receives for a stored event: the payload itself for the
        canonical version, else the event shaped for the hub's version (at delivery: one outbox row
        per change whatever the versions listening, and a mapping fix reaches pending events too)."""
        if not self.event_shapes or hub_api.count(".") != 1:
            return payload
        event = orjson.loads(payload)
        body = event.get("event")
        key = next(iter(body), "") if isinstance(body, dict) and len(body) == 1 else ""
        shaper = self.event_shapes.get((hub_api, key))
        return payload if shaper is None else orjson.dumps(shaper.shaped_event(event))

    async def secret(self, name: str) -> bytes:
        """A random 32-byte secret of this installation, made once and kept in the store, so every
        replica and every restart uses the same one (e.g. the key activation callbacks are signed with)."""
        found = self._secrets.get(name)
        if found is None:
            found = self._secrets[name] = bytes.fromhex(await self.store.meta_setdefault(name, secrets.token_hex(32)))
        return found

    def shared(self, make: Callable[[Engine], T]) -> T:
        """The one object ``make`` builds for this engine, built at first use (e.g. the activation
        adapter: its connections and simulator state live as long as the engine)."""
        if make not in self._shared:
            self._shared[make] = make(self)
        return self._shared[make]

    @asynccontextmanager
    async def unit(self) -> AsyncIterator[Unit]:
        """One transaction across resources; wakes the workers and runs hooks after the commit."""
        async with self.store.transaction() as tx:
            unit = Unit(tx)
            yield unit
        if unit.deliveries:
            self.wake_dispatcher()
        if unit.tasks:
            for wake in self._wake_tasks:
                wake()
        for hook in unit.later:
            await hook()

    def on_task(self, wake: Callable[[], None]) -> Callable[[], None]:
        """Register a task runner's wake-up; returns the function that unregisters it."""
        self._wake_tasks.append(wake)
        return lambda: self._wake_tasks.remove(wake)

    async def open(self) -> None:
        """Open the store and bring each resource's reference index and stored renditions in line
        with its declaration."""
        await self.store.open()
        for services in self.services.values():
            for svc in services.values():
                marker = (f"refs:{svc.kind}", svc.ref_marker)
                if await self.store.meta(marker[0]) != marker[1]:
                    count = await self.store.reindex_refs(svc.kind, svc.refs_of, marker)
                    if count:
                        log.info("re-indexed %d %s documents for %s", count, svc.kind, marker[1] or "no paths")
        await self.faces.refresh(self.store, self.public_url)

    def service(self, api: ApiDecl, resource: str) -> ResourceService:
        return self.services[api.root][resource]

    def resource(self, api: str, name: str) -> ResourceService:
        """The service of resource ``name`` of API ``api`` by number ("tmf622"), whatever version
        serves it: how domain code refers to another API (never by a versioned path)."""
        try:
            return self.by_key[api][name]
        except KeyError:
            raise LookupError(f"no resource {name!r} in a declared API {api!r}") from None

    def on_event(self, wake: Callable[[], None]) -> None:
        """Register the dispatcher's wake-up, called after a transaction wrote deliveries."""
        self._wake = wake

    def wake_dispatcher(self) -> None:
        if self._wake is not None:
            self._wake()

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run background work (jobs) whose progress is itself stored, so a restart resumes it."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("background task failed", exc_info=task.exception())

    async def resume(self) -> None:
        """Restart unfinished work: each declared ``resume``, in declaration order."""
        for services in self.services.values():
            for svc in services.values():
                if svc.decl.resume is not None and not isinstance(svc, VersionService):
                    await svc.decl.resume(svc)

    async def drain(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

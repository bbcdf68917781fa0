"""How an API is declared: data the engine serves, plus the hooks its domain rules implement.

An API module builds one ``ApiDecl`` from the official spec file its contract was generated
from (``tools/gen_specs.py`` finds the file name here); the key, name and version come from
that contract. The engine knows no API by name: routes, validation, queries, events and hub
all come from these declarations. A complete declaration (``tests/unit/test_declaration.py``
runs this block)::

    from tmfstack.engine.declaration import ApiDecl, ResourceDecl
    from tmfstack.engine.tasks import TaskDecl
    from tmfstack.errors import BadRequest


    def known_gender(doc, before):  # a Rule: on create (before is None) and on every change
        if doc.get("gender") not in (None, "female", "male", "other"):
            raise BadRequest("gender is female, male or other", code="INVALID_VALUE")


    async def welcome(svc, unit, doc):  # an OnCreate hook, in the creating unit of work
        await unit.schedule("welcome", doc["id"], due=0)


    async def send_welcome(engine, unit, key):  # a task handler, in its own unit of work
        pass


    API = ApiDecl.build(
        "TMF632-Party-v4.0.0.swagger.json",
        resources=[ResourceDecl("individual", rules=[known_gender], on_create=welcome)],
        tasks={"welcome": TaskDecl(send_welcome)},
        partner_access="read",
    )
    assert (API.key, API.root) == ("tmf632", "/tmf-api/party/v4")

List it in ``apis/__init__.py`` (``all_apis``) to serve it.

Hook order
----------
What runs, in order, and the type of each hook (``ResourceService`` in ``service.py``,
``Engine`` in ``core.py``, ``TaskRunner`` in ``tasks.py``). Any hook may raise a
``TmfError`` to refuse; before the commit, that rolls the whole unit of work back.

Create (``ResourceService.create``; POST, imports, the order manager):

1. the body is checked: server-owned attributes refused, the state's spelling made canonical,
   validated against ``<Entity>_Create``; ``defaults`` fill what it leaves out; ``id``,
   ``href``, ``@type`` and ``created_stamp`` are set
2. ``lifecycle``: the initial state when none is given, else a state one may create in
3. ``rules`` (``Rule``: ``rule(doc, None)``), in declaration order
4. ``stamp`` set, the document validated against ``<Entity>``
5. ``refers_to``: a partner may only refer to what it sees
6. the unit of work opens (unless the caller's); for a client's request, ``ownership`` then
   ``client_check`` (``ClientCheck``)
7. ``before_insert`` (``BeforeInsert``), then ``<Entity>`` validated again
8. the row is inserted and the ``CreateEvent`` written
9. ``on_create`` (``OnCreate``)
10. ``after_commit`` (``AfterCommit``) is queued on the unit (see Commit)
11. over HTTP, after the commit: ``create_response`` (``CreateResponse``) chooses the answer; for
    a POST with an ``Idempotency-Key`` it runs inside the unit (its answer is stored with the
    creation, ``idempotency.py``) and is given the unit, else None

Patch (``ResourceService.patch`` / ``update``; PUT likewise, its body checked against
``<Entity>_Update`` first and without step 3):

1. the body is parsed (media type, bounds); the unit of work opens (a lost compare-and-set
   retries from here, up to 3 times, unless the caller gave the unit)
2. the stored document is read (visibility, ``If-Match``, ``Unit.seen``) and the patch
   applied; the state's spelling made canonical; server-owned attributes refused;
   validated against ``<Entity>``
3. ``patch_rules`` (``PatchRule``: ``rule(after, before)``), client PATCH only
4. nothing changed: the stored document is answered; nothing below runs
5. for a client's request, ``ownership`` then ``client_check``
6. ``lifecycle``: the transition must be allowed
7. ``rules`` (``Rule``: ``rule(after, before)``)
8. ``stamp`` set, validated against ``<Entity>``
9. written (compare-and-set); ``AttributeValueChangeEvent`` / ``StateChangeEvent`` written
10. ``on_update`` (``OnUpdate``: ``on_update(svc, unit, before, after)``)

Delete (``ResourceService.delete``):

1. the unit of work opens; the stored document is read (visibility, ``If-Match``)
2. ``can_delete`` (``CanDelete``)
3. for a client's request, ``ownership`` then ``client_check``
4. deleted (compare-and-set); ``DeleteEvent`` written

Commit (``Engine.unit``): only when the transaction committed, in order: the event
dispatcher is woken (if deliveries were written), the task runners are woken (if tasks
were scheduled), then each queued ``after_commit`` runs, in the order the resources were
created. ``after_commit`` must be idempotent: a crash may lose it, ``resume`` redoes it.

Start-up (``web/app.py``): ``Engine.open`` (the store; reference indexes rebuilt when
``ref_paths`` changed), the dispatcher and task runner start, then ``Engine.resume``: each
declared ``resume`` (``Resume``), API by API, resource by resource, in declaration order.

Tasks (``TaskRunner.step``, for a ``TaskDecl`` of ``ApiDecl.tasks``): in a unit of work
the task is finished and ``handler(engine, unit, key)`` called (an ``IoTaskDecl``:
``handler(engine, task)``, outside any unit). A failure rolls that back and retries later
(``RetryPolicy``); the last allowed failure parks the task and calls ``on_parked``
(``ParkHook``) in a unit; an operator's retry calls ``on_retried``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..tmf import Doc
from .contract import Contract, contract_key, load_contract
from .lifecycle import StateMachine
from .ownership import ClientCheck, Ownership
from .tasks import Handler, IoTaskDecl, Queue, TaskDecl

if TYPE_CHECKING:
    from .service import ResourceService
    from .unit import Unit

#: a rule run on a document before it is stored (create and patch); raises TmfError to refuse
Rule = Callable[[Doc, "Doc | None"], None]
#: a rule run on a client's PATCH only: there is always a stored document before it (a ``Rule`` is one too)
PatchRule = Callable[[Doc, Doc], None]
#: runs after a resource was committed (e.g. starts an import job); must be idempotent
AfterCommit = Callable[["ResourceService", Doc], Awaitable[None]]
#: called at start-up to resume unfinished work (e.g. jobs interrupted by a crash)
Resume = Callable[["ResourceService"], Awaitable[None]]
#: (status, body, location) a create answers instead of 201 with the resource; body/location None: the resource's
CreateResponse = Callable[
    ["ResourceService", Doc, "Unit | None"], Awaitable["tuple[int, bytes | None, str | None] | None"]
]
OnCreate = Callable[["ResourceService", "Unit", Doc], Awaitable[None]]
#: completes a new document from stored state before it is written (e.g. allocates from a pool)
BeforeInsert = Callable[["ResourceService", "Unit", Doc], Awaitable[None]]
#: runs inside the updating unit of work after a change: (service, unit, before, after)
OnUpdate = Callable[["ResourceService", "Unit", Doc, Doc], Awaitable[None]]
#: raises a TmfError when the resource may not be deleted in its current state
CanDelete = Callable[[Doc], None]
#: a create body the resource's domain rules accept, for the generic API tests (tests/api); may make
#: what the body refers to through the engine (e.g. a pool to check availability in)
Sample = Callable[["ResourceService"], Awaitable[Doc]]


@dataclass(frozen=True)
class ResourceDecl:
    """One TMF resource (a path segment under the API root); its hooks run in the order the
    module docstring gives ("Hook order")."""

    name: str  #: path segment and event payload key, e.g. "productOffering"
    entity: str = ""  #: schema/event name, e.g. "ProductOffering" (default: Name capitalised)
    lifecycle: StateMachine | None = None
    defaults: Mapping[str, Any] = field(default_factory=dict)
    #: attributes the server owns on top of those the spec's _Create/_Update leave out
    server_owned: frozenset[str] = frozenset()
    rules: Sequence[Rule] = ()
    #: rules for client PATCH only (what a client may change), on top of ``rules``
    patch_rules: Sequence[PatchRule] = ()
    #: runs inside the creating unit of work before the insert; may change the document,
    #: which is validated again (raises TmfError to refuse)
    before_insert: BeforeInsert | None = None
    #: runs inside the creating unit of work, after the insert (e.g. schedules processing)
    on_create: OnCreate | None = None
    #: runs inside the updating unit of work after a change (e.g. wakes the order manager)
    on_update: OnUpdate | None = None
    #: raises a TmfError when the resource may not be deleted in its current state
    can_delete: CanDelete | None = None
    #: runs after the creating unit of work committed (e.g. starts a job)
    after_commit: AfterCommit | None = None
    #: how a create answers when not 201 with the resource: e.g. TMF640 202 with the monitor of
    #: an activation still running, TMF679 200 for an instant synchronous answer
    create_response: CreateResponse | None = None
    #: called at start-up to resume unfinished work (e.g. jobs interrupted by a crash)
    resume: Resume | None = None
    #: nested attributes whose equality filters use an index (e.g. "relatedParty.id")
    ref_paths: tuple[str, ...] = ()
    #: attribute stamped with the time of every write (e.g. "lastUpdate"), if the schema has one
    stamp: str | None = None
    #: attribute stamped once at creation (e.g. "creationDate")
    created_stamp: str | None = None
    #: seen by every client that may read the API (catalog entities); otherwise a partner
    #: client sees only what names it as Seller (``engine/access.py``)
    shared: bool = False
    #: (reference path, resource of this API) for a request about another resource, e.g. a
    #: cancel request ("productOrder.id", "productOrder"): a partner may only file it for one it sees
    refers_to: tuple[str, str] | None = None
    #: records the order manager fulfils: what a client may create, change and delete (``ownership.py``)
    ownership: Ownership | None = None
    #: an API's own rule for clients' creates, changes and deletes (e.g. TMF640 requests name a TMF638 service)
    client_check: ClientCheck | None = None
    #: a background job's record (TMF620 importJob, exportJob): work, not catalog data, so
    #: exports leave it out and imports skip it
    job: bool = False
    #: the resource this one lives under (``/topic/{topicId}/event``: "topic"), see engine/nested.py
    parent: str | None = None
    #: where a body made from the create schema's required attributes is refused (tests/api)
    sample: Sample | None = None

    @property
    def path(self) -> str:
        """Its key in ``ApiDecl.resources`` and the contract: "topic", or "topic/event" under a parent."""
        return f"{self.parent}/{self.name}" if self.parent else self.name

    @property
    def entity_name(self) -> str:
        return self.entity or self.name[0].upper() + self.name[1:]

    @property
    def date_attr(self) -> str | None:
        """The date kept in the indexed ``last_update`` column (filters and sorts on it use the index)."""
        return self.stamp or self.created_stamp

    @property
    def status_attr(self) -> str | None:
        return self.lifecycle.attribute if self.lifecycle else None


@dataclass(frozen=True)
class ApiDecl:
    """One TM Forum API at one major version, served under ``/tmf-api/<name>/<version>``."""

    key: str  #: e.g. "tmf620"
    name: str  #: e.g. "productCatalogManagement"
    version: str  #: e.g. "v4"
    contract: Contract
    resources: Mapping[str, ResourceDecl]
    #: durable task queues this API's domain rules run (queue name -> TaskDecl), see engine/tasks.py
    tasks: Mapping[str, Queue] = field(default_factory=dict)
    #: what a partner client gets by default: "none" (operator-only), "read" or "write" (README: Security)
    partner_access: str = "none"

    @classmethod
    def build(
        cls,
        spec: str,
        *,
        resources: Sequence[ResourceDecl],
        tasks: Mapping[str, Queue | Handler] | None = None,
        partner_access: str = "none",
    ) -> ApiDecl:
        """``spec``: the official file name (e.g. "TMF641-ServiceOrdering-v4.1.0.swagger.json"); key,
        name and version are its generated contract's (``basePath`` /tmf-api/<name>/<version>).
        A task given as a bare handler runs in a unit of work (``TaskDecl(handler)``)."""
        loaded = load_contract(contract_key(spec))
        if loaded.source != spec:
            raise ValueError(f"{loaded.key} was generated from {loaded.source}, not {spec} (tools/gen_specs.py)")
        key, major = loaded.key.split("_", 1)
        parts = loaded.base_path.strip("/").split("/")
        if len(parts) != 3 or parts[0] != "tmf-api" or parts[2] != major:
            raise ValueError(f"{key}: base path {loaded.base_path!r} is not /tmf-api/<name>/{major}")
        name, version = parts[1], parts[2]
        table = {r.path: r for r in resources}
        missing = {path for path in table if loaded.served(path) is None}
        if missing:
            raise ValueError(f"{key}: resources not in the spec: {sorted(missing)}")
        if partner_access not in ("none", "read", "write"):
            raise ValueError(f"{key}: partner_access is none, read or write, not {partner_access!r}")
        queues = {q: t if isinstance(t, TaskDecl | IoTaskDecl) else TaskDecl(t) for q, t in (tasks or {}).items()}
        return cls(key, name, version, loaded, table, queues, partner_access)

    @property
    def root(self) -> str:
        return f"/tmf-api/{self.name}/{self.version}"

    @property
    def served(self) -> frozenset[str]:
        """Every resource path served under the root (a version also serves others' resources)."""
        return frozenset(self.resources)

    def kind(self, resource: str) -> str:
        """Storage key of a resource type; versions of one API share their data."""
        return f"{self.key}.{resource}"

"""How an API is declared: data the engine serves, plus the hooks its domain rules implement.

An API module builds one ``ApiDecl`` from its generated contract (``tools/gen_specs.py``)::

    API = ApiDecl.from_contract(
        "tmf620_v4", name="productCatalogManagement", version="v4",
        resources=[ResourceDecl("productOffering", lifecycle=CATALOG_LIFECYCLE, ...)],
    )

The engine knows no API by name: routes, validation, queries, events and hub all
come from these declarations.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .contract import Contract, load_contract
from .lifecycle import StateMachine
from .ownership import ClientCheck, Ownership

if TYPE_CHECKING:
    from .service import ResourceService
    from .unit import Unit

Doc = dict[str, Any]
#: a rule run on a document before it is stored (create and patch); raises TmfError to refuse
Rule = Callable[[Doc, "Doc | None"], None]
#: runs after a resource was committed (e.g. starts an import job); must be idempotent
AfterCommit = Callable[["ResourceService", Doc], Awaitable[None]]
Resume = Callable[["ResourceService"], Awaitable[None]]
#: (status, body, location) a create answers instead of 201 with the resource; body/location None: the resource's
CreateResponse = Callable[["ResourceService", Doc], Awaitable["tuple[int, bytes | None, str | None] | None"]]
OnCreate = Callable[["ResourceService", "Unit", Doc], Awaitable[None]]
#: completes a new document from stored state before it is written (e.g. allocates from a pool)
BeforeInsert = Callable[["ResourceService", "Unit", Doc], Awaitable[None]]
OnUpdate = Callable[["ResourceService", "Unit", Doc, Doc], Awaitable[None]]
#: a create body the resource's domain rules accept, for the generic API tests (tests/api); may make
#: what the body refers to through the engine (e.g. a pool to check availability in)
Sample = Callable[["ResourceService"], Awaitable[Doc]]


@dataclass(frozen=True)
class ResourceDecl:
    """One TMF resource (a path segment under the API root)."""

    name: str  #: path segment and event payload key, e.g. "productOffering"
    entity: str = ""  #: schema/event name, e.g. "ProductOffering" (default: Name capitalised)
    lifecycle: StateMachine | None = None
    defaults: Mapping[str, Any] = field(default_factory=dict)
    #: attributes the server owns on top of those the spec's _Create/_Update leave out
    server_owned: frozenset[str] = frozenset()
    rules: Sequence[Rule] = ()
    #: rules for client PATCH only (what a client may change), on top of ``rules``
    patch_rules: Sequence[Rule] = ()
    #: runs inside the creating unit of work before the insert; may change the document,
    #: which is validated again (raises TmfError to refuse)
    before_insert: BeforeInsert | None = None
    #: runs inside the creating unit of work, after the insert (e.g. schedules processing)
    on_create: OnCreate | None = None
    #: runs inside the updating unit of work after a change (e.g. wakes the order manager)
    on_update: OnUpdate | None = None
    #: raises a TmfError when the resource may not be deleted in its current state
    can_delete: Callable[[Doc], None] | None = None
    after_commit: AfterCommit | None = None
    #: how a create answers when not 201 with the resource: e.g. TMF640 202 with the monitor of
    #: an activation still running, TMF679 200 for an instant synchronous answer
    create_response: CreateResponse | None = None
    #: called at start-up to resume unfinished work (e.g. jobs interrupted by a crash)
    resume: Resume | None = None
    #: nested attributes whose equality filters use an index (e.g. "relatedParty.id")
    ref_paths: tuple[str, ...] = ()
    #: attribute stamped with the time of every write ("lastUpdate"), if the schema has it
    stamp: str | None = "lastUpdate"
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
    #: durable task queues this API's domain rules run (queue name -> handler), see engine/tasks.py
    tasks: Mapping[str, Any] = field(default_factory=dict)
    #: what a partner client gets by default: "none" (operator-only), "read" or "write" (README: Security)
    partner_access: str = "none"

    @classmethod
    def build(
        cls,
        key: str,
        contract: str,
        name: str,
        version: str,
        resources: Sequence[ResourceDecl],
        tasks: Mapping[str, Any] | None = None,
        partner_access: str = "none",
    ) -> ApiDecl:
        loaded = load_contract(contract)
        table = {r.path: r for r in resources}
        missing = {path for path in table if loaded.served(path) is None}
        if missing:
            raise ValueError(f"{key}: resources not in the spec: {sorted(missing)}")
        if partner_access not in ("none", "read", "write"):
            raise ValueError(f"{key}: partner_access is none, read or write, not {partner_access!r}")
        return cls(key, name, version, loaded, table, dict(tasks or {}), partner_access)

    @property
    def root(self) -> str:
        return f"/tmf-api/{self.name}/{self.version}"

    def kind(self, resource: str) -> str:
        """Storage key of a resource type; versions of one API share their data."""
        return f"{self.key}.{resource}"

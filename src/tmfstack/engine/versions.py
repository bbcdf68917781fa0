"""Another version of a declared API: a mapping at the edge, not a second set of rules.

An API's resources are stored once, in the shape of the version its domain rules are written
against (the canonical declaration, today v4). Another version is served from the same data by a
``VersionDecl``: for each of its resources, which canonical resource it is and how its attributes
differ (``Attr`` rules, ``shape.py``). A request is validated against the served version's own
schemas, mapped to the canonical shape, and handled by the canonical resource's service: the
same lifecycle, rules, order manager and events. What is read is mapped back. A version may also
serve resources of its own (``own``), stored beside the canonical ones::

    API = VersionDecl.build(
        "TMF637-ProductInventory-v5.0.0.oas.yaml",
        of=v4.API,
        rules=[RELATED_PARTY, Attr("agreementItem", canonical="agreement")],
    )

A served resource of the same name maps onto the canonical one by default; ``resources`` names
the others (``{"productCatalog": ResourceMap("catalog")}``). ``rules`` hold for every resource of
the API; a ``ResourceMap`` adds its own. ``tasks``: the task queues of its own resources (those
of the canonical resources are the canonical declaration's).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from ..tmf import Doc
from .contract import contract_key, load_contract
from .declaration import ApiDecl, ResourceDecl
from .shape import Attr
from .tasks import Handler, IoTaskDecl, Queue, TaskDecl


@dataclass(frozen=True)
class ResourceMap:
    """A served resource that is a canonical one: its canonical name and its own attribute rules."""

    canonical: str
    rules: Sequence[Attr] = ()
    #: attributes a served create body may carry that the server sets (dropped, e.g. TMF620 v5
    #: ``lastUpdate``, which its FVO requires although the server stamps it); dotted paths reach
    #: into objects and arrays (``productOrderItem.state``)
    dropped: frozenset[str] = frozenset()
    #: attributes the served create schema requires that a client need not send: the server sets
    #: them (TMF620 v5 ``lifecycleStatus``: the lifecycle's initial state, as in v4), or the
    #: canonical version does not require them (data made through it has none); dropped ones
    #: are not required either
    optional: frozenset[str] = frozenset()
    #: whole-document conversions where no one attribute's rule can say it, e.g. TMF632 v5 requires
    #: an organization's ``name``, v4 its ``tradingName``: ``out`` a stored document before it is
    #: rendered, ``into`` a served create body (or a patched document) once mapped to the stored shape
    out: Callable[[Doc], Doc] | None = None
    into: Callable[[Doc], Doc] | None = None


@dataclass(frozen=True)
class VersionDecl(ApiDecl):
    """A version of ``of`` (same key, same data), served under ``/tmf-api/<of.name>/<version>``."""

    of: ApiDecl | None = None
    #: served resource -> the canonical resource it is (every served resource of ``of`` not named
    #: in ``own`` or here maps onto the canonical resource of the same name)
    maps: Mapping[str, ResourceMap] = field(default_factory=dict)
    #: rules for every resource of this version
    rules: tuple[Attr, ...] = ()
    #: the source file that declares it: its package's sources are part of what a stored
    #: rendition depends on (``faces.py``)
    origin: str = ""

    @property
    def served(self) -> frozenset[str]:
        return frozenset(self.resources) | frozenset(self.maps)

    @classmethod
    def build(  # type: ignore[override]
        cls,
        spec: str,
        *,
        of: ApiDecl,
        rules: Sequence[Attr] = (),
        resources: Mapping[str, ResourceMap] | None = None,
        own: Sequence[ResourceDecl] = (),
        tasks: Mapping[str, Queue | Handler] | None = None,
    ) -> VersionDecl:
        loaded = load_contract(contract_key(spec))
        if loaded.source != spec:
            raise ValueError(f"{loaded.key} was generated from {loaded.source}, not {spec} (tools/gen_specs.py)")
        key, major = loaded.key.split("_", 1)
        if key != of.key:
            raise ValueError(f"{spec} is {key}, not a version of {of.key}")
        maps = dict(resources or {})
        own_names = {r.path for r in own}
        for name in loaded.operations:
            if name != "hub" and name not in maps and name not in own_names:
                if name not in of.resources:
                    raise ValueError(f"{key} {major}: {name!r} is neither a resource of {of.version} nor declared")
                maps[name] = ResourceMap(name)
        for name, m in maps.items():
            if m.canonical not in of.resources:
                raise ValueError(f"{key} {major}: {name!r} maps onto {m.canonical!r}, not a resource of {of.version}")
        return cls(
            key=key,
            name=of.name,
            version=major,
            contract=loaded,
            resources={r.path: r for r in own},
            # the durable work of its own resources (a bare handler runs in a unit of work)
            tasks={q: t if isinstance(t, TaskDecl | IoTaskDecl) else TaskDecl(t) for q, t in (tasks or {}).items()},
            partner_access=of.partner_access,
            of=of,
            maps=maps,
            rules=tuple(rules),
            origin=str(sys._getframe(1).f_globals.get("__file__") or ""),  # the declaring module
        )

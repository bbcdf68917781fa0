"""Ownership: what a client may do with records the order manager fulfils (README: Security,
"Hardening: ownership").

Products, services and resources that an order made or took are the order manager's: it
moves their states, sets their owner, prices and relationships, and gives them back. A
client's write reaches the engine with an ``Actor`` (the HTTP edge builds it from the token);
the order manager's own writes come from domain code inside its units of work and carry none,
which is their privilege. A declaration states the rule as data (``Ownership``)::

    Ownership(free_states={"created"}, client_attrs={"name"}, order_marks=("productOrderItem",))

- a record is *held* when its state is not a free one, or it names the order that made it;
- a client creates only records that are not held (no product ``active`` without an order);
- of a held record a client changes only ``client_attrs``; it does not delete it; a record
  that is not held stays so (a client cannot move it into a held state);
- ``check`` (``ResourceDecl.client_check``) adds an API's own rule for clients (TMF640).

An operator lifts this with an admin override (``Actor.override``: the reason); each override
is written, in the write's transaction, as an audit record (``AUDIT`` kind) naming the
client, the time, the reason and what the rule would have refused.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from ..clock import new_id, now_iso
from ..errors import Conflict, TmfError
from ..store.base import Indexed
from ..tmf import Doc

if TYPE_CHECKING:
    from .service import ResourceService
    from .unit import Unit

#: storage kind of the override audit records (``/admin/overrides``)
AUDIT = "audit.override"
#: the reference path of an audit record naming the record it is about
AUDIT_REF = "resource"
#: a client-only rule of an API: (service, unit, before, after, party) raises a TmfError to refuse
ClientCheck = Callable[["ResourceService", "Unit", "Doc | None", "Doc | None", "str | None"], Awaitable[None]]


@dataclass(frozen=True)
class Actor:
    """A client's request as the engine sees it (the order manager's writes have none)."""

    client_id: str
    party: str | None = None
    #: the reason of an admin override (the edge checked the ``admin`` scope); None: no override
    override: str | None = None


class OwnedByOrder(Conflict):
    code, reason = "OWNED_BY_ORDER", "Owned by the order manager"


def _state(doc: Doc, attribute: str | None) -> Any:
    return doc.get(attribute) if attribute else None


@dataclass(frozen=True)
class Ownership:
    free_states: frozenset[str]
    client_attrs: frozenset[str]
    order_marks: tuple[str, ...] = ()

    def __init__(
        self, free_states: Iterable[str], client_attrs: Iterable[str], order_marks: Iterable[str] = ()
    ) -> None:
        object.__setattr__(self, "free_states", frozenset(free_states))
        object.__setattr__(self, "client_attrs", frozenset(client_attrs))
        object.__setattr__(self, "order_marks", tuple(order_marks))

    def held(self, doc: Doc, state_attr: str | None) -> bool:
        state = doc.get(state_attr) if state_attr else None
        if state is not None and state not in self.free_states:  # no state yet: nothing fulfilled
            return True
        return any(doc.get(mark) for mark in self.order_marks)

    def refusal(self, before: Doc | None, after: Doc | None, state_attr: str | None, what: str) -> str | None:
        """Why a client may not make this write (None: it may)."""
        state = f"{state_attr} {{!r}}" if state_attr else "{!r}"
        if before is None and after is not None:
            if self.held(after, state_attr):
                return (
                    f"a client creates a {what} only as a record no order fulfils "
                    f"({state_attr} one of {sorted(self.free_states)}, without {', '.join(self.order_marks) or '-'}); "
                    f"{state.format(_state(after, state_attr))} is set by the order manager: order it instead"
                )
            return None
        if before is None:
            return None
        if after is None:
            if self.held(before, state_attr):
                held = state.format(_state(before, state_attr))
                return f"this {what} is held by an order ({held}); end it with an order"
            return None
        if not self.held(before, state_attr):
            if self.held(after, state_attr):
                return f"{state.format(_state(after, state_attr))} is set by the order manager: order it instead"
            return None
        changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
        refused = [k for k in changed if k not in self.client_attrs]
        if refused:
            allowed = ", ".join(sorted(self.client_attrs)) or "nothing"
            return (
                f"{', '.join(refused)} of a {what} held by an order change only through orders "
                f"(a client may change {allowed})"
            )
        return None


async def guard(svc: ResourceService, unit: Unit, before: Doc | None, after: Doc | None, actor: Actor) -> None:
    """Refuse a client's write the declaration's ownership rule or client check refuses, unless
    the actor overrides it: then record the override."""
    problems: list[str] = []
    rule = svc.decl.ownership
    if rule is not None:
        problem = rule.refusal(before, after, svc.decl.status_attr, svc.name)
        if problem:
            if actor.override is None:
                raise OwnedByOrder(problem)
            problems.append(problem)
    check = svc.decl.client_check
    if check is not None:
        try:
            await check(svc, unit, before, after, actor.party)
        except TmfError as exc:
            if actor.override is None:
                raise
            problems.append(exc.message)
    if problems:
        await audit(svc, unit, before, after, actor, problems)


async def audit(
    svc: ResourceService, unit: Unit, before: Doc | None, after: Doc | None, actor: Actor, problems: list[str]
) -> None:
    doc = after if after is not None else before or {}
    changed = sorted(k for k in set(before or {}) | set(after or {}) if (before or {}).get(k) != (after or {}).get(k))
    record_id, date, operation = (
        new_id(),
        now_iso(),
        "create" if before is None else "delete" if after is None else "update",
    )
    record = {
        "id": record_id,
        "date": date,
        "clientId": actor.client_id,
        "reason": actor.override,
        "operation": operation,
        "resource": {"id": doc.get("id"), "href": doc.get("href"), "kind": svc.kind},
        "changed": changed,
        "overridden": problems,
    }
    idx = Indexed(actor.client_id, operation, date, svc.kind, ((AUDIT_REF, str(doc.get("id"))),))
    await unit.tx.insert(AUDIT, record_id, idx, orjson.dumps(record))

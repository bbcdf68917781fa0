"""What TMF679 and TMF645 qualifications share: a task resource answered now or later.

With ``instantSyncQualification`` true the answer is computed inside the POST's unit of work
and POST answers 200 with the finished qualification (``done``). Otherwise POST answers 201
in the initial state and a durable task (one queue per resource) moves it to ``inProgress``
and answers it, so a crash in between only delays the answer. Once answered, a client may
change only ``description`` and ``note``: the answer is the server's.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import orjson

from ...clock import parse_time
from ...engine.declaration import ResourceDecl
from ...engine.lifecycle import StateMachine
from ...engine.service import ResourceService
from ...engine.unit import Unit
from ...errors import BadRequest
from ...tmf import Doc, task_moves
from .samples import SAMPLES

if TYPE_CHECKING:
    from ...engine.core import Engine

#: how long an answer holds unless the settings say otherwise (``TMFSTACK_QUALIFICATION_VALIDITY``)
QUALIFICATION_VALIDITY = timedelta(hours=24)
Answer = Callable[["Engine", Unit, Doc], Awaitable[None]]
_CLIENT = frozenset({"description", "note", "@schemaLocation"})


def task_states(initial: str) -> StateMachine:
    """The TaskStateType lifecycle (``acknowledged`` in TMF679 v4, ``accepted`` in TMF645 v4)."""
    return StateMachine("state", task_moves(initial), initial=initial, creatable={initial})


def validity(engine: Engine) -> timedelta:
    """How long an answer given now holds: its ``expirationDate`` is that much later."""
    seconds = engine.domain.qualification_validity
    return timedelta(seconds=seconds) if seconds else QUALIFICATION_VALIDITY


def overall(results: Sequence[str]) -> str:
    """The qualification's result from its items': qualified only when every item is."""
    if results and all(r == "qualified" for r in results):
        return "qualified"
    return "unqualified" if "unqualified" in results or not results else "alternate"


def client_patch(after: Doc, before: Doc) -> None:
    changed = sorted(k for k in set(after) | set(before) if after.get(k) != before.get(k) and k not in _CLIENT)
    if changed:
        raise BadRequest(
            f"{', '.join(changed)} cannot be changed: the answer is the server's", code="READ_ONLY_ATTRIBUTE"
        )


def accept_items(items: list[Doc], what: str, answers: Sequence[str], state: str) -> None:
    """A request's items: unique ids, none carrying the server's answer; they start in ``state``."""
    ids = [i.get("id") for i in items]
    if len(set(ids)) != len(ids):
        raise BadRequest(f"{what} ids must be unique", code="DUPLICATE_ITEM_ID")
    for item in items:
        for owned in answers:
            if owned in item:
                raise BadRequest(f"item {item.get('id')!r}: {owned} is the server's answer", code="READ_ONLY_ATTRIBUTE")
        item["state"] = state


def not_in_past(*attrs: str) -> Callable[[Doc, Doc | None], None]:
    """A rule refusing a requested completion date that has already passed: it cannot be met."""

    def rule(doc: Doc, before: Doc | None) -> None:
        if before is not None:
            return
        for attr in attrs:
            value = doc.get(attr)
            if value is None:
                continue
            moment = parse_time(value)
            if moment is None:
                raise BadRequest(f"{attr} {value!r} is not a date-time", code="INVALID_DATE")
            if moment < datetime.now(UTC):
                raise BadRequest(f"{attr} {value} has passed: it cannot be met", code="INVALID_DATE")

    return rule


@dataclass(frozen=True)
class QualificationTask:
    resource: str
    queue: str
    api: str  #: the API number ("tmf679")
    answer: Answer
    states: StateMachine
    #: the root of the version serving it, for a version's own resource (not one of the API's by number)
    root: str = ""

    async def _answer_now(self, svc: ResourceService, unit: Unit, doc: Doc) -> None:
        if doc.get("instantSyncQualification"):
            await self.answer(svc.engine, unit, doc)

    async def _response(
        self, svc: ResourceService, doc: Doc, unit: Unit | None
    ) -> tuple[int, bytes | None, str | None] | None:
        return (200, None, None) if doc.get("instantSyncQualification") else None

    async def _schedule(self, svc: ResourceService, unit: Unit, doc: Doc) -> None:
        if doc["state"] == self.states.initial:
            await unit.schedule(self.queue, doc["id"], time.time())

    async def process(self, engine: Engine, unit: Unit, id: str) -> None:
        svc = engine.services[self.root][self.resource] if self.root else engine.resource(self.api, self.resource)
        doc = await svc.read(id, unit, track=True)
        if doc is None or doc["state"] != self.states.initial:
            return
        _, raw, _ = await svc.update(id, lambda d: {**d, "state": "inProgress"}, unit=unit)
        doc = orjson.loads(raw)  # a copy to answer on: the stored one was also given to events
        await self.answer(engine, unit, doc)
        await svc.update(id, lambda _: doc, unit=unit)

    def decl(
        self,
        *,
        created_stamp: str,
        ref_paths: Sequence[str],
        server_owned: frozenset[str],
        rules: Sequence[Callable[[Doc, Doc | None], None]],
    ) -> ResourceDecl:
        return ResourceDecl(
            self.resource,
            lifecycle=self.states,
            created_stamp=created_stamp,
            ref_paths=tuple(ref_paths),
            server_owned=server_owned,
            rules=list(rules),
            patch_rules=[client_patch],
            before_insert=self._answer_now,
            on_create=self._schedule,
            create_response=self._response,
            sample=SAMPLES.get(self.resource),
        )

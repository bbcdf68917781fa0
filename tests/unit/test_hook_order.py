"""The order the engine runs a declaration's hooks in, as ``engine/declaration.py`` documents it
("Hook order"), through the engine's own API over the TMF632 contract (no HTTP)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest

from tmfstack.engine.core import Engine
from tmfstack.engine.declaration import ApiDecl, Doc, ResourceDecl
from tmfstack.engine.ownership import Actor
from tmfstack.engine.service import ResourceService
from tmfstack.engine.unit import Unit
from tmfstack.errors import BadRequest
from tmfstack.store.base import open_store

pytestmark = pytest.mark.anyio
MERGE = "application/merge-patch+json"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Recorder:
    """One ``ResourceDecl`` whose every hook notes its name (and, for rules, create or change)."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def rule(self, doc: Doc, before: Doc | None) -> None:
        self.calls.append("rules:create" if before is None else "rules:change")
        if doc.get("givenName") == "refused":
            raise BadRequest("refused by a rule")

    def patch_rule(self, doc: Doc, before: Doc | None) -> None:
        self.calls.append("patch_rules")

    async def client_check(
        self, svc: ResourceService, unit: Unit, before: Doc | None, after: Doc | None, party: str | None
    ) -> None:
        self.calls.append("client_check")

    async def before_insert(self, svc: ResourceService, unit: Unit, doc: Doc) -> None:
        # the row is not written yet: the document is still free to change
        assert await unit.tx.get(svc.kind, doc["id"]) is None
        self.calls.append("before_insert")

    async def on_create(self, svc: ResourceService, unit: Unit, doc: Doc) -> None:
        assert await unit.tx.get(svc.kind, doc["id"]) is not None  # inserted, same unit
        self.calls.append("on_create")

    async def on_update(self, svc: ResourceService, unit: Unit, before: Doc, after: Doc) -> None:
        row = await unit.tx.get(svc.kind, after["id"])
        assert row is not None and orjson.loads(row.doc) == after  # written, same unit
        self.calls.append("on_update")

    async def after_commit(self, svc: ResourceService, doc: Doc) -> None:
        assert await svc.store.get(svc.kind, doc["id"]) is not None  # committed: readable outside
        self.calls.append("after_commit")

    def can_delete(self, doc: Doc) -> None:
        self.calls.append("can_delete")

    async def resume(self, svc: ResourceService) -> None:
        self.calls.append("resume")

    def decl(self) -> ResourceDecl:
        return ResourceDecl(
            "individual",
            rules=[self.rule],
            patch_rules=[self.patch_rule],
            client_check=self.client_check,
            before_insert=self.before_insert,
            on_create=self.on_create,
            on_update=self.on_update,
            after_commit=self.after_commit,
            can_delete=self.can_delete,
            resume=self.resume,
        )


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[tuple[ResourceService, Recorder]]:
    recorder = Recorder()
    api = ApiDecl.build("TMF632-Party-v4.0.0.swagger.json", resources=[recorder.decl()])
    engine = Engine(open_store(f"sqlite:///{tmp_path}/t.db"), [api], public_url="http://test")
    await engine.open()
    try:
        yield engine.service(api, "individual"), recorder
    finally:
        await engine.drain()
        await engine.store.close()


ACTOR = Actor("client-1")


async def test_create_runs_rules_check_before_insert_on_create_then_after_commit(
    setup: tuple[ResourceService, Recorder],
) -> None:
    svc, recorder = setup
    await svc.create({"givenName": "Ada", "familyName": "L"}, actor=ACTOR)
    assert recorder.calls == ["rules:create", "client_check", "before_insert", "on_create", "after_commit"]


async def test_after_commit_runs_after_the_callers_unit_commits(setup: tuple[ResourceService, Recorder]) -> None:
    svc, recorder = setup
    async with svc.engine.unit() as unit:
        await svc.create({"givenName": "Ada", "familyName": "L"}, unit=unit)
        await svc.create({"givenName": "Bob", "familyName": "B"}, unit=unit)
        assert "after_commit" not in recorder.calls
    assert recorder.calls[-2:] == ["after_commit", "after_commit"]


async def test_a_refused_create_runs_no_later_hook(setup: tuple[ResourceService, Recorder]) -> None:
    svc, recorder = setup
    with pytest.raises(BadRequest):
        await svc.create({"givenName": "refused", "familyName": "R"}, actor=ACTOR)
    assert recorder.calls == ["rules:create"]


async def test_patch_runs_patch_rules_check_rules_then_on_update(setup: tuple[ResourceService, Recorder]) -> None:
    svc, recorder = setup
    doc, _, _ = await svc.create({"givenName": "Ada", "familyName": "L"})
    recorder.calls.clear()
    await svc.patch(doc["id"], b'{"familyName": "Lovelace"}', MERGE, actor=ACTOR)
    assert recorder.calls == ["patch_rules", "client_check", "rules:change", "on_update"]


async def test_a_patch_that_changes_nothing_stops_after_patch_rules(setup: tuple[ResourceService, Recorder]) -> None:
    svc, recorder = setup
    doc, _, _ = await svc.create({"givenName": "Ada", "familyName": "L"})
    recorder.calls.clear()
    await svc.patch(doc["id"], b'{"givenName": "Ada"}', MERGE, actor=ACTOR)
    assert recorder.calls == ["patch_rules"]


async def test_the_servers_own_update_runs_rules_then_on_update(setup: tuple[ResourceService, Recorder]) -> None:
    svc, recorder = setup
    doc, _, _ = await svc.create({"givenName": "Ada", "familyName": "L"})
    recorder.calls.clear()
    await svc.update(doc["id"], lambda before: {**before, "familyName": "Lovelace"})
    assert recorder.calls == ["rules:change", "on_update"]


async def test_delete_asks_can_delete_then_the_client_check(setup: tuple[ResourceService, Recorder]) -> None:
    svc, recorder = setup
    doc, _, _ = await svc.create({"givenName": "Ada", "familyName": "L"})
    recorder.calls.clear()
    await svc.delete(doc["id"], actor=ACTOR)
    assert recorder.calls == ["can_delete", "client_check"]
    assert await svc.store.get(svc.kind, doc["id"]) is None


async def test_start_up_resumes_each_declared_resource(setup: tuple[ResourceService, Recorder]) -> None:
    svc, recorder = setup
    await svc.engine.resume()
    assert recorder.calls == ["resume"]

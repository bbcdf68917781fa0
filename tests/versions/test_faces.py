"""Stored renditions ("faces", ``engine/faces.py``): each served version's rendition of a document
is written with it, answered as bytes, never served stale, and redone when what it depends on changes.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from typing import Any

import orjson
import pytest
from starlette.testclient import TestClient

from tests.versions.support import Served
from tests.versions.test_every_version import made_in_v4, served
from tmfstack.engine.served import VersionService
from tmfstack.settings import Settings
from tmfstack.store.base import Row
from tmfstack.web.app import create_app

V4 = "/tmf-api/productCatalogManagement/v4/productOffering"
V5 = "/tmf-api/productCatalogManagement/v5/productOffering"


def _service(client: TestClient, base: str) -> VersionService:
    root, name = base.rsplit("/", 1)
    svc = client.app.state.engine.services[root][name]  # type: ignore[attr-defined]
    assert isinstance(svc, VersionService)
    return svc


def _stored(client: TestClient, svc: VersionService, id: str) -> Row:
    row = client.portal.call(svc.store.get_shown, svc.kind, id, svc.face)  # type: ignore[union-attr]
    assert row is not None
    return row


def _set_face(client: TestClient, svc: VersionService, id: str, face: bytes, behind: int) -> None:
    """Store ``face`` as the row's rendition of the version ``behind`` versions before its current
    one (0: current), as a writer that does not keep the faces would leave it."""
    statement = "UPDATE resource SET shown={0}, shown_face={0}, shown_version=version-{0} WHERE kind={0} AND id={0}"
    args = (face, svc.face, behind, svc.kind, id)

    async def write() -> None:
        async with svc.store.transaction() as tx:
            if isinstance(tx.conn, sqlite3.Connection):
                tx.conn.execute(statement.replace("{0}", "?"), args)
            else:
                numbered = statement
                for n in range(1, 6):
                    numbered = numbered.replace("{0}", f"${n}", 1)
                await tx.conn.execute(numbered, *args)

    client.portal.call(write)  # type: ignore[union-attr]


@pytest.mark.parametrize("s", served("get", canonical=("create",)))
def test_a_write_stores_the_face_a_read_answers(client: TestClient, s: Served) -> None:
    doc = made_in_v4(client, s)
    svc = _service(client, s.base)
    for _ in range(5):  # a job's state may move on between two reads: compare within one version
        row = _stored(client, svc, doc["id"])
        if row.version == 1:  # as the client's create wrote it (a job's runner moves it on: no face)
            assert row.shown is not None, f"{s}: no face stored with the document"
        assert row.shown is None or row.shown == svc.rendition(row.doc)
        r = client.get(f"{s.base}/{doc['id']}")
        if _stored(client, svc, doc["id"]).version == row.version:
            assert r.status_code == 200 and r.content == (row.shown or svc.rendition(row.doc))
            return
    pytest.fail(f"{s}: the document kept changing")


def _offering(client: TestClient) -> dict[str, Any]:
    r = client.post(V4, json={"name": "Fibre 1G", "lifecycleStatus": "In study"})
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def test_a_change_through_either_version_redoes_the_face(client: TestClient) -> None:
    doc = _offering(client)
    svc = _service(client, V5)
    r = client.patch(f"{V4}/{doc['id']}", json={"description": "through v4"})
    assert r.status_code == 200, r.text
    assert client.get(f"{V5}/{doc['id']}").json()["description"] == "through v4"
    r = client.patch(
        f"{V5}/{doc['id']}",
        json={"description": "through v5"},
        headers={"content-type": "application/merge-patch+json"},
    )
    assert r.status_code == 200 and r.json()["description"] == "through v5", r.text
    row = _stored(client, svc, doc["id"])
    assert row.version == 3 and row.shown == svc.rendition(row.doc)
    assert orjson.loads(row.shown)["description"] == "through v5"


def test_a_face_of_another_version_of_the_document_is_never_served(client: TestClient) -> None:
    doc = _offering(client)
    svc = _service(client, V5)
    assert client.patch(f"{V4}/{doc['id']}", json={"description": "now"}).status_code == 200
    # a face of the version before (e.g. the document rewritten by a release without faces)
    _set_face(client, svc, doc["id"], b'{"stale":true}', 1)
    svc.shown.found.clear()
    for answer in (client.get(f"{V5}/{doc['id']}").json(), client.get(V5, params={"id": doc["id"]}).json()[0]):
        assert "stale" not in answer and answer["description"] == "now"
    # faces of the document's version are what is answered, by id and in lists: the reads use them
    _set_face(client, svc, doc["id"], b'{"face":true}', 0)
    svc.shown.found.clear()
    assert client.get(f"{V5}/{doc['id']}").json() == {"face": True}
    assert client.get(V5, params={"id": doc["id"]}).json() == [{"face": True}]


def test_a_document_without_faces_is_rendered_on_the_fly(client: TestClient) -> None:
    svc = _service(client, V5)
    doc = {"id": "imported-1", "href": "x", "name": "Imported", "lifecycleStatus": "Active", "@type": "ProductOffering"}
    raw = orjson.dumps(doc)

    async def insert() -> None:  # straight into the store, as a release without faces would
        async with svc.store.transaction() as tx:
            await tx.insert(svc.kind, doc["id"], svc.indexed(doc), raw)

    client.portal.call(insert)  # type: ignore[union-attr]
    assert _stored(client, svc, doc["id"]).shown is None
    r = client.get(f"{V5}/{doc['id']}")
    assert r.status_code == 200 and r.content == svc.rendition(raw)
    assert client.get(V5, params={"id": doc["id"]}).json() == [r.json()]


def test_faces_are_redone_at_start_when_what_they_depend_on_changed(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        doc = _offering(client)
        _set_face(client, _service(client, V5), doc["id"], b'{"face":true}', 0)
        assert client.get(f"{V5}/{doc['id']}").json() == {"face": True}
    with TestClient(create_app(settings)) as client:  # same sources, same URL: kept as stored
        assert client.get(f"{V5}/{doc['id']}").json() == {"face": True}
    moved = dataclasses.replace(settings, public_url="https://api.example.com")
    with TestClient(create_app(moved)) as client:  # the hrefs change: every face is redone
        shown = client.get(f"{V5}/{doc['id']}").json()
        assert shown["href"] == f"https://api.example.com{V5}/{doc['id']}"
        row = _stored(client, _service(client, V5), doc["id"])
        assert row.shown is not None and orjson.loads(row.shown) == shown


def test_a_write_of_the_server_s_own_is_rendered_when_read(client: TestClient) -> None:
    """The order manager's steps do not pay for faces (``Faces.shown``): reads render what they wrote."""
    doc = _offering(client)
    svc = _service(client, V5)
    canonical = client.app.state.engine.services[V4.rsplit("/", 1)[0]]["productOffering"]  # type: ignore[attr-defined]
    client.portal.call(canonical.update, doc["id"], lambda d: {**d, "description": "by the server"})  # type: ignore[union-attr]
    row = _stored(client, svc, doc["id"])
    assert row.version == 2 and row.shown is None
    r = client.get(f"{V5}/{doc['id']}")
    assert r.content == svc.rendition(row.doc) and r.json()["description"] == "by the server"

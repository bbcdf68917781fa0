"""Every declared API and every operation of its resources, generated from the declarations and
their contracts: an API added later is covered without a test of its own (there is no list of APIs
here, and no code about any one of them).

For each resource: create (a body made from its create schema's required attributes, following
``$ref``s, or the declaration's ``sample`` where its domain rules need more), read, read at its
``href``, list with an ``id=`` filter (counts and ``fields``), patch and delete where the contract
serves them, a 404 for an unknown id, and the create event a hub hears. For each API: its ``/hub``
and the hubs of its sub-resources' parents. Every answer is checked against the official schema
(``../shared/specs/<contract.source>``), not tmfstack's generated copy.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema_rs
import pytest
from starlette.testclient import TestClient

from tests.support.listener import Listener
from tests.support.polling import wait_until
from tests.versions.support import official as official_v5
from tmfstack.apis import all_apis
from tmfstack.engine.declaration import ApiDecl, ResourceDecl
from tmfstack.engine.service import ResourceService

SPECS = Path(__file__).resolve().parents[3] / "shared" / "specs"
#: every version's own resources and hub; what a version maps onto another's resources is covered by
#: tests/versions/test_every_version.py
APIS = all_apis()


@dataclass(frozen=True)
class Case:
    api: ApiDecl
    decl: ResourceDecl

    @property
    def ops(self) -> frozenset[str]:
        return self.api.contract.served(self.decl.path) or frozenset()

    def __str__(self) -> str:
        return f"{self.api.key} {self.decl.path}"


CASES = [Case(api, decl) for api in APIS for decl in api.resources.values()]


def cases(*needed: str, where: Callable[[Case], bool] = lambda c: True) -> list[Any]:
    """The resources that serve every operation ``needed`` (and satisfy ``where``), as parameters."""
    return [pytest.param(c, id=str(c)) for c in CASES if set(needed) <= c.ops and where(c)]


# -- the official schemas ---------------------------------------------------------------------


@cache
def _official(source: str) -> dict[str, Any]:
    """The official file's definitions; a reference to one it never defines is an open schema
    (TMF685 v1 refers to several, as ``tools/gen_specs.py`` records). An OAS 3 (v5) file's are
    converted as ``tests/versions/support.py`` says."""
    if not source.endswith(".json"):
        return official_v5(source)
    defs = json.loads((SPECS / source).read_text(encoding="utf-8"))["definitions"]

    def fix(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.removeprefix("#/definitions/") not in defs:
                return {}
            return {k: fix(v) for k, v in node.items()}
        return [fix(v) for v in node] if isinstance(node, list) else node

    return fix(defs)  # type: ignore[no-any-return]


@cache
def _validator(source: str, definition: str) -> Any:
    draft = jsonschema_rs.Draft4Validator if source.endswith(".json") else jsonschema_rs.Draft7Validator
    return draft({"$ref": f"#/definitions/{definition}", "definitions": _official(source)})


def assert_official(api: ApiDecl, definition: str, body: Any) -> None:
    """``body`` (or each item of a list) is valid against ``definition`` of the API's official file."""
    assert definition in _official(api.contract.source), f"{definition} is not in {api.contract.source}"
    for item in body if isinstance(body, list) else [body]:
        errors = _validator(api.contract.source, definition).iter_errors(item)
        found = [f"/{'/'.join(map(str, e.instance_path))}: {e.message}" for e in errors]
        assert not found, f"{api.key} {definition} breaks the official schema:\n" + "\n".join(found[:10])


def assert_error(api: ApiDecl, r: Any, status: int) -> None:
    assert r.status_code == status, (r.status_code, r.text[:300])
    body = r.json()
    assert body["status"] == str(status) and body["code"] and body["message"] and body["@type"] == "Error", body
    official = _official(api.contract.source).get("Error", {})
    if official.get("properties", {}).get("code", {}).get("type") == "string":  # TMF630's Error (not TMF685 v1's)
        assert_official(api, "Error", body)


# -- bodies made from the create schema ---------------------------------------------------------


def _resolve(defs: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    for _ in range(20):
        if "else" in node and "$ref" not in node:  # a v5 ``@type`` dispatch: its plain form
            node = node["else"]
            continue
        if "$ref" not in node:
            break
        node = defs.get(node["$ref"].rsplit("/", 1)[-1], {})
    if "allOf" not in node:
        return node
    merged: dict[str, Any] = {"type": "object", "properties": {}, "required": []}
    for part in [*node["allOf"], node]:
        part = part if part is node else _resolve(defs, part)
        merged["properties"].update(part.get("properties", {}))
        merged["required"] += part.get("required", [])
    return merged


def synthesise(defs: dict[str, Any], node: dict[str, Any], depth: int = 0) -> Any:
    """The smallest valid instance: every required attribute, with a value of its type."""
    assert depth < 12, "the create schema requires an endless nesting"
    node = _resolve(defs, node)
    if "enum" in node:
        return node["enum"][0]
    kind = node.get("type") or ("object" if "properties" in node else "string")
    if kind == "object":
        props = node.get("properties", {})
        return {k: synthesise(defs, props.get(k, {}), depth + 1) for k in node.get("required", [])}
    if kind == "array":
        return [synthesise(defs, node.get("items", {}), depth + 1)]
    scalars = {"integer": 1, "number": 1, "boolean": True}
    if kind in scalars:
        return scalars[kind]
    return {"date-time": "2026-01-02T03:04:05Z", "uri": "https://example.com/x"}.get(node.get("format", ""), "x")


def service(client: TestClient, case: Case) -> ResourceService:
    return client.app.state.engine.services[case.api.root][case.decl.path]  # type: ignore[attr-defined]


def body_for(client: TestClient, case: Case) -> dict[str, Any]:
    svc = service(client, case)
    if case.decl.sample is not None:
        return client.portal.call(case.decl.sample, svc)  # type: ignore[union-attr]
    return synthesise(case.api.contract.definitions, {"$ref": f"#/definitions/{svc.create_def}"})  # type: ignore[no-any-return]


def collection(client: TestClient, case: Case) -> str:
    """The resource's collection path; a sub-resource's under a parent made for it."""
    if case.decl.parent is None:
        return f"{case.api.root}/{case.decl.name}"
    parent = create(client, Case(case.api, case.api.resources[case.decl.parent]))
    return f"{case.api.root}/{case.decl.parent}/{parent['id']}/{case.decl.name}"


def create(client: TestClient, case: Case) -> dict[str, Any]:
    """Create one; the answer is the resource (checked), whatever its status (TMF640 answers 202)."""
    r = client.post(collection(client, case), json=body_for(client, case))
    assert r.status_code in (200, 201, 202), f"{case}: create refused: {r.status_code} {r.text[:400]}"
    doc = r.json()
    location = urlsplit(r.headers["location"]).path
    if doc.get("id") and location.endswith(f"/{doc['id']}"):  # the resource itself, not a monitor
        assert_official(case.api, case.decl.entity_name, doc)
        assert urlsplit(doc["href"]).path == location
        return doc  # type: ignore[no-any-return]
    doc = client.get(location).json()  # a monitor: the resource it follows is read back below
    return create_followed(client, case, doc)


def create_followed(client: TestClient, case: Case, monitor: dict[str, Any]) -> dict[str, Any]:
    ref = monitor.get("sourceHref") or monitor.get("href")
    assert isinstance(ref, str), f"{case}: a create answered neither the resource nor a monitor of it: {monitor}"
    r = client.get(urlsplit(ref).path)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def item_path(doc: dict[str, Any]) -> str:
    return urlsplit(doc["href"]).path


# -- resources ---------------------------------------------------------------------------------


@pytest.mark.parametrize("case", cases("create", "get", "list"))
def test_create_read_and_list(client: TestClient, case: Case) -> None:
    doc = create(client, case)
    r = client.get(item_path(doc))
    assert r.status_code == 200, r.text
    assert r.json()["id"] == doc["id"]
    assert_official(case.api, case.decl.entity_name, r.json())
    base = item_path(doc).rsplit("/", 1)[0]
    r = client.get(base, params={"id": doc["id"]})
    assert r.status_code == 200, r.text
    assert [d["id"] for d in r.json()] == [doc["id"]]
    assert r.headers["x-total-count"] == r.headers["x-result-count"] == "1"
    assert_official(case.api, case.decl.entity_name, r.json())
    r = client.get(base, params={"id": doc["id"], "fields": "@type"})
    assert r.status_code == 200, r.text
    assert r.json() == [{k: doc[k] for k in ("id", "href", "@type") if k in doc}]
    r = client.get(base, params={"id": doc["id"] + "-not"})
    assert r.status_code == 200 and r.json() == [] and r.headers["x-total-count"] == "0", r.text


@pytest.mark.parametrize("case", cases("get", where=lambda c: c.decl.parent is not None))
def test_a_child_lives_under_its_own_parent_only(client: TestClient, case: Case) -> None:
    doc = create(client, case)
    other = collection(client, case)  # the same collection under another parent
    assert client.get(other).json() == []
    assert_error(case.api, client.get(f"{other}/{doc['id']}"), 404)
    parents = f"{case.api.root}/{case.decl.parent}"
    assert_error(case.api, client.get(f"{parents}/no-such-parent/{case.decl.name}"), 404)
    if "create" in case.ops:
        r = client.post(f"{parents}/no-such-parent/{case.decl.name}", json=body_for(client, case))
        assert_error(case.api, r, 404)


def patch_of(case: Case, doc: dict[str, Any]) -> tuple[str, Any]:
    """A change a client may make: a note added where the entity takes notes (an order closed by
    its manager still takes them), else a free-text attribute (description, name, or another)."""
    contract = case.api.contract
    svc_entity = case.decl.entity_name
    update = f"{svc_entity}_Update" if contract.has(f"{svc_entity}_Update") else svc_entity
    props = contract.properties(update)
    note = props.get("note", {})
    if note.get("type") == "array":
        added = synthesise(contract.definitions, note["items"]) | {"text": "added by the generic test"}
        return "note", [*doc.get("note", []), added]
    plain = [
        n
        for n, p in sorted(props.items())
        if p.get("type") == "string" and "enum" not in p and "format" not in p and not n.startswith("@")
    ]
    name = next((n for n in ("description", "name", *plain) if n in plain), None)
    assert name is not None, f"{case}: its update schema has no free-text attribute to patch"
    return name, "patched by the generic test"


@pytest.mark.parametrize("case", cases("create", "patch"))
def test_patch(client: TestClient, case: Case) -> None:
    doc = create(client, case)
    for _ in range(5):  # the change is made on the current version (a manager may move it meanwhile)
        current = client.get(item_path(doc))
        name, value = patch_of(case, current.json())
        r = client.patch(item_path(doc), json={name: value}, headers={"If-Match": current.headers["etag"]})
        if r.status_code != 412:
            break
    assert r.status_code == 200, r.text
    assert r.json()[name] == value
    assert_official(case.api, case.decl.entity_name, r.json())
    assert client.get(item_path(doc)).json()[name] == value


@pytest.mark.parametrize("case", cases("create", "delete"))
def test_delete(client: TestClient, case: Case) -> None:
    doc = create(client, case)
    # a resource a domain process still works on (an order being fulfilled, a running job) may refuse
    # deletion with a 409 until it settles; how soon depends on the backend, so the test waits for it
    r = wait_until(
        lambda: client.delete(item_path(doc)),
        lambda r: r.status_code != 409,
        what=lambda r: f"{case} still refuses deletion: {r.text}",
    )
    assert r.status_code == 204, r.text
    assert_error(case.api, client.get(item_path(doc)), 404) if "get" in case.ops else None
    assert_error(case.api, client.delete(item_path(doc)), 404)


@pytest.mark.parametrize("case", cases("get"))
def test_an_unknown_id_is_a_404(client: TestClient, case: Case) -> None:
    base = collection(client, case) if case.decl.parent else f"{case.api.root}/{case.decl.name}"
    assert_error(case.api, client.get(f"{base}/no-such-id"), 404)


# -- events and hubs ---------------------------------------------------------------------------


def _emits_create(case: Case) -> bool:
    entity = case.decl.entity_name
    events = {e for e in case.api.contract.events if e.startswith(entity) and e[len(entity) :][:1].isupper()}
    return not events or f"{entity}CreateEvent" in events


@pytest.mark.parametrize("case", cases("create", where=lambda c: _emits_create(c)))
def test_a_create_is_delivered_to_the_hub(client: TestClient, case: Case) -> None:
    event_type = f"{case.decl.entity_name}CreateEvent"
    with Listener() as listener:
        r = client.post(f"{case.api.root}/hub", json={"callback": listener.url, "query": f"eventType={event_type}"})
        assert r.status_code == 201, r.text
        doc = create(client, case)
        event = listener.wait_until(lambda bodies: any(_names(b, doc["id"]) for b in bodies))[-1]
    assert event["eventType"] == event_type and event["eventId"] and event["eventTime"]
    assert event["event"][case.decl.name]["id"] == doc["id"]
    if event_type in _official(case.api.contract.source):
        assert_official(case.api, event_type, event)


def _names(body: Any, id: str) -> bool:
    return isinstance(body, dict) and any(d.get("id") == id for d in (body.get("event") or {}).values())


def hubs() -> Iterator[Any]:
    """(api, hub collection) of each API and of each parent that has hubs of its own."""
    for api in APIS:
        yield pytest.param(api, None, id=f"{api.key} hub")
        for parent, children in sorted(api.contract.children.items()):
            if "hub" in children:
                yield pytest.param(api, parent, id=f"{api.key} {parent}/hub")


@pytest.mark.parametrize("api, parent", list(hubs()))
def test_hub_create_read_delete(client: TestClient, api: ApiDecl, parent: str | None) -> None:
    base = f"{api.root}/hub"
    schema = "Hub" if api.contract.draft >= 7 else "EventSubscription"
    if parent is not None:
        doc = create(client, Case(api, api.resources[parent]))
        base = f"{api.root}/{parent}/{doc['id']}/hub"
        schema = "Hub" if "Hub" in _official(api.contract.source) else schema
        nowhere = client.post(f"{api.root}/{parent}/no-such-parent/hub", json={"callback": "http://127.0.0.1:9/x"})
        assert_error(api, nowhere, 404)
    with Listener() as listener:
        r = client.post(base, json={"callback": listener.url})
        assert r.status_code == 201, r.text
        hub = r.json()
        assert_official(api, schema, hub)
        assert urlsplit(r.headers["location"]).path == f"{base}/{hub['id']}"
        r = client.get(f"{base}/{hub['id']}")  # served where the spec has no GET too (README)
        assert r.status_code == 200 and r.json() == hub, r.text
        if parent is not None and "list" in api.contract.children[parent]["hub"]:
            assert client.get(base).json() == [hub]
        assert client.delete(f"{base}/{hub['id']}").status_code == 204
        assert_error(api, client.get(f"{base}/{hub['id']}"), 404)
        assert_error(api, client.delete(f"{base}/{hub['id']}"), 404)


def _parent_has_hubs(case: Case) -> bool:
    return case.decl.parent is not None and "hub" in case.api.contract.children.get(case.decl.parent, {})


@pytest.mark.parametrize("case", cases("create", where=_parent_has_hubs))
def test_a_child_is_delivered_to_its_parents_hubs_only(client: TestClient, case: Case) -> None:
    mine, other = collection(client, case), collection(client, case)  # under two parents
    with Listener() as listener, Listener() as elsewhere:
        for children, callback in ((mine, listener.url), (other, elsewhere.url)):
            hub = f"{children.rsplit('/', 1)[0]}/hub"
            assert client.post(hub, json={"callback": callback}).status_code == 201
        r = client.post(mine, json=body_for(client, case))
        assert r.status_code == 201, r.text
        id = r.json()["id"]
        listener.wait_until(lambda bodies: any(id in json.dumps(b) for b in bodies))
        assert elsewhere.bodies == []


@pytest.mark.parametrize("case", cases("create", where=lambda c: c.decl.sample is not None))
def test_a_sample_is_declared_only_where_a_schema_body_is_refused(client: TestClient, case: Case) -> None:
    svc = service(client, case)
    body = synthesise(case.api.contract.definitions, {"$ref": f"#/definitions/{svc.create_def}"})
    r = client.post(collection(client, case), json=body)
    assert 400 <= r.status_code < 500, f"{case}: the schema's body is accepted; its sample is not needed"


def test_every_declared_resource_is_covered() -> None:
    """Each resource is created by the tests above (from its schema or its sample) or, where no
    client creates it (the server makes it, e.g. a monitor), read: those stay few, as do samples."""
    assert {str(c) for c in CASES} == {str(p.values[0]) for p in [*cases("create"), *cases("get")]}
    made_by_the_server = [str(c) for c in CASES if "create" not in c.ops]
    assert len(made_by_the_server) <= 2, made_by_the_server
    samples = [str(c) for c in CASES if c.decl.sample is not None]
    assert len(samples) <= len(CASES) // 4, f"most resources should be made from their schema: {samples}"

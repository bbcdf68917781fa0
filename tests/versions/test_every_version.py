"""Every resource a version serves over another's data, generated from the declarations: one store,
two faces. An API version added later is covered without a test of its own.

For each served resource: made through the canonical version (v4), it is read, listed, filtered,
projected, patched and deleted through the served one (v5), each answer valid against the official
v5 schema; what a v5 client reads it can post back, and v4 reads that (valid against v4); each
version's hub hears the same change in its own shape (same ``eventId``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from starlette.testclient import TestClient

from tests.api.test_every_api import Case, assert_official, create, synthesise
from tests.support.listener import Listener
from tests.support.polling import wait_until
from tests.versions.support import SERVED, VERSIONS, Served, assert_v5, assert_v5_error
from tmfstack.engine.shape import path


def served(*needed: str, canonical: tuple[str, ...] = ()) -> list[Any]:
    """The served resources offering every operation ``needed`` (and ``canonical`` on the other side)."""
    out = []
    for s in SERVED:
        theirs = s.canonical_api.contract.served(s.canonical) or frozenset()
        if set(needed) <= s.ops and set(canonical) <= theirs:
            out.append(pytest.param(s, id=str(s)))
    return out


def made_in_v4(client: TestClient, s: Served) -> dict[str, Any]:
    return create(client, Case(s.canonical_api, s.canonical_api.resources[s.canonical]))


def read(client: TestClient, s: Served, id: str) -> Any:
    r = client.get(f"{s.base}/{id}")
    assert r.status_code == 200, r.text
    return r


@pytest.mark.parametrize("s", served("get", "list", canonical=("create",)))
def test_made_in_v4_is_read_listed_and_projected_in_v5(client: TestClient, s: Served) -> None:
    doc = made_in_v4(client, s)
    shown = read(client, s, doc["id"]).json()
    assert shown["id"] == doc["id"]
    assert urlsplit(shown["href"]).path == f"{s.base}/{doc['id']}"  # the href of the version read through
    assert_v5(s.version, s.entity, shown)
    r = client.get(s.base, params={"id": doc["id"]})
    assert r.status_code == 200 and [d["id"] for d in r.json()] == [doc["id"]], r.text
    assert r.headers["x-total-count"] == r.headers["x-result-count"] == "1"
    assert_v5(s.version, s.entity, r.json())
    r = client.get(s.base, params={"id": doc["id"], "fields": "@type"})
    assert r.json() == [{k: shown[k] for k in ("id", "href", "@type")}], r.text
    r = client.get(f"{s.base}/{doc['id']}", params={"fields": "id"})
    assert r.json() == {k: shown[k] for k in ("id", "href", "@type")}, r.text
    assert_v5_error(s.version, client.get(f"{s.base}/no-such-id"), 404)


def _required(defs: dict[str, Any], node: dict[str, Any], depth: int = 0) -> set[str]:
    """The attributes a schema requires, through ``$ref``, ``allOf`` and a dispatch's plain form."""
    if depth > 20:
        return set()
    ref = node.get("$ref")
    found = set(node.get("required", []))
    if isinstance(ref, str):
        found |= _required(defs, defs.get(ref.rsplit("/", 1)[-1], {}), depth + 1)
    for part in [*node.get("allOf", []), *([node["else"]] if "else" in node else [])]:
        found |= _required(defs, part, depth + 1)
    return found


def _postable(s: Served, shown: dict[str, Any]) -> dict[str, Any]:
    """What a v5 client read, as it would post it again: the attributes its create schema takes;
    one the v5 schema requires and the v4-made resource lacks (v4 did not require it) is made up."""
    contract = s.version.contract
    create_def = contract.schemas(s.name).get("create") or f"{s.entity}_FVO"
    props = contract.properties(create_def)
    required = _required(contract.definitions, {"$ref": f"#/definitions/{create_def}"})
    allowed = set(props) | required | {"@type"}
    body = {k: v for k, v in shown.items() if k in allowed and k not in ("id", "href")}
    for name in sorted(required - set(body) - {"@type"}):
        body[name] = synthesise(contract.definitions, props.get(name, {"type": "string"}))
    return body


@pytest.mark.parametrize("s", served("create", "get", canonical=("create", "get")))
def test_what_v5_reads_it_can_post_and_v4_reads_it(client: TestClient, s: Served) -> None:
    shown = read(client, s, made_in_v4(client, s)["id"]).json()
    r = client.post(s.base, json=_postable(s, shown))
    assert r.status_code in (200, 201, 202), r.text
    made = r.json()
    assert urlsplit(r.headers["location"]).path == f"{s.base}/{made['id']}"
    assert_v5(s.version, s.entity, made)
    api = s.canonical_api
    r = client.get(f"{api.root}/{s.canonical}/{made['id']}")
    assert r.status_code == 200, r.text
    assert r.json()["id"] == made["id"]
    assert_official(api, api.resources[s.canonical].entity_name, r.json())


def _text_attribute(s: Served) -> str:
    contract = s.version.contract
    patch_def = contract.schemas(s.name).get("patch") or f"{s.entity}_MVO"
    props = contract.properties(patch_def)
    for name in ("description", "name"):
        if props.get(name, {}).get("type") == "string":
            return name
    raise AssertionError(f"{s}: its patch schema has neither description nor name")


@pytest.mark.parametrize("s", served("patch", "get", canonical=("create", "get")))
def test_a_v5_patch_is_seen_by_v4(client: TestClient, s: Served) -> None:
    doc = made_in_v4(client, s)
    name = _text_attribute(s)
    for _ in range(5):  # on the current version (a manager may move it meanwhile)
        current = read(client, s, doc["id"])
        r = client.patch(
            f"{s.base}/{doc['id']}",
            json={name: "patched through v5"},
            headers={"If-Match": current.headers["etag"], "Content-Type": "application/merge-patch+json"},
        )
        if r.status_code != 412:
            break
    assert r.status_code == 200, r.text
    assert r.json()[name] == "patched through v5"
    assert_v5(s.version, s.entity, r.json())
    api = s.canonical_api
    stored = path(served_service(client, s).node, (name,))[0]  # e.g. v5 Individual.name is v4 fullName
    assert client.get(f"{api.root}/{s.canonical}/{doc['id']}").json()[".".join(stored)] == "patched through v5"


@pytest.mark.parametrize("s", served("delete", canonical=("create", "get")))
def test_a_v5_delete_is_gone_in_v4(client: TestClient, s: Served) -> None:
    doc = made_in_v4(client, s)
    r = wait_until(
        lambda: client.delete(f"{s.base}/{doc['id']}"),
        lambda r: r.status_code != 409,
        what=lambda r: f"{s} still refuses deletion: {r.text}",
    )
    assert r.status_code == 204, r.text
    api = s.canonical_api
    assert client.get(f"{api.root}/{s.canonical}/{doc['id']}").status_code == 404
    assert_v5_error(s.version, client.delete(f"{s.base}/{doc['id']}"), 404)


def served_service(client: TestClient, s: Served) -> Any:
    return client.app.state.engine.services[s.version.root][s.name]  # type: ignore[attr-defined]


def _emits_create(s: Served) -> bool:
    return f"{s.type}CreateEvent" in s.version.contract.events


@pytest.mark.parametrize("s", served("create", canonical=("create",)))
def test_each_version_hears_the_same_change_in_its_own_shape(client: TestClient, s: Served) -> None:
    if not _emits_create(s):
        pytest.skip(f"{s.version.contract.source} defines no {s.type}CreateEvent")
    api = s.canonical_api
    v4_entity = api.resources[s.canonical].entity_name
    with Listener() as old, Listener() as new:
        r = client.post(f"{api.root}/hub", json={"callback": old.url, "query": f"eventType={v4_entity}CreateEvent"})
        assert r.status_code == 201, r.text
        r = client.post(
            f"{s.version.root}/hub",
            json={"@type": "Hub_FVO", "callback": new.url, "query": f"eventType={s.type}CreateEvent"},
        )
        assert r.status_code == 201, r.text
        assert_v5(s.version, "Hub", r.json())
        doc = made_in_v4(client, s)
        v4 = old.wait_until(lambda bodies: any(_names(b, s.canonical, doc["id"]) for b in bodies))[-1]
        v5 = new.wait_until(lambda bodies: any(_names(b, s.name, doc["id"]) for b in bodies))[-1]
        if "get" in s.ops:  # and a change made through v5 is heard by both alike
            r = client.post(s.base, json=_postable(s, read(client, s, doc["id"]).json()))
            assert r.status_code in (200, 201, 202), r.text
            again = r.json()["id"]
            heard4 = old.wait_until(lambda bodies: any(_names(b, s.canonical, again) for b in bodies))
            heard5 = new.wait_until(lambda bodies: any(_names(b, s.name, again) for b in bodies))
            assert {b["eventId"] for b in heard4 if _names(b, s.canonical, again)} == {
                b["eventId"] for b in heard5 if _names(b, s.name, again)
            }
    assert v4["eventId"] == v5["eventId"]  # one change, one event: receivers de-duplicate alike
    assert v4["eventType"] == f"{v4_entity}CreateEvent" and "timeOcurred" in v4
    assert v5["eventType"] == v5["@type"] == f"{s.type}CreateEvent" and "timeOccurred" in v5
    assert urlsplit(v5["event"][s.name]["href"]).path == f"{s.base}/{doc['id']}"
    if f"{s.type}CreateEvent" in _definitions(s):
        assert_v5(s.version, f"{s.type}CreateEvent", v5)


def _definitions(s: Served) -> dict[str, Any]:
    from tests.versions.support import official

    return official(s.version.contract.source)


def _names(body: Any, key: str, id: str) -> bool:
    return isinstance(body, dict) and (body.get("event") or {}).get(key, {}).get("id") == id


@pytest.mark.parametrize("s", served("create", canonical=("create",)))
def test_a_v5_body_is_checked_against_the_v5_schema(client: TestClient, s: Served) -> None:
    contract = s.version.contract
    create_def = contract.schemas(s.name).get("create") or f"{s.entity}_FVO"
    wrong = {k: 12345 for k in ("name", "description") if k in contract.properties(create_def)}
    if not wrong:
        pytest.skip(f"{create_def} has neither name nor description")
    shown = read(client, s, made_in_v4(client, s)["id"]).json()
    r = client.post(s.base, json=_postable(s, shown) | wrong)  # a body v5 takes, but for one attribute's type
    assert_v5_error(s.version, r, 400)
    assert r.json()["code"] == "SCHEMA_VIOLATION" and next(iter(wrong)) in r.json()["message"], r.text


@pytest.mark.parametrize("version", [pytest.param(v, id=f"{v.key} {v.version}") for v in VERSIONS])
def test_every_resource_of_the_file_is_served(version: Any) -> None:
    """Each resource path of the official file is a mapped resource or one of the version's own."""
    file_resources = set(version.contract.operations) - {"hub"}
    assert file_resources == set(version.maps) | set(version.resources), version.contract.source

"""CRUD of the five TMF620 catalog entities through the HTTP API, checked against the official schema."""

from __future__ import annotations

import time
from typing import Any

import orjson
import pytest
from starlette.testclient import TestClient

from tests.support.assertions import assert_error, assert_valid
from tests.support.ordering import CATALOG

RESOURCES = {
    "catalog": "Catalog",
    "category": "Category",
    "productOffering": "ProductOffering",
    "productOfferingPrice": "ProductOfferingPrice",
    "productSpecification": "ProductSpecification",
}
MIB = 1 << 20


@pytest.fixture(params=sorted(RESOURCES))
def resource(request: pytest.FixtureRequest) -> str:
    return request.param


def entity(resource: str) -> str:
    return RESOURCES[resource]


def create(client: TestClient, resource: str, **body: Any) -> dict[str, Any]:
    response = client.post(f"{CATALOG}/{resource}", json={"name": "Basic", **body})
    assert response.status_code == 201, response.text
    assert_valid("620", entity(resource), response.json())
    return response.json()


def item_url(resource: str, id: str) -> str:
    return f"{CATALOG}/{resource}/{id}"


def patch(client: TestClient, url: str, body: Any, media: str = "application/json", **headers: str) -> Any:
    return client.patch(url, content=orjson.dumps(body), headers={"content-type": media, **headers})


def tick() -> None:
    """lastUpdate has millisecond precision: make sure the next write gets a later stamp."""
    time.sleep(0.003)


# -- create and read -----------------------------------------------------------------


def test_create_minimal(client: TestClient, resource: str) -> None:
    response = client.post(f"{CATALOG}/{resource}", json={"name": "Basic"})
    assert response.status_code == 201, response.text
    body = response.json()
    assert_valid("620", entity(resource), body)
    assert response.headers["location"] == body["href"]
    assert body["href"] == f"http://testserver{CATALOG}/{resource}/{body['id']}"
    assert body["id"] and body["lastUpdate"]
    assert body["lifecycleStatus"] == "In design"
    assert body["@type"] == entity(resource)
    assert body["name"] == "Basic"
    assert response.headers["etag"] == '"1"'


def test_create_keeps_given_type(client: TestClient, resource: str) -> None:
    body = create(client, resource, **{"@type": f"Special{entity(resource)}", "@baseType": entity(resource)})
    assert body["@type"] == f"Special{entity(resource)}"
    assert_valid("620", entity(resource), body)


def test_get_by_id_equals_created(client: TestClient, resource: str) -> None:
    created = client.post(f"{CATALOG}/{resource}", json={"name": "Basic", "description": "d", "version": "1.0"})
    body = created.json()
    response = client.get(item_url(resource, body["id"]))
    assert response.status_code == 200
    assert response.json() == body
    assert response.headers["etag"] == created.headers["etag"]
    assert_valid("620", entity(resource), response.json())


def test_get_if_none_match(client: TestClient, resource: str) -> None:
    created = client.post(f"{CATALOG}/{resource}", json={"name": "Basic"})
    url = item_url(resource, created.json()["id"])
    response = client.get(url, headers={"If-None-Match": created.headers["etag"]})
    assert response.status_code == 304
    assert client.get(url, headers={"If-None-Match": '"999"'}).status_code == 200


def test_created_entity_is_listed(client: TestClient, resource: str) -> None:
    body = create(client, resource)
    response = client.get(f"{CATALOG}/{resource}")
    assert response.status_code == 200
    assert response.json() == [body]
    assert response.headers["x-total-count"] == "1"
    assert_valid("620", entity(resource), response.json())


def test_get_unknown_id(client: TestClient, resource: str) -> None:
    body = assert_error(client.get(item_url(resource, "no-such-id")), 404, spec="620")
    assert "no-such-id" in body["message"]


# -- PATCH ---------------------------------------------------------------------------


def test_patch_name(client: TestClient, resource: str) -> None:
    for media in ("application/json", "application/merge-patch+json", "application/json;charset=utf-8"):
        before = create(client, resource, description="kept")
        tick()
        response = patch(client, item_url(resource, before["id"]), {"name": "Renamed"}, media)
        assert response.status_code == 200, (media, response.text)
        after = response.json()
        assert_valid("620", entity(resource), after)
        assert after["name"] == "Renamed"
        assert after["description"] == "kept"
        assert after["lastUpdate"] > before["lastUpdate"]
        assert response.headers["etag"] == '"2"'
        assert client.get(item_url(resource, before["id"])).json() == after


def test_merge_patch_null_removes(client: TestClient, resource: str) -> None:
    before = create(client, resource, description="gone soon")
    response = patch(client, item_url(resource, before["id"]), {"description": None}, "application/merge-patch+json")
    assert response.status_code == 200, response.text
    assert "description" not in response.json()
    assert_valid("620", entity(resource), response.json())


def test_json_patch_replace_add_remove(client: TestClient, resource: str) -> None:
    before = create(client, resource)
    url = item_url(resource, before["id"])
    media = "application/json-patch+json"

    tick()
    response = patch(client, url, [{"op": "replace", "path": "/name", "value": "Replaced"}], media)
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Replaced"
    assert response.json()["lastUpdate"] > before["lastUpdate"]
    assert_valid("620", entity(resource), response.json())

    response = patch(client, url, [{"op": "add", "path": "/description", "value": "Added"}], media)
    assert response.status_code == 200, response.text
    assert response.json()["description"] == "Added"
    assert_valid("620", entity(resource), response.json())

    response = patch(client, url, [{"op": "remove", "path": "/description"}], media)
    assert response.status_code == 200, response.text
    assert "description" not in response.json()
    assert response.headers["etag"] == '"4"'
    assert_valid("620", entity(resource), response.json())
    assert client.get(url).json() == response.json()


def test_json_patch_is_atomic(client: TestClient, resource: str) -> None:
    before = create(client, resource)
    url = item_url(resource, before["id"])
    ops = [
        {"op": "replace", "path": "/name", "value": "Half done"},
        {"op": "remove", "path": "/doesNotExist"},
    ]
    assert_error(patch(client, url, ops, "application/json-patch+json"), 400, spec="620")
    assert client.get(url).json() == before


OWNED_ON_PATCH = [
    ("id", "other-id"),
    ("href", "http://elsewhere.example/x"),
    ("lastUpdate", "2020-01-01T00:00:00Z"),
    ("@type", "X"),
]


def test_patch_server_owned_refused(client: TestClient, resource: str) -> None:
    before = create(client, resource)
    url = item_url(resource, before["id"])
    for attribute, value in OWNED_ON_PATCH:
        body = assert_error(patch(client, url, {attribute: value, "name": "Sneaky"}), 400, spec="620")
        assert attribute in body["message"]
        ops = [{"op": "replace", "path": f"/{attribute}", "value": value}]
        body = assert_error(patch(client, url, ops, "application/json-patch+json"), 400, spec="620")
        assert attribute in body["message"]
    ops = [{"op": "remove", "path": "/id"}]
    assert_error(patch(client, url, ops, "application/json-patch+json"), 400, spec="620")
    assert client.get(url).json() == before


def test_patch_schema_violation(client: TestClient, resource: str) -> None:
    before = create(client, resource)
    url = item_url(resource, before["id"])
    body = assert_error(patch(client, url, {"version": 5}), 400, spec="620")
    assert "version" in body["message"]
    body = assert_error(patch(client, url, {"validFor": "tomorrow"}), 400, spec="620")
    assert "validFor" in body["message"]
    assert client.get(url).json() == before


def test_patch_unknown_id(client: TestClient, resource: str) -> None:
    assert_error(patch(client, item_url(resource, "missing"), {"name": "x"}), 404, spec="620")


def test_patch_unsupported_media_type(client: TestClient, resource: str) -> None:
    before = create(client, resource)
    url = item_url(resource, before["id"])
    for media in ("text/plain", "application/xml", "application/x-www-form-urlencoded"):
        assert_error(client.patch(url, content=b'{"name": "x"}', headers={"content-type": media}), 415, spec="620")
    assert client.get(url).json() == before


def test_patch_malformed(client: TestClient, resource: str) -> None:
    before = create(client, resource)
    url = item_url(resource, before["id"])
    bad_json = client.patch(url, content=b'{"name": ', headers={"content-type": "application/json"})
    assert_error(bad_json, 400, spec="620")
    assert_error(patch(client, url, [{"name": "x"}]), 400, spec="620")  # a merge patch must be an object
    assert_error(patch(client, url, {"op": "add"}, "application/json-patch+json"), 400, spec="620")
    assert client.get(url).json() == before


# -- DELETE --------------------------------------------------------------------------


def test_delete(client: TestClient, resource: str) -> None:
    body = create(client, resource)
    url = item_url(resource, body["id"])
    response = client.delete(url)
    assert response.status_code == 204
    assert response.content == b""
    assert_error(client.get(url), 404, spec="620")
    assert_error(client.delete(url), 404, spec="620")
    assert client.get(f"{CATALOG}/{resource}").headers["x-total-count"] == "0"


# -- conditional requests --------------------------------------------------------------


def test_if_match(client: TestClient, resource: str) -> None:
    created = client.post(f"{CATALOG}/{resource}", json={"name": "Basic"})
    url = item_url(resource, created.json()["id"])
    tag = created.headers["etag"]

    response = patch(client, url, {"name": "Second"}, **{"If-Match": tag})
    assert response.status_code == 200, response.text
    assert_valid("620", entity(resource), response.json())
    new_tag = response.headers["etag"]
    assert new_tag != tag

    body = assert_error(patch(client, url, {"name": "Third"}, **{"If-Match": tag}), 412, spec="620")
    assert tag in body["message"]
    assert client.get(url).json()["name"] == "Second"
    assert_error(client.delete(url, headers={"If-Match": tag}), 412, spec="620")
    assert client.get(url).status_code == 200

    assert patch(client, url, {"name": "Any"}, **{"If-Match": "*"}).status_code == 200
    tag = client.get(url).headers["etag"]
    assert client.delete(url, headers={"If-Match": tag}).status_code == 204
    assert_error(client.get(url), 404, spec="620")


# -- POST errors ---------------------------------------------------------------------


def test_post_unsupported_media_type(client: TestClient, resource: str) -> None:
    response = client.post(f"{CATALOG}/{resource}", content=b'{"name": "x"}', headers={"content-type": "text/plain"})
    assert_error(response, 415, spec="620")
    assert client.get(f"{CATALOG}/{resource}").json() == []


def test_post_malformed_json(client: TestClient, resource: str) -> None:
    for raw in (b'{"name": "x"', b"", b"{'name': 'x'}", b'{"name": "x"} trailing', b"\xff\xfe"):
        response = client.post(f"{CATALOG}/{resource}", content=raw, headers={"content-type": "application/json"})
        assert assert_error(response, 400, spec="620")["code"] == "MALFORMED_JSON", raw
    assert client.get(f"{CATALOG}/{resource}").json() == []


def test_post_body_not_an_object(client: TestClient, resource: str) -> None:
    for raw in (b'[{"name": "x"}]', b'"x"', b"null", b"42"):
        response = client.post(f"{CATALOG}/{resource}", content=raw, headers={"content-type": "application/json"})
        assert_error(response, 400, spec="620")
    assert client.get(f"{CATALOG}/{resource}").json() == []


SCHEMA_VIOLATIONS = [
    ({}, "name"),
    ({"name": 1}, "name"),
    ({"name": "ok", "validFor": "tomorrow"}, "validFor"),
    ({"name": "ok", "version": ["1"]}, "version"),
    ({"name": "ok", "lifecycleStatus": 3}, "lifecycleStatus"),
]


def test_post_schema_violation(client: TestClient, resource: str) -> None:
    for body, attribute in SCHEMA_VIOLATIONS:
        error = assert_error(client.post(f"{CATALOG}/{resource}", json=body), 400, spec="620")
        assert attribute in error["message"], (body, error)
    assert client.get(f"{CATALOG}/{resource}").json() == []


OWNED_ON_CREATE = [("id", "chosen-id"), ("href", "http://elsewhere.example/x"), ("lastUpdate", "2020-01-01T00:00:00Z")]


def test_post_server_owned_refused(client: TestClient, resource: str) -> None:
    for attribute, value in OWNED_ON_CREATE:
        error = assert_error(
            client.post(f"{CATALOG}/{resource}", json={"name": "x", attribute: value}), 400, spec="620"
        )
        assert attribute in error["message"]
    assert client.get(f"{CATALOG}/{resource}").json() == []


def test_post_too_large(client: TestClient, resource: str) -> None:
    raw = b'{"name": "big", "description": "' + b"x" * MIB + b'"}'
    response = client.post(f"{CATALOG}/{resource}", content=raw, headers={"content-type": "application/json"})
    assert_error(response, 413, spec="620")

    def chunks():  # no Content-Length: the limit must hold while streaming too
        yield b'{"name": "big", "description": "'
        for _ in range(17):
            yield b"x" * (1 << 16)
        yield b'"}'

    response = client.post(f"{CATALOG}/{resource}", content=chunks(), headers={"content-type": "application/json"})
    assert_error(response, 413, spec="620")
    assert client.get(f"{CATALOG}/{resource}").json() == []


def test_patch_too_large(client: TestClient, resource: str) -> None:
    before = create(client, resource)
    url = item_url(resource, before["id"])
    raw = b'{"description": "' + b"x" * MIB + b'"}'
    assert_error(client.patch(url, content=raw, headers={"content-type": "application/json"}), 413, spec="620")
    assert client.get(url).json() == before


def test_body_just_under_limit_accepted(client: TestClient) -> None:
    prefix, suffix = b'{"name": "big", "description": "', b'"}'
    raw = prefix + b"x" * (MIB - len(prefix) - len(suffix)) + suffix
    assert len(raw) == MIB
    response = client.post(f"{CATALOG}/productOffering", content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 201, response.text[:300]


# -- routing ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        f"{CATALOG}/productOfferings",
        f"{CATALOG}/nothing/123",
        f"{CATALOG}/productOffering/a/b",
        f"{CATALOG}/",
        "/tmf-api/productCatalogManagement/v3/productOffering",
        "/tmf-api/noSuchApi/v4/productOffering",
    ],
)
def test_unknown_path(client: TestClient, path: str) -> None:
    assert_error(client.get(path), 404, spec="620")


def test_put_not_allowed(client: TestClient, resource: str) -> None:
    body = create(client, resource)
    response = client.put(item_url(resource, body["id"]), json={"name": "x"})
    assert_error(response, 405, spec="620")
    assert {m.strip() for m in response.headers["allow"].split(",")} >= {"GET", "PATCH", "DELETE"}
    assert "PUT" not in response.headers["allow"]
    response = client.put(f"{CATALOG}/{resource}", json={"name": "x"})
    assert_error(response, 405, spec="620")
    assert {m.strip() for m in response.headers["allow"].split(",")} == {"GET", "POST"}
    assert client.get(item_url(resource, body["id"])).json() == body


def test_post_on_item_not_allowed(client: TestClient) -> None:
    body = create(client, "productOffering")
    response = client.post(item_url("productOffering", body["id"]), json={"name": "x"})
    assert_error(response, 405, spec="620")
    assert "POST" not in response.headers["allow"]


def test_head_on_collection(client: TestClient) -> None:
    create(client, "productOffering")
    response = client.head(f"{CATALOG}/productOffering")
    assert response.status_code == 200
    assert response.headers["x-total-count"] == "1"

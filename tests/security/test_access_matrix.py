"""Every operation of every declared API, with authentication on: 401 without a token and with
each kind of bad token, 403 without the operation's scope, served with it. Generated from the
declarations, so an API added later is covered without a new test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.security import Secured
from tmfstack.apis import all_apis
from tmfstack.engine.declaration import ApiDecl

_METHODS = {"list": "GET", "create": "POST", "get": "GET", "patch": "PATCH", "put": "PUT", "delete": "DELETE"}


def operations() -> Iterator[tuple[str, str, str, str]]:
    """(api key, method, path, needed scope) of every served operation, hub included."""
    apis: list[ApiDecl] = all_apis()
    for api in apis:
        for resource, ops in sorted(api.contract.operations.items()):
            if resource not in api.served:
                continue
            for op in sorted(ops):
                method = _METHODS[op]
                path = f"{api.root}/{resource}" + ("/x-1" if op in ("get", "patch", "put", "delete") else "")
                yield api.key, method, path, f"{api.key}:{'read' if method == 'GET' else 'write'}"
        for method, path in (("POST", "/hub"), ("GET", "/hub/x-1"), ("DELETE", "/hub/x-1")):
            yield api.key, method, api.root + path, f"{api.key}:read"
        for parent, children in sorted(api.contract.children.items()):  # /topic/{topicId}/event[/{id}]
            for child, ops in sorted(children.items()):
                for op in sorted(ops):
                    method = _METHODS[op]
                    path = f"{api.root}/{parent}/x-1/{child}" + (
                        "/x-1" if op in ("get", "patch", "put", "delete") else ""
                    )
                    needed = "read" if method == "GET" or child == "hub" else "write"
                    yield api.key, method, path, f"{api.key}:{needed}"


OPERATIONS = list(operations())
IDS = [f"{m} {p}" for _, m, p, _ in OPERATIONS]
ADMIN = [("GET", "/admin/deliveries"), ("POST", "/admin/deliveries/1/redeliver"), ("GET", "/admin/reference")]


def _send(secured: Secured, method: str, path: str, headers: dict[str, str]):  # type: ignore[no-untyped-def]
    body = {"callback": "https://listener.example/x"} if path.endswith("/hub") else {}
    kwargs = {"json": body} if method in ("POST", "PATCH", "PUT") else {}
    return secured.client.request(method, path, headers=headers, **kwargs)


def _assert_tmf_error(r, status: int) -> dict:  # type: ignore[no-untyped-def]
    assert r.status_code == status, (r.status_code, r.text)
    body = r.json()
    assert body["status"] == str(status) and body["code"] and body["message"] and body["@type"] == "Error"
    return body


def test_the_matrix_covers_every_declared_api() -> None:
    assert {key for key, *_ in OPERATIONS} == {api.key for api in all_apis()}
    assert len(OPERATIONS) > 150


@pytest.mark.parametrize("key, method, path, scope", OPERATIONS, ids=IDS)
def test_every_operation_needs_a_token_and_its_scope(
    secure: Secured, key: str, method: str, path: str, scope: str
) -> None:
    # no token: 401 with a Bearer challenge and a TMF Error
    r = _send(secure, method, path, {})
    _assert_tmf_error(r, 401)
    assert r.headers["www-authenticate"].startswith('Bearer realm="tmfstack"')
    # a malformed Authorization header is no token either
    _assert_tmf_error(_send(secure, method, path, {"Authorization": "Basic dXNlcjpwdw=="}), 401)
    # a valid token of a client that lacks the scope: 403 naming it
    others = [s for s in secure.security.table.operator if s != scope]
    outsider = secure.login("outsider", others)
    r = _send(secure, method, path, outsider.headers())
    body = _assert_tmf_error(r, 403)
    assert scope in body["message"]
    assert f'error="insufficient_scope", scope="{scope}"' in r.headers["www-authenticate"]
    # the scope alone is enough: the request is served (a 404 for the made-up id, a 400 for the empty body…)
    insider = secure.login("insider", [scope])
    r = _send(secure, method, path, insider.headers())
    assert r.status_code not in (401, 403), r.text
    assert r.status_code < 500, r.text


def test_every_kind_of_bad_token_is_a_401(secure: Secured) -> None:
    ops = secure.login("ops", ["operator"])
    path = "/tmf-api/productOrderingManagement/v4/productOrder"
    assert ops.get(path).status_code == 200
    bad = secure.bad_tokens(ops.token)
    assert len(bad) >= 10
    for kind, token in bad.items():
        r = secure.client.get(path, headers={"Authorization": f"Bearer {token}"})
        body = _assert_tmf_error(r, 401)
        assert 'error="invalid_token"' in r.headers["www-authenticate"], kind
        assert body["code"] == "INVALID_TOKEN", kind


def test_operator_endpoints_need_the_admin_scope(secure: Secured) -> None:
    partner = secure.login("acme", ["partner"], party="org-acme")
    everything_but_admin = secure.login("almost", [s for s in secure.security.table.operator if s != "admin"])
    admin = secure.login("root", ["admin"])
    for method, path in ADMIN:
        _assert_tmf_error(secure.client.request(method, path), 401)
        for caller in (partner, everything_but_admin):
            _assert_tmf_error(caller.request(method, path), 403)
        assert admin.request(method, path).status_code in (200, 404), path


def test_health_is_open_and_unknown_paths_need_a_token(secure: Secured) -> None:
    assert secure.client.get("/health").status_code == 200
    _assert_tmf_error(secure.client.get("/nothing/here"), 401)
    _assert_tmf_error(secure.client.get("/tmf-api/noSuchApi/v4/thing"), 401)
    ops = secure.login("ops", ["operator"])
    _assert_tmf_error(ops.get("/nothing/here"), 404)
    _assert_tmf_error(ops.get("/tmf-api/noSuchApi/v4/thing"), 404)


def test_a_partner_client_gets_no_operator_only_api_by_default(secure: Secured) -> None:
    partner = secure.login("acme", ["partner"], party="org-acme")
    operator_only = {"tmf633", "tmf634", "tmf638", "tmf639", "tmf640", "tmf641", "tmf652", "tmf685", "tmf688"}
    for api in all_apis():
        # a resource it lists (a version mapped onto another's resources declares none of its own)
        listed = sorted(n for n, ops in api.contract.operations.items() if n != "hub" and "list" in ops)
        r = partner.get(f"{api.root}/{listed[0]}")
        if api.key in operator_only:
            _assert_tmf_error(r, 403)
        else:
            assert r.status_code == 200, (api.key, r.text)


def test_catalogs_are_shared_with_every_reader(secure: Secured) -> None:
    """Catalog entities are not partner business: every client with the read scope sees all of them."""
    ops = secure.login("ops", ["operator"])
    partner = secure.login("acme", ["partner"], party="org-acme")
    made = ops.post("/tmf-api/productCatalogManagement/v4/productOffering", json={"name": "Shared plan"}).json()
    assert partner.get(f"/tmf-api/productCatalogManagement/v4/productOffering/{made['id']}").status_code == 200
    listed = partner.get("/tmf-api/productCatalogManagement/v4/productOffering?name=Shared plan")
    assert [o["id"] for o in listed.json()] == [made["id"]]
    r = partner.post("/tmf-api/productCatalogManagement/v4/productOffering", json={"name": "Mine"})
    _assert_tmf_error(r, 403)  # reading is shared, writing is the operator's

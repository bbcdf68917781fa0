"""Helpers for the service/resource ordering, activation and pool tests (a helper, not a test module).

Contract checks run against the official Swagger files in /work/shared/specs (never tmfstack's
generated copies), with jsonschema_rs Draft 4::

    assert_valid("641", "ServiceOrder", body)      # an object, or each item of a list

References to definitions a file does not define (TMF685 names ``int``, ``ResourceCharacteristic``,
``ResourceRelationship`` and ``BundledProductOfferingRef`` without defining them) accept anything.

``make_catalog`` builds a minimal chain through the APIs themselves: a TMF634 resource
specification, a TMF633 RFS that needs it and a CFS that relies on the RFS, a TMF685 pool of
that resource specification and a few free TMF639 members.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from conftest import PG_URL, _fresh_postgres
from ordering_helpers import assert_valid as _assert_valid
from ordering_helpers import definitions as _definitions
from tmfstack.settings import Settings
from tmfstack.web.app import create_app

SPECS = Path(__file__).resolve().parents[2] / "shared/specs"
FILES = {
    "633": "TMF633-ServiceCatalog-v4.0.0.swagger.json",
    "634": "TMF634-ResourceCatalog-v4.1.0.swagger.json",
    "638": "TMF638-ServiceInventory-v4.0.0.swagger.json",
    "639": "TMF639-ResourceInventory-v4.0.0.swagger.json",
    "640": "TMF640-ServiceActivation-v4.0.0.swagger.json",
    "641": "TMF641-ServiceOrdering-v4.1.0.swagger.json",
    "652": "TMF652-ResourceOrder-v4.0.0.swagger.json",
    "685": "TMF685-Resource_Pool_Management-v1.0.regular.swagger.json",
}

RC = "/tmf-api/resourceCatalog/v4"
SC = "/tmf-api/serviceCatalogManagement/v4"
SI = "/tmf-api/serviceInventory/v4"
RI = "/tmf-api/resourceInventoryManagement/v4"
SO = "/tmf-api/serviceOrdering/v4"
RO = "/tmf-api/resourceOrderingManagement/v4"
AC = "/tmf-api/ServiceActivationAndConfiguration/v4"
PM = "/tmf-api/resourcePoolManagement/v1"

ORDER_TERMINAL = frozenset({"completed", "failed", "partial", "cancelled", "rejected"})
Doc = dict[str, Any]


# -- contract ------------------------------------------------------------------------------


def definitions(api: str) -> dict[str, Any]:
    return _definitions(SPECS / FILES[api])


def assert_valid(api: str, entity: str, body: Any) -> None:
    _assert_valid(SPECS / FILES[api], entity, body)


def assert_error(response: Any, status: int, code: str | None = None, api: str = "641") -> Doc:
    """A TMF Error body with ``status`` (and ``code``), valid per ``api``'s Error definition."""
    assert response.status_code == status, f"expected {status}, got {response.status_code}: {response.text}"
    body = response.json()
    for key in ("code", "reason", "message", "status"):
        assert key in body, f"missing {key} in {body}"
    assert str(body["status"]) == str(status), body
    # TMF685 v1.0 types code, reason and status as integers ("reason: Text that explains …"), unlike
    # every v4 API; its errors are held to the common v4 Error (TMF641's) instead
    assert_valid("641" if api == "685" else api, "Error", body)
    if code is not None:
        assert body["code"] == code, body
    return body


# -- app and requests ----------------------------------------------------------------------


@contextmanager
def app(folder: Path, **overrides: Any) -> Iterator[TestClient]:
    """A server over a fresh database (SQLite in ``folder``, or PostgreSQL when configured)."""
    url = _fresh_postgres(PG_URL) if PG_URL else f"sqlite:///{folder / 'test.db'}"
    settings = Settings(
        database_url=url,
        public_url="http://testserver",
        export_dir=folder / "exports",
        retry_base=0.05,
        retry_max=0.2,
        max_attempts=3,
        **overrides,
    )
    with TestClient(create_app(settings)) as client:
        yield client


def local(href: str) -> str:
    return href.removeprefix("http://testserver")


def create(client: TestClient, url: str, body: Doc) -> Doc:
    r = client.post(url, json=body)
    assert r.status_code == 201, r.text
    doc = r.json()
    assert r.headers["location"] == doc["href"], r.headers
    return doc


def get(client: TestClient, url: str) -> Any:
    r = client.get(url)
    assert r.status_code == 200, r.text
    return r.json()


def wait_until(read: Callable[[], Any], done: Callable[[Any], bool], timeout: float = 10.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s: {what or 'condition'}; last: {json.dumps(value)[:1500]}")
        time.sleep(0.02)


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


# -- catalog, pool, inventory ----------------------------------------------------------------


@dataclass
class Chain:
    resource_spec: Doc
    rfs: Doc
    cfs: Doc
    pool: Doc
    members: list[Doc] = field(default_factory=list)

    @property
    def spec_ref(self) -> Doc:
        rs = self.resource_spec
        return {"id": rs["id"], "href": rs["href"], "name": rs["name"], "@referredType": "ResourceSpecification"}

    @property
    def member_ids(self) -> set[str]:
        return {m["id"] for m in self.members}


def resource_spec(client: TestClient, name: str | None = None) -> Doc:
    return create(client, f"{RC}/resourceSpecification", {"name": name or uid("VLAN")})


def member(client: TestClient, spec: Doc, name: str) -> Doc:
    body = {
        "name": name,
        "resourceSpecification": {
            "id": spec["id"],
            "href": spec["href"],
            "name": spec["name"],
            "@referredType": "ResourceSpecification",
        },
        "resourceStatus": "available",
        "usageState": "idle",
    }
    return create(client, f"{RI}/resource", body)


def pool(client: TestClient, spec: Doc, members: int) -> tuple[Doc, list[Doc]]:
    doc = create(
        client,
        f"{PM}/resourcePool",
        {"description": f"pool of {spec['name']}", "resourceCollection": [{"objectId": spec["id"]}]},
    )
    return doc, [member(client, spec, f"{spec['name']}-{n}") for n in range(members)]


def make_chain(client: TestClient, members: int = 3) -> Chain:
    rs = resource_spec(client)
    rs_ref = {"id": rs["id"], "href": rs["href"], "name": rs["name"]}
    rfs = create(
        client,
        f"{SC}/serviceSpecification",
        {"name": uid("rfs"), "@type": "ResourceFacingServiceSpecification", "resourceSpecification": [rs_ref]},
    )
    cfs = create(
        client,
        f"{SC}/serviceSpecification",
        {
            "name": uid("cfs"),
            "@type": "CustomerFacingServiceSpecification",
            "serviceSpecRelationship": [{"relationshipType": "reliesOn", "id": rfs["id"], "name": rfs["name"]}],
        },
    )
    pool_doc, docs = pool(client, rs, members)
    return Chain(rs, rfs, cfs, pool_doc, docs)


def resources_of(client: TestClient, spec_id: str) -> list[Doc]:
    r = client.get(f"{RI}/resource", params={"resourceSpecification.id": spec_id, "limit": 1000})
    assert r.status_code == 200, r.text
    return r.json()


def taken(client: TestClient, spec_id: str) -> set[str]:
    """Ids of the members of ``spec_id`` that are not free."""
    return {d["id"] for d in resources_of(client, spec_id) if d.get("resourceStatus") != "available"}


def free(client: TestClient, spec_id: str) -> set[str]:
    return {d["id"] for d in resources_of(client, spec_id) if d.get("resourceStatus") == "available"}

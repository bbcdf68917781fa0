"""Helpers for the service/resource ordering, activation and pool tests.

Contract checks are tests/support/assertions.py's, the spec named by API number::

    assert_valid("641", "ServiceOrder", body)      # an object, or each item of a list

``make_chain`` builds a minimal chain through the APIs themselves: a TMF634 resource
specification, a TMF633 RFS that needs it and a CFS that relies on the RFS, a TMF685 pool of
that resource specification and a few free TMF639 members.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from tests.support.database import fresh_database_url
from tmfstack.settings import Settings
from tmfstack.web.app import create_app

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


# -- app and requests ----------------------------------------------------------------------


@contextmanager
def app(folder: Path, **overrides: Any) -> Iterator[TestClient]:
    """A server over a fresh database (SQLite in ``folder``, or PostgreSQL when configured)."""
    settings = Settings(
        database_url=fresh_database_url(folder),
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

"""One store, two faces: the same TMF630 query gives the same answer through v4 and v5.

Random queries (filters on plain, enumerated and wrapped attributes, several values, sort,
offset, limit, fields) over one catalog of TMF637 products, each asked through v4 with v4
attribute paths and through v5 with the v5 paths: the same ids in the same order, the same
``X-Total-Count``, the same status (200 or 206), and the same attributes selected.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from tests.support.database import fresh_database_url
from tmfstack.settings import Settings
from tmfstack.web.app import create_app

V4 = "/tmf-api/productInventory/v4/product"
V5 = "/tmf-api/productInventory/v5/product"
STATUSES = ["created", "active", "suspended", "terminated"]
CUSTOMERS = ["c1", "c2", "c3"]
NAMES = ["Fibre 1G", "Fibre 500", "Mobile S", "mobile L", "TV"]


def product(n: int) -> dict[str, Any]:
    return {
        "name": NAMES[n % len(NAMES)],
        "status": STATUSES[n % len(STATUSES)],
        "isBundle": n % 3 == 0,
        "startDate": f"2026-0{1 + n % 9}-1{n % 10}T00:00:00Z",
        "relatedParty": [
            {"id": CUSTOMERS[n % len(CUSTOMERS)], "role": "customer", "@referredType": "Individual"},
            *([{"id": "org-b", "role": "Seller", "@referredType": "Organization"}] if n % 4 == 0 else []),
        ],
        "productOffering": {"id": f"po-{n % 5}", "name": f"offer {n % 5}"},
    }


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    folder = tmp_path_factory.mktemp("same")
    settings = Settings(database_url=fresh_database_url(folder, "same.db"), public_url="http://testserver")
    with TestClient(create_app(settings)) as client:
        for n in range(30):
            r = client.post(V4 if n % 2 else V5, json=product(n) if n % 2 else _as_v5(product(n)))
            assert r.status_code == 201, r.text
        yield client


def _as_v5(body: dict[str, Any]) -> dict[str, Any]:
    """The same product as a v5 client writes it (half the catalog is made through each version)."""
    parties = [
        {"role": p["role"], "partyOrPartyRole": {"id": p["id"], "@referredType": p["@referredType"], "@type": t}}
        for p in body["relatedParty"]
        for t in ["PartyRef"]
    ]
    return {**body, "@type": "Product", "relatedParty": parties}


#: (v4 key, v5 key, values)
FILTERS = [
    ("status", "status", STATUSES),
    ("name", "name", NAMES),
    ("isBundle", "isBundle", ["true", "false"]),
    ("relatedParty.id", "relatedParty.partyOrPartyRole.id", [*CUSTOMERS, "org-b"]),
    ("relatedParty.role", "relatedParty.role", ["customer", "Seller"]),
    ("productOffering.id", "productOffering.id", [f"po-{n}" for n in range(5)]),
    ("startDate.gte", "startDate.gte", ["2026-03-01T00:00:00Z", "2026-06-15T00:00:00Z"]),
]
SORTS = ["name", "-name", "startDate", "-startDate", "status,-name"]


@st.composite
def queries(draw: st.DrawFn) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    v4: list[tuple[str, str]] = []
    v5: list[tuple[str, str]] = []
    for old, new, values in draw(st.lists(st.sampled_from(FILTERS), max_size=3, unique_by=lambda f: f[0])):
        chosen = ",".join(draw(st.lists(st.sampled_from(values), min_size=1, max_size=2, unique=True)))
        v4.append((old, chosen))
        v5.append((new, chosen))
    common = []
    if draw(st.booleans()):
        common.append(("sort", draw(st.sampled_from(SORTS))))
    if draw(st.booleans()):
        common.append(("limit", str(draw(st.integers(1, 12)))))
        common.append(("offset", str(draw(st.integers(0, 10)))))
    if draw(st.booleans()):
        common.append(("fields", draw(st.sampled_from(["name", "status,startDate", "name,isBundle"]))))
    return v4 + common, v5 + common


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=queries())
def test_v4_and_v5_answer_a_query_alike(seeded: TestClient, query: Any) -> None:
    old, new = query
    a, b = seeded.get(V4, params=old), seeded.get(V5, params=new)
    assert a.status_code == b.status_code, (old, a.text[:200], new, b.text[:200])
    assert a.status_code in (200, 206), a.text
    assert [d["id"] for d in a.json()] == [d["id"] for d in b.json()], (old, new)
    assert a.headers["x-total-count"] == b.headers["x-total-count"]
    assert a.headers["x-result-count"] == b.headers["x-result-count"]
    for x, y in zip(a.json(), b.json(), strict=True):
        assert set(x) - {"href", "@type"} == set(y) - {"href", "@type"}
        assert y["href"].endswith(f"/v5/product/{y['id']}") and y["@type"] == "Product"

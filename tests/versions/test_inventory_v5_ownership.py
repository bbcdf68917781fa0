"""TMF637/638/639 v5: inventory records are the order manager's (``engine/ownership.py``) whichever
version writes them; the refusals are the v4 ones, in the v5 error shape."""

from __future__ import annotations

import pytest

from tests.support.security import Secured
from tests.versions.support import assert_v5_error
from tests.versions.test_inventory_v5 import ROOTS, VERSIONS, Doc

SPEC = {"id": "s1"}
CLERK = [f"tmf{api}:{a}" for api in ("637", "638", "639") for a in ("read", "write")]
#: (api, a v5 create the order manager alone makes, the v4 one)
OWNED = [
    ("637", {"@type": "Product", "name": "p", "status": "active"}, {"name": "p", "status": "active"}),
    (
        "639",
        {"@type": "Resource", "name": "n", "allocationStatus": "reserved"},
        {"name": "n", "resourceStatus": "reserved"},
    ),
    (
        "638",
        {"@type": "Service", "state": "active", "serviceSpecification": SPEC},
        {"state": "active", "serviceSpecification": SPEC},
    ),
]


@pytest.mark.parametrize(("api", "v5_body", "v4_body"), OWNED, ids=[o[0] for o in OWNED])
def test_ownership_holds_through_v5(secure: Secured, api: str, v5_body: Doc, v4_body: Doc) -> None:
    clerk = secure.login("clerk", CLERK)
    v4, v5, _, _ = ROOTS[api]
    refused_v4 = clerk.post(v4, json=v4_body)
    assert refused_v4.status_code == 409 and refused_v4.json()["code"] == "OWNED_BY_ORDER", refused_v4.text
    refused = clerk.post(v5, json=v5_body)
    assert_v5_error(VERSIONS[api], refused, 409)
    assert refused.json()["code"] == "OWNED_BY_ORDER"
    assert clerk.get(v5).json() == []


def test_a_free_resource_is_not_reserved_through_v5(secure: Secured) -> None:
    clerk = secure.login("clerk", CLERK)
    v4, v5, _, _ = ROOTS["639"]
    made = clerk.post(v5, json={"@type": "Resource", "name": "n", "allocationStatus": "available"})
    assert made.status_code == 201, made.text
    url = f"{v5}/{made.json()['id']}"
    r = clerk.patch(
        url, json={"allocationStatus": "reserved"}, headers={"content-type": "application/merge-patch+json"}
    )
    assert_v5_error(VERSIONS["639"], r, 409)
    assert clerk.get(f"{v4}/{made.json()['id']}").json()["resourceStatus"] == "available"

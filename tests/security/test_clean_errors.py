"""Input the server could refuse is refused with a TMF Error (4xx), never a 500 or a driver's text.

Walks every declared API from the registry (an API added later is covered at once): a body with
a NUL character, one nested too deep, one too large, and malformed ids on every item path.
Then the cases a review found: NUL in a query, values too long for an index, a TMF645 house
number of 5,000 digits, imported ids with '/', CR/LF or 200 KB, delivery ids int() cannot read.
Authentication is on (the ``secure`` fixture); the suite runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.security import Caller, Secured
from tmfstack import demo as demo_package
from tmfstack.apis import all_apis
from tmfstack.demo.reference import reference_data
from tmfstack.limits import Limits

CATALOG = "/tmf-api/productCatalogManagement/v4"
SERVICE_CATALOG = "/tmf-api/serviceCatalogManagement/v4"
TMF645 = "/tmf-api/serviceQualificationManagement/v4/checkServiceQualification"
LIMITS = Limits()
NUL = {"name": "a\u0000b", "description": "x"}
#: nested one level deeper than allowed, inside an extension attribute every schema lets through
DEEP = {"name": "deep", "description": "x", "extra": json.loads("[" * LIMITS.depth + "]" * LIMITS.depth)}
BAD_IDS = ["a%00b", "a%0D%0Ab", "x" * 129, "a%20b", "%C3%A9t%C3%A9"]


def _apis() -> Iterator[Any]:
    yield from all_apis()


def _error(r: httpx.Response, *statuses: int) -> dict[str, Any]:
    assert r.status_code in statuses, (r.status_code, r.text[:300])
    body = r.json()
    assert body["status"] == str(r.status_code) and body["code"] and body["reason"] and body["message"], body
    assert body["@type"] == "Error"
    return dict(body)


def _targets(api: Any) -> Iterator[tuple[str, str]]:
    """(method, path) of every operation of ``api`` that takes a JSON body, its hub included."""
    for resource, ops in sorted(api.contract.operations.items()):
        if resource not in api.served:
            continue
        if "create" in ops:
            yield "POST", f"{api.root}/{resource}"
        for op, method in (("patch", "PATCH"), ("put", "PUT")):
            if op in ops:
                yield method, f"{api.root}/{resource}/x-1"
    yield "POST", f"{api.root}/hub"


def _operator(secure: Secured) -> Caller:
    return secure.login("ops", ["operator"])


@pytest.mark.parametrize("api", list(_apis()), ids=lambda a: a.key)
def test_every_body_path_refuses_nul_deep_and_large_bodies(secure: Secured, api: Any) -> None:
    ops = _operator(secure)
    huge = b'{"name": "' + b"x" * LIMITS.body + b'"}'
    targets = list(_targets(api))
    assert targets
    for method, path in targets:
        assert _error(ops.request(method, path, json=NUL), 400)["code"] == "INVALID_VALUE", (method, path)
        key_nul = {"na\u0000me": "x"}
        assert _error(ops.request(method, path, json=key_nul), 400)["code"] == "INVALID_VALUE", (method, path)
        assert _error(ops.request(method, path, json=DEEP), 400)["code"] == "TOO_DEEP", (method, path)
        # deeper than the JSON parser's own bound: still a 400, never a RecursionError
        abyss = "[" * 5000 + "]" * 5000
        _error(ops.request(method, path, content=abyss, headers={"content-type": "application/json"}), 400)
        _error(ops.request(method, path, content=huge, headers={"content-type": "application/json"}), 413)


@pytest.mark.parametrize("api", list(_apis()), ids=lambda a: a.key)
def test_every_item_path_refuses_a_malformed_id(secure: Secured, api: Any) -> None:
    ops = _operator(secure)
    methods = {"get": "GET", "patch": "PATCH", "put": "PUT", "delete": "DELETE"}
    paths = [
        (methods[op], f"{api.root}/{resource}")
        for resource, served in sorted(api.contract.operations.items())
        if resource in api.resources
        for op in sorted(served)
        if op in methods
    ] + [("GET", f"{api.root}/hub"), ("DELETE", f"{api.root}/hub")]
    for method, base in paths:
        for bad in BAD_IDS:
            kwargs = {"json": {"name": "x"}} if method in ("PATCH", "PUT") else {}
            r = ops.request(method, f"{base}/{bad}", **kwargs)
            assert _error(r, 400)["code"] == "INVALID_ID", (method, base, bad)


def test_a_nul_in_a_query_is_a_400(secure: Secured) -> None:
    ops = _operator(secure)
    for query in ("name=a%00b", "lifecycleStatus=x%00", "id=%00", "a%00b=1", "name*=a%00"):
        body = _error(ops.get(f"{CATALOG}/productOffering?{query}"), 400)
        assert body["code"] == "INVALID_QUERY", query


def test_values_too_long_for_an_index_are_a_400(secure: Secured) -> None:
    ops = _operator(secure)
    for body in (
        {"name": "n" * (LIMITS.indexed + 1)},
        {"name": "é" * (LIMITS.indexed // 2 + 1)},  # counted in UTF-8 bytes, as the index stores them
        {"name": "ok", "@type": "T" * (LIMITS.indexed + 1)},
    ):
        assert _error(ops.post(f"{CATALOG}/productOffering", json=body), 400)["code"] == "VALUE_TOO_LONG"
    created = ops.post(f"{CATALOG}/productOffering", json={"name": "fine"}).json()
    r = ops.patch(f"{CATALOG}/productOffering/{created['id']}", json={"name": "n" * (LIMITS.indexed + 1)})
    assert _error(r, 400)["code"] == "VALUE_TOO_LONG"
    # a reference index value too (TMF622 indexes relatedParty.id)
    order = {"productOrderItem": [{"id": "1", "action": "add"}], "relatedParty": [{"id": "p" * 2000, "role": "x"}]}
    _error(ops.post("/tmf-api/productOrderingManagement/v4/productOrder", json=order), 400)


def test_paging_numbers_beyond_any_integer_column_are_a_400(secure: Secured) -> None:
    ops = _operator(secure)
    for query in ("offset=" + "9" * 30, "offset=" + "9" * 5000, "limit=" + "9" * 5000):
        assert _error(ops.get(f"{CATALOG}/productOffering?{query}"), 400)["code"] == "INVALID_QUERY"


def test_a_house_number_of_5000_digits_is_an_answer_not_a_500(secure: Secured) -> None:
    ops = _operator(secure)
    assert ops.post("/admin/reference", json=reference_data()).status_code == 200
    services = (Path(demo_package.__file__).parent / "data" / "service_catalog.json").as_uri()
    job = ops.post(f"{SERVICE_CATALOG}/importJob", json={"url": services}).json()
    assert _finish(ops, job, SERVICE_CATALOG)["status"] == "Succeeded"
    place = {"role": "installationAddress", "@type": "GeographicAddress", "postcode": "8010"}
    place.update(streetName="Sporgasse", streetNr="9" * 5000, city="Graz")
    service = {"serviceSpecification": {"id": "ss-cfs-internet-access"}, "place": [place], "@type": "Service"}
    items = [{"id": "1", "service": service, "@type": "CheckServiceQualificationItem"}]
    r = ops.post(TMF645, json={"instantSyncQualification": True, "serviceQualificationItem": items})
    assert r.status_code == 200, r.text[:300]
    [answer] = r.json()["serviceQualificationItem"]  # the number is read as none: the street decides
    assert answer["state"] == "done" and answer["qualificationResult"], answer
    # the same address in reference data is refused as data, not with a ValueError
    data = {"areas": [{"postcode": "8010", "street": "Sporgasse", "streetNr": "9" * 5000, "region": "x"}]}
    assert ops.post("/admin/reference", json=data).status_code == 400


def test_delivery_ids_int_cannot_read_are_404s(secure: Secured) -> None:
    ops = _operator(secure)
    for raw in ("%C2%B2", "9" * 5000, "9" * 30):
        r = ops.post(f"/admin/deliveries/{raw}/redeliver")
        assert _error(r, 404)["code"] == "NOT_FOUND", raw


def _finish(ops: Caller, job: dict[str, Any], root: str = CATALOG) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        current = dict(ops.get(f"{root}/importJob/{job['id']}").json())
        if current["status"] in ("Succeeded", "Failed"):
            return current
        assert time.monotonic() < deadline, current
        time.sleep(0.05)


def test_imported_ids_follow_the_one_id_rule(secure: Secured, tmp_path: Path) -> None:
    ops = _operator(secure)
    bad = ["a/b", "a\r\nFAKE LOG LINE", "x" * 200_000, "", "a b", 3.5]
    entities = [{"id": i, "name": f"offering {n}"} for n, i in enumerate(bad)]
    entities += [{"id": "ok-1", "name": "fine"}, {"id": "nul", "name": "a\u0000b"}]
    entities += [{"id": "deep", "name": "d", "extra": json.loads("[" * 100 + "]" * 100)}]
    source = tmp_path / "ids.json"
    source.write_text(json.dumps({"productOffering": entities}))
    r = ops.post(f"{CATALOG}/importJob", json={"url": source.as_uri()})
    assert r.status_code == 201, r.text
    job = _finish(ops, r.json())
    assert job["status"] == "Failed"
    log = job["errorLog"]
    assert log.startswith("created 1, already present 0, failed 8"), log[:300]
    assert "\nFAKE LOG LINE" not in log and len(log) < 10_000, log[:300]
    assert log.count("INVALID_ID") == 0 and log.count("is not a valid id") == 6
    assert "NUL" in log and "nested deeper" in log
    listed = ops.get(f"{CATALOG}/productOffering").json()
    assert [o["id"] for o in listed] == ["ok-1"]


def test_an_import_file_nested_beyond_the_parser_ends_the_job(secure: Secured, tmp_path: Path) -> None:
    ops = _operator(secure)
    source = tmp_path / "abyss.json"
    source.write_text('{"productOffering": [' + "[" * 5000 + "]" * 5000 + "]}")
    r = ops.post(f"{CATALOG}/importJob", json={"url": source.as_uri()})
    job = _finish(ops, r.json())
    assert job["status"] == "Failed" and "not valid JSON" in job["errorLog"], job

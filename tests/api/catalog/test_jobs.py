"""importJob and exportJob: asynchronous catalog import from and export to file:// URLs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.support.assertions import assert_error, assert_valid
from tests.support.jobs import SAMPLE, finish, start, write
from tests.support.ordering import CATALOG, DEMO_FILE
from tmfstack.settings import Settings

DEMO = DEMO_FILE
ENTITIES = {
    "catalog": "Catalog",
    "category": "Category",
    "productOffering": "ProductOffering",
    "productOfferingPrice": "ProductOfferingPrice",
    "productSpecification": "ProductSpecification",
}


def run_import(client: TestClient, source: Path, **extra: Any) -> dict[str, Any]:
    return finish(client, "importJob", start(client, "importJob", url=source.as_uri(), **extra))


def ids(client: TestClient, resource: str) -> list[str]:
    return sorted(d["id"] for d in client.get(f"{CATALOG}/{resource}", params={"limit": "1000"}).json())


def test_import_succeeds(client: TestClient, tmp_path: Path) -> None:
    job = run_import(client, write(tmp_path / "sample.json", SAMPLE))
    assert job["status"] == "Succeeded", job
    assert job["errorLog"].splitlines()[0] == "created 4, already present 0, failed 0"
    assert ids(client, "productOffering") == ["po-1", "po-2"]
    assert ids(client, "productSpecification") == ["ps-1"]
    assert ids(client, "category") == ["cat-1"]
    offering = client.get(f"{CATALOG}/productOffering/po-1").json()
    assert offering["lifecycleStatus"] == "Launched"  # canonical spelling
    assert offering["href"].endswith(f"{CATALOG}/productOffering/po-1")
    assert offering["productSpecification"] == {"id": "ps-1"}
    assert_valid("620", "ProductOffering", offering)


def test_import_with_an_invalid_entity(client: TestClient, tmp_path: Path) -> None:
    data = {
        "productOffering": [
            {"id": "good-1", "name": "Good"},
            {"id": "bad-1", "name": 42},
            {"id": "good-2", "name": "Also good"},
        ]
    }
    job = run_import(client, write(tmp_path / "mixed.json", data))
    assert job["status"] == "Failed", job
    log = job["errorLog"]
    assert log.splitlines()[0] == "created 2, already present 0, failed 1"
    assert "bad-1" in log and "name" in log
    assert "good-1" not in log and "good-2" not in log
    assert ids(client, "productOffering") == ["good-1", "good-2"]
    assert_error(client.get(f"{CATALOG}/productOffering/bad-1"), 404, spec="620")


def test_import_refuses_unknown_state_and_non_catalog_resources(client: TestClient, tmp_path: Path) -> None:
    data = {
        "productOffering": [{"id": "po-x", "name": "x", "lifecycleStatus": "Draft"}, {"id": "po-ok", "name": "ok"}],
        "importJob": [{"id": "job-x", "url": "file:///nowhere.json"}],
    }
    job = run_import(client, write(tmp_path / "odd.json", data))
    assert job["status"] == "Failed"
    assert job["errorLog"].splitlines()[0] == "created 1, already present 0, failed 2"
    assert "po-x" in job["errorLog"] and "importJob" in job["errorLog"]
    assert ids(client, "productOffering") == ["po-ok"]
    assert_error(client.get(f"{CATALOG}/importJob/job-x"), 404, spec="620")


def test_second_import_creates_nothing_new(client: TestClient, tmp_path: Path) -> None:
    source = write(tmp_path / "sample.json", SAMPLE)
    assert run_import(client, source)["status"] == "Succeeded"
    before = {r: client.get(f"{CATALOG}/{r}").json() for r in ENTITIES}
    again = run_import(client, source)
    assert again["status"] == "Succeeded", again
    assert again["errorLog"].splitlines()[0] == "created 0, already present 4, failed 0"
    assert {r: client.get(f"{CATALOG}/{r}").json() for r in ENTITIES} == before


def test_import_list_of_typed_entities(client: TestClient, tmp_path: Path) -> None:
    data = [
        {"@type": "ProductOffering", "id": "po-t", "name": "Typed"},
        {"@type": "Category", "id": "cat-t", "name": "Typed category"},
    ]
    job = run_import(client, write(tmp_path / "typed.json", data))
    assert job["status"] == "Succeeded", job
    assert ids(client, "productOffering") == ["po-t"]
    assert ids(client, "category") == ["cat-t"]


def test_import_missing_file_fails(client: TestClient, tmp_path: Path) -> None:
    job = run_import(client, tmp_path / "does-not-exist.json")
    assert job["status"] == "Failed"
    assert "does-not-exist.json" in job["errorLog"]
    assert all(client.get(f"{CATALOG}/{r}").json() == [] for r in ENTITIES)


def test_import_not_json_fails(client: TestClient, tmp_path: Path) -> None:
    source = tmp_path / "garbage.json"
    source.write_text("this is not json", encoding="utf-8")
    job = run_import(client, source)
    assert job["status"] == "Failed"
    assert "garbage.json" in job["errorLog"]


def test_import_job_server_owned_attributes_refused(client: TestClient, tmp_path: Path) -> None:
    url = write(tmp_path / "sample.json", SAMPLE).as_uri()
    for attribute, value in [("status", "Succeeded"), ("errorLog", "none"), ("id", "chosen")]:
        body = assert_error(client.post(f"{CATALOG}/importJob", json={"url": url, attribute: value}), 400, spec="620")
        assert attribute in body["message"]
    assert_error(
        client.post(f"{CATALOG}/importJob", json={"path": "productOffering"}), 400, spec="620"
    )  # url is required
    assert client.get(f"{CATALOG}/importJob").json() == []


def test_export_with_query(client: TestClient, settings: Settings) -> None:
    statuses = ["Launched", "In design", "Launched", "Retired", "launched"]
    created = []
    for i, status in enumerate(statuses):
        response = client.post(f"{CATALOG}/productOffering", json={"name": f"Offer {i}", "lifecycleStatus": status})
        created.append(response.json())
    client.post(f"{CATALOG}/category", json={"name": "Not exported", "lifecycleStatus": "Launched"})
    target = settings.export_dir / "out" / "launched.json"  # a sub-folder of the export folder is created
    job = start(client, "exportJob", url=target.as_uri(), path="productOffering", query="lifecycleStatus=Launched")
    job = finish(client, "exportJob", job)
    assert job["status"] == "Succeeded", job
    assert job["url"] == target.as_uri()
    assert target.exists()
    data = json.loads(target.read_text(encoding="utf-8"))
    assert list(data) == ["productOffering"]
    expected = [doc for doc in created if doc["lifecycleStatus"] == "Launched"]
    assert len(expected) == 3
    assert sorted(data["productOffering"], key=lambda d: d["id"]) == sorted(expected, key=lambda d: d["id"])
    assert_valid("620", "ProductOffering", data["productOffering"])
    assert "3" in job["errorLog"]


def test_export_everything(client: TestClient, settings: Settings) -> None:
    for resource in ENTITIES:
        client.post(f"{CATALOG}/{resource}", json={"name": f"One {resource}"})
    target = settings.export_dir / "all.json"
    job = finish(client, "exportJob", start(client, "exportJob", url=target.as_uri()))
    assert job["status"] == "Succeeded", job
    data = json.loads(target.read_text(encoding="utf-8"))
    assert set(data) == set(ENTITIES)
    for resource, entity in ENTITIES.items():
        assert [d["name"] for d in data[resource]] == [f"One {resource}"]
        assert_valid("620", entity, data[resource])


def test_export_unknown_path_fails(client: TestClient, settings: Settings) -> None:
    target = settings.export_dir / "never.json"
    job = finish(client, "exportJob", start(client, "exportJob", url=target.as_uri(), path="productOrder"))
    assert job["status"] == "Failed"
    assert "productOrder" in job["errorLog"]
    assert not target.exists()


def test_export_bad_query_fails(client: TestClient, settings: Settings) -> None:
    target = settings.export_dir / "never.json"
    job = start(client, "exportJob", url=target.as_uri(), path="productOffering", query="limit=abc")
    job = finish(client, "exportJob", job)
    assert job["status"] == "Failed"
    assert "limit" in job["errorLog"]
    assert not target.exists()


@pytest.mark.parametrize("kind", ["importJob", "exportJob"])
def test_jobs_do_not_allow_patch(client: TestClient, settings: Settings, kind: str) -> None:
    url = (settings.export_dir / "x.json").as_uri()  # inside both folders (the export folder is in the import one)
    job = finish(client, kind, start(client, kind, url=url))
    response = client.patch(f"{CATALOG}/{kind}/{job['id']}", json={"status": "Running"})
    assert_error(response, 405, spec="620")
    assert "PATCH" not in response.headers["allow"]
    assert client.get(f"{CATALOG}/{kind}/{job['id']}").json() == job
    assert client.delete(f"{CATALOG}/{kind}/{job['id']}").status_code == 204
    assert_error(client.get(f"{CATALOG}/{kind}/{job['id']}"), 404, spec="620")


def test_demo_catalog_imports(client: TestClient) -> None:
    demo = json.loads(DEMO.read_text(encoding="utf-8"))
    job = run_import(client, DEMO)
    assert job["status"] == "Succeeded", job["errorLog"]
    count = sum(len(items) for items in demo.values())
    assert job["errorLog"].splitlines()[0] == f"created {count}, already present 0, failed 0"
    for resource, items in demo.items():
        listed = client.get(f"{CATALOG}/{resource}", params={"limit": "1000"}).json()
        assert sorted(d["id"] for d in listed) == sorted(e["id"] for e in items)
        assert_valid("620", ENTITIES[resource], listed)


def test_export_then_import_round_trip(client: TestClient, tmp_path: Path, settings: Settings) -> None:
    assert run_import(client, write(tmp_path / "sample.json", SAMPLE))["status"] == "Succeeded"
    target = settings.export_dir / "export.json"
    assert finish(client, "exportJob", start(client, "exportJob", url=target.as_uri()))["status"] == "Succeeded"
    # importing the export into the same database: everything is already there
    job = run_import(client, target)
    assert job["status"] == "Succeeded", job["errorLog"]
    assert job["errorLog"].splitlines()[0] == "created 0, already present 4, failed 0"


def test_import_error_label_is_the_position_in_its_array(client: TestClient, tmp_path: Path) -> None:
    data = {"category": [{"id": "c-1", "name": "ok"}], "productOffering": [{"id": "bad", "name": 1}]}
    job = run_import(client, write(tmp_path / "label.json", data))
    assert job["status"] == "Failed"
    assert "productOffering[0]" in job["errorLog"], job["errorLog"]

"""Catalog importJob and exportJob through HTTP (TMF620): start one, wait until it ends, write a file to import."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from tests.support.assertions import assert_valid
from tests.support.ordering import CATALOG
from tests.support.polling import wait_until


def start(client: TestClient, kind: str, **body: Any) -> dict[str, Any]:
    response = client.post(f"{CATALOG}/{kind}", json=body)
    assert response.status_code == 201, response.text
    job = response.json()
    assert_valid("620", kind[0].upper() + kind[1:], job)
    assert response.headers["location"] == job["href"]
    assert job["status"] in ("Not Started", "Running", "Succeeded", "Failed")
    return job


def finish(client: TestClient, kind: str, job: dict[str, Any], timeout: float = 10.0) -> dict[str, Any]:
    """Poll the job until it is Succeeded or Failed."""

    def read() -> dict[str, Any]:
        response = client.get(f"{CATALOG}/{kind}/{job['id']}")
        assert response.status_code == 200, response.text
        return response.json()

    current = wait_until(
        read, lambda now: now["status"] in ("Succeeded", "Failed"), timeout, f"{kind} {job['id']} ended"
    )
    assert_valid("620", kind[0].upper() + kind[1:], current)
    assert current["completionDate"] >= current["creationDate"]
    return current


def write(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


SAMPLE = {
    "productSpecification": [{"id": "ps-1", "name": "Line", "lifecycleStatus": "Launched"}],
    "productOffering": [
        {"id": "po-1", "name": "Mobile S", "lifecycleStatus": "launched", "productSpecification": {"id": "ps-1"}},
        {"id": "po-2", "name": "Mobile L", "lifecycleStatus": "In design"},
    ],
    "category": [{"id": "cat-1", "name": "Mobile", "isRoot": True}],
}

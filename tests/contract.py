"""Contract checks against the official TMF620 v4.1.0 Swagger file (not tmfstack's generated copy).

assert_valid("ProductOffering", body)   # an object, or each item of a list
assert_error(response, 404)             # a TMF Error body with the right status
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs

SPEC = Path(__file__).resolve().parents[2] / "shared/specs/TMF620-ProductCatalog-v4.1.0.swagger.json"


@cache
def definitions() -> dict[str, Any]:
    return json.loads(SPEC.read_text(encoding="utf-8"))["definitions"]


@cache
def _validator(entity: str) -> Any:
    defs = definitions()
    assert entity in defs, f"{entity!r} is not a definition of {SPEC.name}"
    return jsonschema_rs.Draft4Validator({"$ref": f"#/definitions/{entity}", "definitions": defs})


def problems(entity: str, body: Any) -> list[str]:
    items = body if isinstance(body, list) else [body]
    out = []
    for index, item in enumerate(items):
        where = f"[{index}]" if isinstance(body, list) else ""
        for err in _validator(entity).iter_errors(item):
            path = "/".join(str(p) for p in err.instance_path)
            out.append(f"{entity}{where} /{path}: {err.message}")
    return out


def assert_valid(entity: str, body: Any) -> None:
    """Fail with every schema message when ``body`` (or any item of it) breaks ``entity``."""
    found = problems(entity, body)
    assert not found, "response does not match the official schema:\n" + "\n".join(found)


def assert_error(response: Any, status: int) -> dict[str, Any]:
    """The response has ``status`` and a TMF Error body consistent with it; returns the body."""
    assert response.status_code == status, (response.status_code, response.text)
    body = response.json()
    assert isinstance(body, dict), body
    for key in ("code", "reason", "message", "status", "@type"):
        assert isinstance(body.get(key), str) and body[key], f"Error body lacks {key!r}: {body}"
    assert body["status"] == str(status), body
    assert_valid("Error", body)
    return body

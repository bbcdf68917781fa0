"""Contract checks against the official Swagger files in ../shared/specs, never tmfstack's generated copies.

A spec is named by its API number (``"622"``) or given as the path of a file::

    assert_valid("622", "ProductOrder", body)   # an object, or each item of a list
    assert_error(response, 409, spec="620")     # a TMF Error body with the right status (and code)
    assert_event("641", body)                   # a delivered event, against its own event definition

References to definitions a file does not define (TMF685 v1 names ``int``, ``ResourceCharacteristic``,
``ResourceRelationship`` and ``BundledProductOfferingRef`` without defining them) accept anything.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs

SPECS = Path(__file__).resolve().parents[3] / "shared/specs"
#: the official file of each API number the tests check against
FILES = {
    "620": "TMF620-ProductCatalog-v4.1.0.swagger.json",
    "622": "TMF622-ProductOrder-v4.0.0.swagger.json",
    "632": "TMF632-Party-v4.0.0.swagger.json",
    "633": "TMF633-ServiceCatalog-v4.0.0.swagger.json",
    "634": "TMF634-ResourceCatalog-v4.1.0.swagger.json",
    "637": "TMF637-ProductInventory-v4.0.0.swagger.json",
    "638": "TMF638-ServiceInventory-v4.0.0.swagger.json",
    "639": "TMF639-ResourceInventory-v4.0.0.swagger.json",
    "640": "TMF640-ServiceActivation-v4.0.0.swagger.json",
    "641": "TMF641-ServiceOrdering-v4.1.0.swagger.json",
    "645": "TMF645-ServiceQualification-v4.0.1.swagger.json",
    "652": "TMF652-ResourceOrder-v4.0.0.swagger.json",
    "669": "TMF669-PartyRole-v4.0.0.swagger.json",
    "679": "TMF679-ProductOfferingQualification-v4.0.0.swagger.json",
    "685": "TMF685-Resource_Pool_Management-v1.0.regular.swagger.json",
}

Spec = Path | str
Doc = dict[str, Any]


def spec_file(spec: Spec) -> Path:
    """The official file of an API number, or ``spec`` itself when it is a path."""
    return SPECS / FILES[spec] if isinstance(spec, str) else spec


TMF620_SPEC = spec_file("620")
TMF622_SPEC = spec_file("622")
TMF637_SPEC = spec_file("637")
TMF641_SPEC = spec_file("641")
TMF685_SPEC = spec_file("685")


@cache
def _definitions(path: Path) -> dict[str, Any]:
    defs = json.loads(path.read_text(encoding="utf-8"))["definitions"]

    def fix(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/definitions/") and ref.rsplit("/", 1)[1] not in defs:
                return {}
            return {k: fix(v) for k, v in node.items()}
        if isinstance(node, list):
            return [fix(v) for v in node]
        return node

    return fix(defs)


def definitions(spec: Spec) -> dict[str, Any]:
    """The file's definitions, references to definitions it lacks opened up to ``{}`` (see tools/gen_specs.py)."""
    return _definitions(spec_file(spec))


@cache
def _validator(path: Path, entity: str) -> Any:
    defs = _definitions(path)
    assert entity in defs, f"{entity!r} is not a definition of {path.name}"
    return jsonschema_rs.Draft4Validator(
        {"$ref": f"#/definitions/{entity}", "definitions": defs}, validate_formats=True
    )


def problems(spec: Spec, entity: str, body: Any) -> list[str]:
    """Every schema message for ``body`` (or each item of a list) as an ``entity`` of ``spec``."""
    items = body if isinstance(body, list) else [body]
    out = []
    for index, item in enumerate(items):
        where = f"[{index}]" if isinstance(body, list) else ""
        for err in _validator(spec_file(spec), entity).iter_errors(item):
            path = "/".join(str(p) for p in err.instance_path)
            out.append(f"{entity}{where} /{path}: {err.message}")
    return out


def assert_valid(spec: Spec, entity: str, body: Any) -> None:
    """``body`` (or each item of a list) is a valid ``entity`` of the official ``spec`` file."""
    found = problems(spec, entity, body)
    assert not found, f"response does not match {spec_file(spec).name}:\n" + "\n".join(found[:20])


def assert_error(response: Any, status: int, code: str | None = None, spec: Spec = "622") -> Doc:
    """The response has ``status`` and a TMF Error body consistent with it (and ``code``); returns the body."""
    assert response.status_code == status, (response.status_code, response.text)
    body = response.json()
    assert isinstance(body, dict), body
    for key in ("code", "reason", "message", "status", "@type"):
        assert isinstance(body.get(key), str) and body[key], f"Error body lacks {key!r}: {body}"
    assert body["status"] == str(status), body
    # TMF685 v1.0 types code, reason and status as integers, unlike every v4 API; its errors are
    # held to the common v4 Error (TMF641's) instead
    assert_valid("641" if spec_file(spec) == TMF685_SPEC else spec, "Error", body)
    if code is not None:
        assert body["code"] == code, body
    return body


def assert_event(spec: Spec, body: Doc) -> None:
    """A delivered event validates against its own event definition of ``spec``."""
    event_type = body.get("eventType")
    assert event_type in definitions(spec), f"{event_type!r} is not an event of {spec_file(spec).name}"
    assert_valid(spec, event_type, body)

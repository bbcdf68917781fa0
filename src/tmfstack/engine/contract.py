"""The machine-readable contract of one API, loaded from ``_generated/<key>.json``.

The generated file is derived from the official TM Forum spec by ``tools/gen_specs.py``.
This module turns it into validators (create / update / response per entity) and
answers schema questions the query parser asks (is ``relatedParty`` an array?).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import jsonschema_rs
import orjson

from ..errors import BadRequest

_MAX_ERRORS = 5


def _pointer(path: list[str | int]) -> str:
    return ".".join(str(p) for p in path) or "(body)"


@dataclass
class Contract:
    key: str
    source: str
    base_path: str
    operations: dict[str, frozenset[str]]
    events: frozenset[str]
    definitions: dict[str, Any]
    #: operations of sub-resources, parent -> child -> operations (``/topic/{topicId}/event``)
    children: dict[str, dict[str, frozenset[str]]] = field(default_factory=dict)
    #: per resource, the schemas an OAS 3 file names for it ({"create": "X_FVO", "patch": "X_MVO", "entity": "X"})
    named: dict[str, dict[str, str]] = field(default_factory=dict)
    draft: int = 4
    _validators: dict[str, Any] = field(default_factory=dict, repr=False)

    def served(self, path: str) -> frozenset[str] | None:
        """Operations of a resource path: "topic" or, for a sub-resource, "topic/event"."""
        parent, _, child = path.rpartition("/")
        if parent:
            return self.children.get(parent, {}).get(child)
        return self.operations.get(path)

    def schemas(self, resource: str) -> dict[str, str]:
        return self.named.get(resource, {})

    def has(self, definition: str) -> bool:
        return definition in self.definitions

    def validator(self, definition: str) -> Any:
        found = self._validators.get(definition)
        if found is None:
            schema = {"$ref": f"#/definitions/{definition}", "definitions": self.definitions}
            make = jsonschema_rs.Draft7Validator if self.draft == 7 else jsonschema_rs.Draft4Validator
            found = self._validators[definition] = make(schema)
        return found

    def errors(self, definition: str, instance: Any) -> list[str]:
        validator = self.validator(definition)
        if validator.is_valid(instance):  # the common case, without building error objects
            return []
        out = []
        for err in validator.iter_errors(instance):
            out.append(f"{_pointer(list(err.instance_path))}: {err.message}")
            if len(out) >= _MAX_ERRORS:
                break
        return out

    def validate(self, definition: str, instance: Any) -> None:
        """Raise a 400 that names each offending attribute and why."""
        problems = self.errors(definition, instance)
        if problems:
            raise BadRequest(
                f"{definition} is not valid: " + "; ".join(problems),
                code="SCHEMA_VIOLATION",
                reason="Request body does not match the schema",
            )

    def properties(self, definition: str) -> dict[str, Any]:
        return self._resolve(self.definitions.get(definition, {})).get("properties", {})

    def _resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        seen = 0
        while "$ref" in node and seen < 20:
            node = self.definitions.get(node["$ref"].rsplit("/", 1)[-1], {})
            seen += 1
        if "allOf" in node:  # v5 style inheritance: merge the parts' properties
            merged: dict[str, Any] = {"properties": {}}
            for part in node["allOf"]:
                merged["properties"].update(self._resolve(part).get("properties", {}))
            merged["properties"].update(node.get("properties", {}))
            return merged
        return node

    def path_kind(self, definition: str, path: list[str]) -> str:
        """Classify a dotted attribute path against the schema.

        Returns "scalar" or "object" for a known path, "unknown" where the schema says
        nothing (extension attributes stay queryable), and "invalid" where the path
        goes *into* a scalar (``name.foo``), which no document can satisfy.
        """
        node = self._resolve(self.definitions.get(definition, {}))
        for i, part in enumerate(path):
            while node.get("type") == "array" or "items" in node:
                node = self._resolve(node.get("items", {}))
            props = node.get("properties")
            if props is None:
                if node.get("type") in {"string", "number", "integer", "boolean"}:
                    return "invalid"
                return "unknown"
            if part not in props:
                return "unknown"
            node = self._resolve(props[part])
            if i == len(path) - 1:
                break
        while node.get("type") == "array" or "items" in node:
            node = self._resolve(node.get("items", {}))
        if node.get("type") in {"string", "number", "integer", "boolean"}:
            return "scalar"
        return "object" if "properties" in node else "unknown"


#: an official file's name: TMF number, then the title, then "-v<major>." (e.g. "-v4.1.0.", "-v1.0.regular.")
_SPEC_FILE = re.compile(r"^(TMF\d+)-.+-v(\d+)\.")


def contract_key(spec_file: str) -> str:
    """The generated contract of an official spec file (``tools/gen_specs.py`` names it the same way):
    ``TMF641-ServiceOrdering-v4.1.0.swagger.json`` -> ``tmf641_v4``."""
    found = _SPEC_FILE.match(spec_file)
    if found is None:
        raise ValueError(f"{spec_file!r} is not an official spec file name (TMFnnn-Title-vN...)")
    return f"{found.group(1).lower()}_v{found.group(2)}"


@cache
def load_contract(key: str) -> Contract:
    raw = resources.files("tmfstack._generated").joinpath(f"{key}.json").read_bytes()
    data = orjson.loads(raw)
    return Contract(
        key=key,
        source=data["source"],
        base_path=data["basePath"],
        operations={name: frozenset(r["operations"]) for name, r in data["resources"].items()},
        events=frozenset(data["events"]),
        definitions=data["definitions"],
        children={
            parent: {name: frozenset(r["operations"]) for name, r in kids.items()}
            for parent, kids in data.get("subResources", {}).items()
        },
        named={name: r["schemas"] for name, r in data["resources"].items() if "schemas" in r},
        draft=data.get("draft", 4),
    )

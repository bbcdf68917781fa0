"""The machine-readable contract of one API, loaded from ``_generated/<key>.json``.

The generated file is derived from the official TM Forum spec by ``tools/gen_specs.py``.
This module turns it into validators (create / update / response per entity) and
answers schema questions the query parser asks (is ``relatedParty`` an array?).

A v4 contract (Swagger 2) validates with Draft 4. A v5 contract (OpenAPI 3) says ``"draft": 7``: its
discriminated schemas dispatch on ``@type`` with ``if``/``then``/``else``, and a discriminated base ``B``
also has its plain form ``B__base`` (what subclasses ``allOf``, and what an unmapped ``@type`` meets).
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
    #: "" when the file names none (several v5 files say only ``https://serverRoot``)
    base_path: str
    operations: dict[str, frozenset[str]]
    events: frozenset[str]
    definitions: dict[str, Any]
    #: operations of sub-resources, parent -> child -> operations (``/topic/{topicId}/event``)
    children: dict[str, dict[str, frozenset[str]]] = field(default_factory=dict)
    #: JSON Schema draft of ``definitions``: 4 (v4 files) or 7 (v5 files)
    draft: int = 4
    #: resource -> {"create": ..., "patch": ..., "entity": ...} schema names the file's operations use (v5)
    resource_schemas: dict[str, dict[str, str]] = field(default_factory=dict)
    _validators: dict[str, Any] = field(default_factory=dict, repr=False)

    def served(self, path: str) -> frozenset[str] | None:
        """Operations of a resource path: "topic" or, for a sub-resource, "topic/event"."""
        parent, _, child = path.rpartition("/")
        if parent:
            return self.children.get(parent, {}).get(child)
        return self.operations.get(path)

    def has(self, definition: str) -> bool:
        return definition in self.definitions

    def schemas(self, resource: str) -> dict[str, str]:
        """The create / patch / entity schema names of a resource (``{}`` where the file does not say: v4)."""
        return self.resource_schemas.get(resource, {})

    def validator(self, definition: str) -> Any:
        found = self._validators.get(definition)
        if found is None:
            schema = {"$ref": f"#/definitions/{definition}", "definitions": self.definitions}
            kind = jsonschema_rs.Draft7Validator if self.draft == 7 else jsonschema_rs.Draft4Validator
            found = self._validators[definition] = kind(schema)
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

    def _resolve(self, node: dict[str, Any], depth: int = 0) -> dict[str, Any]:
        seen = 0
        while "$ref" in node and seen < 20:
            node = self.definitions.get(node["$ref"].rsplit("/", 1)[-1], {})
            seen += 1
        variants = _variants(node)
        if ("allOf" not in node and not variants) or depth > 12:
            return node
        # v5 style inheritance: merge the parts' properties, the node's own last (they win)
        merged: dict[str, Any] = {"properties": {}}
        for part in node.get("allOf", []):
            merged["properties"].update(self._resolve(part, depth + 1).get("properties", {}))
        merged["properties"].update(node.get("properties", {}))
        # polymorphism (a dispatcher's branches, oneOf/anyOf options): any variant's attribute is known,
        # the first variant naming it (the plain base comes first) says what it is
        for variant in variants:
            for name, schema in self._resolve(variant, depth + 1).get("properties", {}).items():
                merged["properties"].setdefault(name, schema)
        if not merged["properties"] and "type" in node:
            return node
        return merged

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
                if _scalar(node):
                    return "invalid"
                return "unknown"
            if part not in props:
                return "unknown"
            node = self._resolve(props[part])
            if i == len(path) - 1:
                break
        while node.get("type") == "array" or "items" in node:
            node = self._resolve(node.get("items", {}))
        if _scalar(node):
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
        base_path=data["basePath"] or "",
        operations={name: frozenset(r["operations"]) for name, r in data["resources"].items()},
        events=frozenset(data["events"]),
        definitions=data["definitions"],
        children={
            parent: {name: frozenset(r["operations"]) for name, r in kids.items()}
            for parent, kids in data.get("subResources", {}).items()
        },
        draft=data.get("draft", 4),
        resource_schemas={name: r["schemas"] for name, r in data["resources"].items() if "schemas" in r},
    )


_SCALARS = {"string", "number", "integer", "boolean"}


def _scalar(node: dict[str, Any]) -> bool:
    """A scalar type, also nullable (``["string", "null"]``, from an OAS ``nullable``)."""
    kind = node.get("type")
    if isinstance(kind, list):
        return bool(_SCALARS.intersection(kind)) and set(kind) <= _SCALARS | {"null"}
    return kind in _SCALARS


def _variants(node: dict[str, Any]) -> list[dict[str, Any]]:
    """The alternatives of a polymorphic schema: a dispatcher's plain form (its last ``else``) first, then
    its branches; or the options of ``anyOf``/``oneOf``."""
    out: list[dict[str, Any]] = []
    while "if" in node:
        if "then" in node:
            out.append(node["then"])
        node = node.get("else", {})
    if out:
        return [node, *out]
    return [*node.get("anyOf", []), *node.get("oneOf", [])]
